/**
 * Per-endpoint rate limits the engine respects across every mailbox of every batch and every worker: messages per
 * second, bytes per second and a byte budget per UTC day, each for one direction of one endpoint (`download`: the
 * source's FETCHes, `upload`: the destination's APPENDs). The shared state lives in PostgreSQL
 * (`db/endpoint-rates.ts` implements {@link RateBuckets}); this module holds the types, the scheduling rule that
 * state follows ({@link scheduleTransfer}, pure) and the wait a sync does ({@link waitForTransfer}).
 *
 * The rule is virtual scheduling (a token bucket without burst): each bucket remembers when it is free again;
 * a reservation of a whole chunk (one MULTIAPPEND batch's messages and bytes) starts when the bucket is free and
 * moves that time on by what the chunk costs at the limit. Reservations are served in the order they were made,
 * so mailboxes sharing an endpoint take turns chunk by chunk.
 */
import type { Side } from './errors';

export type TransferDirection = 'download' | 'upload';

export const directionOf = (side: Side): TransferDirection => (side === 'source' ? 'download' : 'upload');

/** One direction's limits; null = none. */
export interface RateLimits {
  messagesPerSecond: number | null;
  bytesPerSecond: number | null;
  /** Bytes per UTC day over all mailboxes of the endpoint. */
  bytesPerDay: number | null;
  /** Bytes per UTC day of each mailbox (Gmail's IMAP download and upload quotas are per user). */
  mailboxBytesPerDay: number | null;
}

export type EndpointRateLimits = Record<TransferDirection, RateLimits>;

/** What an endpoint overrides of its provider's limits: a figure, null for no limit, absent for the default. */
export type RateLimitOverrides = Partial<Record<TransferDirection, Partial<RateLimits>>>;

export const NO_RATE_LIMITS: RateLimits = {
  messagesPerSecond: null,
  bytesPerSecond: null,
  bytesPerDay: null,
  mailboxBytesPerDay: null,
};

/** The provider's limits with the endpoint's overrides on top. */
export function effectiveRateLimits(defaults: EndpointRateLimits, overrides: RateLimitOverrides): EndpointRateLimits {
  return {
    download: { ...defaults.download, ...overrides.download },
    upload: { ...defaults.upload, ...overrides.upload },
  };
}

export const isUnlimited = (l: RateLimits): boolean => Object.values(l).every((v) => v === null);

/** One bucket's state: when each rate is free again (ms since the epoch). */
export interface BucketState {
  messagesFreeAt: number;
  bytesFreeAt: number;
}

/** Bytes already reserved today (UTC) in the bucket's direction: on the whole endpoint, and by this mailbox. */
export interface DayUsage {
  endpointBytes: number;
  mailboxBytes: number;
}

export interface TransferRequest {
  messages: number;
  bytes: number;
}

export type Schedule =
  { kind: 'go'; /** How long to wait before the chunk may go. */ waitMs: number; state: BucketState } | BudgetSpent;

export interface BudgetSpent {
  kind: 'budget';
  /** Whose budget: the endpoint's, or the mailbox's own (Gmail's quotas are per user). */
  scope: 'endpoint' | 'mailbox';
  /** The start of the next UTC day, in ms since the epoch. */
  resumesAt: number;
}

/** The UTC day of `ms`, as YYYY-MM-DD. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/**
 * Where a chunk goes in a bucket at `now`: its wait and the bucket's new state, or `budget` when a daily budget
 * would run over. A chunk larger than a whole budget goes alone on a fresh day, or it would never go.
 */
