import {
  NO_RATE_LIMITS,
  effectiveRateLimits,
  limitedChunk,
  nextUtcMidnight,
  scheduleTransfer,
  waitForTransfer,
  type BucketState,
  type Clock,
  type RateBuckets,
  type RateLimits,
  type Schedule,
  utcDay,
} from '../../imap/rate-limit';
import { PROVIDER_PROFILES } from '../../imap/provider-profiles';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const limits = (l: Partial<RateLimits>): RateLimits => ({ ...NO_RATE_LIMITS, ...l });
const fresh: BucketState = { messagesFreeAt: 0, bytesFreeAt: 0 };
const noUse = { endpointBytes: 0, mailboxBytes: 0 };

/** A clock that moves only when the code under test sleeps. */
function fakeClock(start = T0): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** One bucket run by scheduleTransfer on the fake clock, usage by UTC day, as db/endpoint-rates.ts keeps it. */
function memoryBuckets(l: RateLimits, clock: Clock): Pick<RateBuckets, 'reserve'> {
  let state = fresh;
  const usage = new Map<string, number>();
  return {
    async reserve(_side, request) {
      const day = utcDay(clock.now());
      const used = usage.get(day) ?? 0;
      const s: Schedule = scheduleTransfer(l, state, { endpointBytes: used, mailboxBytes: used }, request, clock.now());
      if (s.kind === 'budget') return s;
      state = s.state;
      usage.set(day, used + request.bytes);
      return { kind: 'go', waitMs: s.waitMs };
    },
  };
}

