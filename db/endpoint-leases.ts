import type { Pool } from 'pg';
import { withTransaction } from './transaction';

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
  const endpointIds = [...new Set(options.endpointIds)].sort();
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

async function tryAcquire(
  pool: Pool,
  endpointIds: string[],
  mailboxId: string,
  kind: LeaseKind,
  leaseMs: number,
): Promise<boolean> {
  // A full endpoint commits nothing: the expired leases it cleared are cleared again by the next attempt.
  return withTransaction(pool, async (client) => {
    for (const id of endpointIds) {
      await client.query(`select pg_advisory_xact_lock(hashtext('mailferry-endpoint:' || $1))`, [id]);
    }
    await client.query(`delete from endpoint_leases where endpoint_id = any($1::uuid[]) and expires_at < now()`, [
      endpointIds,
    ]);
    const { rows } = await client.query<{ full: boolean }>(
      `select bool_or(
                (select count(*) from endpoint_leases l where l.endpoint_id = e.id and l.mailbox_id <> $2)
                  >= e.max_concurrent_migrations
             or ($3 = 'incremental' and
                (select count(*) from endpoint_leases l
                  where l.endpoint_id = e.id and l.kind = 'incremental' and l.mailbox_id <> $2)
                  >= e.max_concurrent_incremental_syncs)) as full
         from endpoints e where e.id = any($1::uuid[])`,
      [endpointIds, mailboxId, kind],
    );
    if (rows[0]?.full) return false;
    await client.query(
      `insert into endpoint_leases (endpoint_id, mailbox_id, kind, expires_at)
       select unnest($1::uuid[]), $2, $3, now() + make_interval(secs => $4)
       on conflict (endpoint_id, mailbox_id) do update set kind = excluded.kind, expires_at = excluded.expires_at`,
      [endpointIds, mailboxId, kind, leaseMs / 1000],
    );
    return true;
  });
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
