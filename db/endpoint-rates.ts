import type { Pool } from 'pg';
import type { Side } from '../imap/errors';
import { PROVIDER_PROFILES, type ImapProvider } from '../imap/provider-profiles';
import {
  directionOf,
  effectiveRateLimits,
  isUnlimited,
  NO_RATE_LIMITS,
  scheduleTransfer,
  utcDay,
  type RateBuckets,
  type RateLimitOverrides,
  type RateLimits,
  type TransferDirection,
  type TransferRequest,
} from '../imap/rate-limit';
import { withTransaction, type Queryable } from './transaction';

export type { RateBuckets };

/** An endpoint's limits in one direction: its provider's, with its `rate_limits` overrides on top. */
export async function endpointRateLimits(
  db: Queryable,
  endpointId: string,
  direction: TransferDirection,
): Promise<RateLimits | null> {
  const { rows } = await db.query<{ provider: ImapProvider; rate_limits: RateLimitOverrides }>(
    'select provider, rate_limits from endpoints where id = $1',
    [endpointId],
  );
  const row = rows[0];
  if (!row) return null;
  return effectiveRateLimits(PROVIDER_PROFILES[row.provider].rateLimits, row.rate_limits)[direction];
}

/**
 * The shared buckets of one mailbox's sync (tables of 0010_endpoint_rates.sql): each reservation is one
 * transaction that locks the endpoint's bucket row for its direction, reads the day's usage and moves both on by
 * the chunk, on PostgreSQL's clock, so every worker sees one order and one time. The limits are read again at each
 * reservation: an endpoint's new limits apply to the syncs already running, and a raised budget ends their wait.
 */
export function createRateBuckets(
  pool: Pool,
  sync: { mailboxId: string; endpointIds: Record<Side, string> },
): RateBuckets {
  return {
    async limits(side) {
      return (await endpointRateLimits(pool, sync.endpointIds[side], directionOf(side))) ?? NO_RATE_LIMITS;
    },
    async reserve(side, request) {
      const endpointId = sync.endpointIds[side];
      const direction = directionOf(side);
      const limits = await endpointRateLimits(pool, endpointId, direction);
      if (!limits || isUnlimited(limits)) return { kind: 'go', waitMs: 0 };
      return reserveTransfer(pool, { endpointId, direction, mailboxId: sync.mailboxId }, limits, request);
    },
  };
}

interface BucketRow {
  messages_free_at: number;
  bytes_free_at: number;
  now: number;
}

/**
 * One reservation: a transaction that locks the bucket's row, reads the day's usage, computes the schedule here
 * ({@link scheduleTransfer}), and moves the bucket on and counts the bytes in one statement. The lock is held for
 * four round trips (lock, usage, write, commit; it was five), each of which waits for this worker's event loop, and
 * every other sync on the endpoint waits that long. The usage is read by a statement of its own, after the lock:
 * one statement with both would read it as of before the lock was granted and miss what the holder counted.
 */
async function reserveTransfer(
  pool: Pool,
  key: { endpointId: string; direction: TransferDirection; mailboxId: string },
  limits: RateLimits,
  request: TransferRequest,
) {
  const params = [key.endpointId, key.direction];
  const lock = (client: Queryable) =>
    client.query<BucketRow>(
      // clock_timestamp(), not now(): the time after the row lock was granted, not when the transaction began.
      `select extract(epoch from messages_free_at)::float8 * 1000 as messages_free_at,
              extract(epoch from bytes_free_at)::float8 * 1000 as bytes_free_at,
              extract(epoch from clock_timestamp())::float8 * 1000 as now
         from endpoint_rate_buckets where endpoint_id = $1 and direction = $2 for update`,
      params,
    );
  return withTransaction(pool, async (client) => {
    let bucket = (await lock(client)).rows[0];
    // A bucket's first reservation makes its row (one that another made meanwhile is left as it is).
    if (!bucket) {
      await client.query(
        'insert into endpoint_rate_buckets (endpoint_id, direction) values ($1, $2) on conflict do nothing',
        params,
      );
      bucket = (await lock(client)).rows[0]!;
    }
    const day = utcDay(bucket.now);
    const usage = await client.query<{ endpoint_bytes: string; mailbox_bytes: string }>(
      `select coalesce(sum(bytes), 0) as endpoint_bytes, coalesce(sum(bytes) filter (where mailbox_id = $4), 0) as mailbox_bytes
         from endpoint_daily_usage where endpoint_id = $1 and direction = $2 and day = $3::date`,
      [...params, day, key.mailboxId],
    );
    const schedule = scheduleTransfer(
      limits,
      { messagesFreeAt: bucket.messages_free_at, bytesFreeAt: bucket.bytes_free_at },
      { endpointBytes: Number(usage.rows[0]!.endpoint_bytes), mailboxBytes: Number(usage.rows[0]!.mailbox_bytes) },
      request,
      bucket.now,
    );
    if (schedule.kind === 'budget') return schedule;
    await client.query(
      `with moved as (
         update endpoint_rate_buckets
            set messages_free_at = to_timestamp($3::float8 / 1000), bytes_free_at = to_timestamp($4::float8 / 1000)
          where endpoint_id = $1 and direction = $2
       )
       insert into endpoint_daily_usage (endpoint_id, direction, day, mailbox_id, bytes)
       values ($1, $2, $5::date, $6, $7)
       on conflict (endpoint_id, direction, day, mailbox_id)
         do update set bytes = endpoint_daily_usage.bytes + excluded.bytes`,
      [...params, schedule.state.messagesFreeAt, schedule.state.bytesFreeAt, day, key.mailboxId, request.bytes],
    );
    return { kind: 'go' as const, waitMs: schedule.waitMs };
  });
}