describe('scheduling a chunk in a bucket', () => {
  it('lets the first chunk go at once and the next one when the first is paid at the byte rate', () => {
    const l = limits({ bytesPerSecond: 1000 });
    const a = scheduleTransfer(l, fresh, noUse, { messages: 10, bytes: 5000 }, T0);
    expect(a).toEqual({ kind: 'go', waitMs: 0, state: { messagesFreeAt: 0, bytesFreeAt: T0 + 5000 } });
    const b = scheduleTransfer(l, (a as { state: BucketState }).state, noUse, { messages: 1, bytes: 100 }, T0 + 1000);
    expect(b.kind === 'go' && b.waitMs).toBe(4000);
  });

  it('waits for the slower of the message and the byte rate', () => {
    const l = limits({ messagesPerSecond: 2, bytesPerSecond: 1_000_000 });
    const a = scheduleTransfer(l, fresh, noUse, { messages: 10, bytes: 1000 }, T0);
    const b = scheduleTransfer(l, (a as { state: BucketState }).state, noUse, { messages: 1, bytes: 1 }, T0);
    expect(b.kind === 'go' && b.waitMs).toBe(5000);
  });

  it('keeps no credit from idle time (no burst after a pause)', () => {
    const l = limits({ bytesPerSecond: 1000 });
    const a = scheduleTransfer(
      l,
      { messagesFreeAt: 0, bytesFreeAt: T0 - 60_000 },
      noUse,
      { messages: 1, bytes: 2000 },
      T0,
    );
    expect(a).toMatchObject({ waitMs: 0, state: { bytesFreeAt: T0 + 2000 } });
  });

  it('refuses a chunk that would overrun the day, until the next UTC midnight', () => {
    const l = limits({ bytesPerDay: 10_000 });
    expect(
      scheduleTransfer(l, fresh, { endpointBytes: 9000, mailboxBytes: 0 }, { messages: 1, bytes: 2000 }, T0),
    ).toEqual({
      kind: 'budget',
      scope: 'endpoint',
      resumesAt: Date.UTC(2026, 11, 2),
    });
    expect(
      scheduleTransfer(l, fresh, { endpointBytes: 9000, mailboxBytes: 0 }, { messages: 1, bytes: 1000 }, T0).kind,
    ).toBe('go');
  });

  it("counts a mailbox's own budget apart from the endpoint's", () => {
    const l = limits({ mailboxBytesPerDay: 1000 });
    expect(
      scheduleTransfer(l, fresh, { endpointBytes: 50_000, mailboxBytes: 10 }, { messages: 1, bytes: 900 }, T0).kind,
    ).toBe('go');
    expect(
      scheduleTransfer(l, fresh, { endpointBytes: 0, mailboxBytes: 500 }, { messages: 1, bytes: 900 }, T0),
    ).toMatchObject({
      kind: 'budget',
      scope: 'mailbox',
    });
  });

  it('lets a chunk larger than the whole budget go alone on a fresh day, so it cannot wait for ever', () => {
    const l = limits({ bytesPerDay: 1000 });
    expect(scheduleTransfer(l, fresh, noUse, { messages: 1, bytes: 5000 }, T0).kind).toBe('go');
  });

  it('turns the day at UTC midnight', () => {
    expect(nextUtcMidnight(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe(Date.UTC(2027, 0, 1));
  });
});

describe('batch sizes under rate limits', () => {
  it("cuts a MULTIAPPEND batch to one second of either endpoint's rates, never below one message", () => {
    const chunk = { messages: 100, bytes: 16 * 1024 * 1024 };
    expect(limitedChunk(chunk, [NO_RATE_LIMITS, NO_RATE_LIMITS])).toEqual(chunk);
    expect(limitedChunk(chunk, [limits({ messagesPerSecond: 20 }), limits({ bytesPerSecond: 5e6 })])).toEqual({
      messages: 20,
      bytes: 5_000_000,
    });
    expect(limitedChunk(chunk, [limits({ messagesPerSecond: 0.2, bytesPerSecond: 0.5 })])).toEqual({
      messages: 1,
      bytes: 1,
    });
  });
});

describe('provider defaults and endpoint overrides', () => {
  it("takes Gmail's published per-user IMAP quotas, and an endpoint's figure or null over them", () => {
    const gmail = PROVIDER_PROFILES.gmail.rateLimits;
    expect(gmail.upload.mailboxBytesPerDay).toBe(500_000_000);
    expect(gmail.download.mailboxBytesPerDay).toBe(2_500_000_000);
    const mine = effectiveRateLimits(gmail, { upload: { mailboxBytesPerDay: null, bytesPerSecond: 1e6 } });
    expect(mine.upload).toEqual(limits({ bytesPerSecond: 1e6 }));
    expect(mine.download).toEqual(gmail.download);
  });
});

describe('a sync waiting for its chunk', () => {
  it('holds the byte rate over many chunks, sleeping in heartbeat-sized steps', async () => {
    const clock = fakeClock();
    const buckets = memoryBuckets(limits({ bytesPerSecond: 100_000 }), clock);
    let heartbeats = 0;
    for (let i = 0; i < 50; i++) {
      await waitForTransfer(
        buckets,
        'destination',
        { messages: 10, bytes: 1_000_000 },
        { clock, onWait: () => heartbeats++ },
      );
    }
    // 50 MB at 100 kB/s: the 50th chunk starts after the first 49 are paid.
    expect(clock.now() - T0).toBe(490_000);
    expect(Math.max(...clock.slept)).toBeLessThanOrEqual(5000);
    expect(heartbeats).toBe(clock.slept.length);
  });

  it('waits out a spent budget, says when it resumes, and goes on the next UTC day', async () => {
    const clock = fakeClock(Date.UTC(2026, 11, 1, 23, 58));
    const buckets = memoryBuckets(limits({ bytesPerDay: 1500 }), clock);
    const events: string[] = [];
    const options = {
      clock,
      onBudgetExhausted: ({ resumesAt }: { resumesAt: Date }) => events.push(`spent until ${resumesAt.toISOString()}`),
      onBudgetResumed: () => events.push('resumed'),
    };
    await waitForTransfer(buckets, 'destination', { messages: 1, bytes: 1000 }, options);
    await waitForTransfer(buckets, 'destination', { messages: 1, bytes: 1000 }, options);
    expect(events).toEqual(['spent until 2026-12-02T00:00:00.000Z', 'resumed']);
    expect(clock.now()).toBe(Date.UTC(2026, 11, 2));
  });

  it('stops waiting at once when the sync is cancelled', async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const buckets: Pick<RateBuckets, 'reserve'> = {
      reserve: async () => ({ kind: 'budget', scope: 'endpoint', resumesAt: T0 + 3_600_000 }),
    };
    let waits = 0;
    await waitForTransfer(
      buckets,
      'source',
      { messages: 1, bytes: 1 },
      {
        clock,
        signal: controller.signal,
        onWait: () => {
          if (++waits === 3) controller.abort();
        },
      },
    );
    expect(waits).toBe(3);
  });
});