export function scheduleTransfer(
  limits: RateLimits,
  state: BucketState,
  usage: DayUsage,
  request: TransferRequest,
  now: number,
): Schedule {
  const over = (used: number, budget: number | null) => budget !== null && used > 0 && used + request.bytes > budget;
  if (over(usage.endpointBytes, limits.bytesPerDay)) {
    return { kind: 'budget', scope: 'endpoint', resumesAt: nextUtcMidnight(now) };
  }
  if (over(usage.mailboxBytes, limits.mailboxBytesPerDay)) {
    return { kind: 'budget', scope: 'mailbox', resumesAt: nextUtcMidnight(now) };
  }
  const { messagesPerSecond: mps, bytesPerSecond: bps } = limits;
  const start = Math.max(now, mps !== null ? state.messagesFreeAt : now, bps !== null ? state.bytesFreeAt : now);
  const freeAfter = (count: number, perSecond: number | null, freeAt: number) =>
    perSecond !== null ? start + (count / perSecond) * 1000 : freeAt;
  return {
    kind: 'go',
    waitMs: start - now,
    state: {
      messagesFreeAt: freeAfter(request.messages, mps, state.messagesFreeAt),
      bytesFreeAt: freeAfter(request.bytes, bps, state.bytesFreeAt),
    },
  };
}

/** The shared buckets of one sync's two endpoints (see `db/endpoint-rates.ts`). */
export interface RateBuckets {
  /** The limits in effect on the side's endpoint, in the direction of that side. */
  limits(side: Side): Promise<RateLimits>;
  /** Reserves a chunk on the side's endpoint, in the direction of that side. */
  reserve(side: Side, request: TransferRequest): Promise<{ kind: 'go'; waitMs: number } | BudgetSpent>;
}

/**
 * Messages and bytes per MULTIAPPEND under these limits: `chunk` (the engine's), cut to one second of each rate
 * limit, so a batch is never a burst longer than a second and a limited run holds its rate (the batch that goes
 * last is the one nobody waits for).
 */
export function limitedChunk(chunk: TransferRequest, limits: RateLimits[]): TransferRequest {
  let { messages, bytes } = chunk;
  for (const l of limits) {
    if (l.messagesPerSecond !== null) messages = Math.min(messages, Math.max(1, Math.floor(l.messagesPerSecond)));
    if (l.bytesPerSecond !== null) bytes = Math.min(bytes, Math.max(1, Math.floor(l.bytesPerSecond)));
  }
  return { messages, bytes };
}

/** Time as the limiter sees it; tests pass a deterministic one. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    }),
};

export interface TransferWaitOptions {
  signal?: AbortSignal;
  clock?: Clock;
  /** Longest single sleep, so the caller's `onWait` runs (heartbeats) at least this often. Default 5 s. */
  stepMs?: number;
  /** How often a spent budget is asked again (a raised budget resumes before the day ends). Default 1 minute. */
  budgetPollMs?: number;
  /** Called between sleeps: the activity heartbeats, and sees cancellation. */
  onWait?: (wait: { side: Side; ms: number }) => void;
  /** Called once when a spent budget makes the sync wait, with when it resumes at the latest. */
  onBudgetExhausted?: (pause: { side: Side; scope: BudgetSpent['scope']; resumesAt: Date }) => void;
  /** Called when the sync goes on after a budget wait. */
  onBudgetResumed?: (side: Side) => void;
}

/** Resolves when the chunk may go; aborts (resolves early, the caller checks its signal) on cancellation. */
export async function waitForTransfer(
  buckets: Pick<RateBuckets, 'reserve'>,
  side: Side,
  request: TransferRequest,
  options: TransferWaitOptions = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const step = options.stepMs ?? 5_000;
  let waitedForBudget = false;
  for (;;) {
    if (options.signal?.aborted) return;
    const r = await buckets.reserve(side, request);
    if (r.kind === 'go') {
      if (waitedForBudget) options.onBudgetResumed?.(side);
      await sleepInSteps(clock, r.waitMs, step, options, side);
      return;
    }
    if (!waitedForBudget) options.onBudgetExhausted?.({ side, scope: r.scope, resumesAt: new Date(r.resumesAt) });
    waitedForBudget = true;
    const untilResume = Math.max(0, r.resumesAt - clock.now());
    await sleepInSteps(clock, Math.min(untilResume, options.budgetPollMs ?? 60_000), step, options, side);
  }
}

async function sleepInSteps(clock: Clock, ms: number, step: number, options: TransferWaitOptions, side: Side) {
  const until = clock.now() + ms;
  for (let left = ms; left > 0 && !options.signal?.aborted; left = until - clock.now()) {
    options.onWait?.({ side, ms: left });
    await clock.sleep(Math.min(left, step), options.signal);
  }
}
