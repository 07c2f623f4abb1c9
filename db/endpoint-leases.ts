import type { Pool } from 'pg';

export type LeaseKind = 'migration' | 'incremental';

export interface LeaseOptions {
  /** The batch's source and destination endpoints: a sync holds a slot on both. */
  endpointIds: string[];
  mailboxId: string;
  kind: LeaseKind;
  /** Called while waiting for a slot, so the activity keeps heartbeating (and sees cancellation). */
  onWait?: () => void;
  signal?: AbortSignal;
  /** A lease a crashed worker left behind expires after this long. Default 2 minutes; renewed at a third of it. */
  leaseMs?: number;
  /** Time between attempts while every slot is taken. Default 1 second (with jitter). */
  retryMs?: number;
}

export class LeaseAbortedError extends Error {
  readonly code = 'LEASE_ABORTED';
}

/**
 * Runs `fn` while holding a concurrency slot on every endpoint of the sync, across all batches and workers:
 * at most `max_concurrent_migrations` syncs per endpoint, and of those at most
 * `max_concurrent_incremental_syncs` incremental ones. Slots are rows in `endpoint_leases`, taken under a
 * per-endpoint advisory lock, renewed while `fn` runs and dropped when it ends (or when they expire).
 */
export async function withEndpointLease<T>(pool: Pool, options: LeaseOptions, fn: () => Promise<T>): Promise<T> {
  const leaseMs = options.leaseMs ?? 120_000;
  const endpointIds = [...new Set(options.endpointIds)];
  while (!(await tryAcquire(pool, endpointIds, options.mailboxId, options.kind, leaseMs))) {
    if (options.signal?.aborted) throw new LeaseAbortedError('cancelled while waiting for an endpoint slot');
    options.onWait?.();
    await delay((options.retryMs ?? 1000) * (0.5 + Math.random()), options.signal);
  }
  const renew = setInterval(() => {
    pool
      .query(
        `update endpoint_leases set expires_at = now() + make_interval(secs => $3)
          where endpoint_id = any($1::uuid[]) and mailbox_id = $2`,
        [endpointIds, options.mailboxId, leaseMs / 1000],
      )
      .catch(() => undefined); // a missed renewal only shortens the lease; the next one repairs it
  }, leaseMs / 3);
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await pool.query('delete from endpoint_leases where endpoint_id = any($1::uuid[]) and mailbox_id = $2', [
      endpointIds,
      options.mailboxId,
    ]);
  }
}

/**
 * One call of `try_endpoint_lease` (0013_endpoint_lease_in_one_call.sql), which takes the endpoints' locks in one
 * order: they are held on the server alone, for the statements' own time.
 */
async function tryAcquire(
  pool: Pool,
  endpointIds: string[],
  mailboxId: string,
  kind: LeaseKind,
  leaseMs: number,
): Promise<boolean> {
  const { rows } = await pool.query<{ taken: boolean }>('select try_endpoint_lease($1::uuid[], $2, $3, $4) as taken', [
    endpointIds,
    mailboxId,
    kind,
    leaseMs / 1000,
  ]);
  return rows[0]!.taken;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
