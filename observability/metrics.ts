import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PassKind } from '../domain/batch-messages';

/**
 * The product's Prometheus metrics (`mailferry_…`), on a registry of the process (never prom-client's global
 * one, so tests and `npm start`'s one process cannot register a metric twice). Labels are bounded: pass kinds,
 * error codes, skip reasons, server sides, statuses, batch and endpoint names; never a mailbox address.
 *
 * Counters and the histogram are the process's own (each worker counts what it did; sum them across workers).
 * The gauges read from PostgreSQL (observability/metrics-gauges.ts) are served by the API process only, so a
 * cluster reports them once.
 */

const PASS_KINDS: readonly PassKind[] = ['initial', 'incremental', 'final'];

/** How a sync attempt ended, for the duration histogram. */
export type SyncOutcome = 'synced' | 'failed' | 'retried' | 'cancelled';

/** Why a message was left behind: `large` (over the batch's size limit), `bad` (the destination refuses it). */
export type SkipReason = 'bad' | 'large';

/** A mailbox sync runs from seconds to days: buckets from one second to a day. */
const SYNC_DURATION_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400];

/** What the sync activity records (activities/sync-mailbox.ts): one set per worker process. */
export function createSyncMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    attempts: new Counter({
      name: 'mailferry_sync_attempts_total',
      help: 'Mailbox sync attempts started (one per run of the syncMailbox activity, retries included)',
      labelNames: ['pass'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'mailferry_sync_failures_total',
      help: 'Failed mailbox sync attempts by error code; retry="mailbox" failed the mailbox, "transient" is retried',
      labelNames: ['code', 'retry'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'mailferry_sync_duration_seconds',
      help: 'Duration of mailbox sync attempts, by pass and outcome',
      labelNames: ['pass', 'outcome'] as const,
      buckets: SYNC_DURATION_BUCKETS,
      registers,
    }),
    running: new Gauge({
      name: 'mailferry_syncs_running',
      help: 'Mailbox syncs this process runs now, by pass',
      labelNames: ['pass'] as const,
      registers,
    }),
    messagesCopied: new Counter({
      name: 'mailferry_messages_copied_total',
      help: 'Messages appended to destination servers (recorded in the message map)',
      registers,
    }),
    bytesCopied: new Counter({
      name: 'mailferry_bytes_copied_total',
      help: 'Bytes of the messages appended to destination servers',
      registers,
    }),
    messagesSkipped: new Counter({
      name: 'mailferry_messages_skipped_total',
      help: 'Messages left behind, by reason: large (over the batch limit), bad (refused by the destination)',
      labelNames: ['reason'] as const,
      registers,
    }),
    throttlePauses: new Counter({
      name: 'mailferry_throttle_pauses_total',
      help: 'Pauses because an IMAP server asked the sync to slow down, by the side that throttled',
      labelNames: ['side'] as const,
      registers,
    }),
    throttlePauseSeconds: new Counter({
      name: 'mailferry_throttle_pause_seconds_total',
      help: 'Time spent in those pauses',
      labelNames: ['side'] as const,
      registers,
    }),
    rateLimitWaitSeconds: new Counter({
      name: 'mailferry_rate_limit_wait_seconds_total',
      help: "Time syncs were scheduled to wait for the endpoints' rate limits, by side",
      labelNames: ['side'] as const,
      registers,
    }),
    davItemsCopied: new Counter({
      name: 'mailferry_dav_items_copied_total',
      help: 'Calendar items (events, tasks) and contacts (and groups) written to destination CalDAV/CardDAV services, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    davItemsSkipped: new Counter({
      name: 'mailferry_dav_items_skipped_total',
      help: 'Calendar items and contacts the destination refused (bad items)',
      registers,
    }),
    budgetHolds: new Counter({
      name: 'mailferry_rate_budget_holds_total',
      help: "Syncs held because an endpoint's daily byte budget was spent (QUOTA_BUDGET_EXHAUSTED), by side",
      labelNames: ['side'] as const,
      registers,
    }),
  };
  // Every bounded series from the first scrape, at zero: rate() and alerts need the series before the first event.
  for (const pass of PASS_KINDS) {
    metrics.attempts.labels(pass).inc(0);
    metrics.running.labels(pass).set(0);
  }
  for (const reason of ['bad', 'large'] as const) metrics.messagesSkipped.labels(reason).inc(0);
  for (const kind of ['calendar', 'contact'] as const) metrics.davItemsCopied.labels(kind).inc(0);
  for (const side of ['source', 'destination'] as const) {
    metrics.throttlePauses.labels(side).inc(0);
    metrics.throttlePauseSeconds.labels(side).inc(0);
    metrics.rateLimitWaitSeconds.labels(side).inc(0);
    metrics.budgetHolds.labels(side).inc(0);
  }
  return metrics;
}

export type SyncMetrics = ReturnType<typeof createSyncMetrics>;

/** A registry with Node's process metrics (`process_…`, `nodejs_…`), ready for the product's own. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** How a failed attempt counts: its error code, and whether it failed the mailbox or is retried. */
export interface SyncFailure {
  code: string;
  retry: 'mailbox' | 'transient';
}

/** The engine's running totals of one attempt (imap/mailbox-sync.ts `MailboxSyncProgress`). */
export interface SyncAttemptTotals {
  itemsCopied: number;
  bytesCopied: number;
  itemsSkipped: number;
  itemsSkippedLarge: number;
}

/** The calendar and contact engine's running totals of one attempt (dav/mailbox-sync.ts `DavSyncProgress`). */
export interface DavAttemptTotals {
  calendarItemsCopied: number;
  contactsCopied: number;
  itemsSkipped: number;
}

/**
 * The instruments of one sync attempt: started now; `progress` turns the engine's running totals into counter
 * increments (so the counters follow what was appended and recorded, chunk by chunk, even if the attempt dies
 * later); `end` once, with how it ended.
 */
export function trackSyncAttempt(metrics: SyncMetrics, pass: PassKind) {
  const started = process.hrtime.bigint();
  const seen: SyncAttemptTotals = { itemsCopied: 0, bytesCopied: 0, itemsSkipped: 0, itemsSkippedLarge: 0 };
  const davSeen: DavAttemptTotals = { calendarItemsCopied: 0, contactsCopied: 0, itemsSkipped: 0 };
  let ended = false;
  metrics.attempts.labels(pass).inc();
  metrics.running.labels(pass).inc();
  return {
    progress(totals: SyncAttemptTotals): void {
      const large = totals.itemsSkippedLarge - seen.itemsSkippedLarge;
      const bad = totals.itemsSkipped - seen.itemsSkipped - large;
      metrics.messagesCopied.inc(totals.itemsCopied - seen.itemsCopied);
      metrics.bytesCopied.inc(totals.bytesCopied - seen.bytesCopied);
      if (large > 0) metrics.messagesSkipped.labels('large').inc(large);
      if (bad > 0) metrics.messagesSkipped.labels('bad').inc(bad);
      Object.assign(seen, totals);
    },
    /** The same for the calendars and contacts, once the mail is done. */
    davProgress(totals: DavAttemptTotals): void {
      metrics.davItemsCopied.labels('calendar').inc(totals.calendarItemsCopied - davSeen.calendarItemsCopied);
      metrics.davItemsCopied.labels('contact').inc(totals.contactsCopied - davSeen.contactsCopied);
      metrics.davItemsSkipped.inc(totals.itemsSkipped - davSeen.itemsSkipped);
      Object.assign(davSeen, totals);
    },
    throttled(side: 'source' | 'destination' | undefined, ms: number): void {
      metrics.throttlePauses.labels(side ?? 'unknown').inc();
      metrics.throttlePauseSeconds.labels(side ?? 'unknown').inc(ms / 1000);
    },
    /** A chunk's scheduled wait for an endpoint's rate limits. */
    rateWaited(side: 'source' | 'destination', ms: number): void {
      metrics.rateLimitWaitSeconds.labels(side).inc(ms / 1000);
    },
    budgetHeld(side: 'source' | 'destination'): void {
      metrics.budgetHolds.labels(side).inc();
    },
    end(outcome: SyncOutcome, failure?: SyncFailure): void {
      if (ended) return;
      ended = true;
      metrics.running.labels(pass).dec();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.duration.labels(pass, outcome).observe(seconds);
      if (failure) metrics.failures.labels(failure.code, failure.retry).inc();
    },
  };
}

export type SyncAttempt = ReturnType<typeof trackSyncAttempt>;
