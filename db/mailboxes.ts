import type { PassKind } from '../domain/batch-messages';
import { RELEASED_STATUSES } from '../domain/batch-status';
import type { PoolClient } from 'pg';
import type { Queryable } from './transaction';

/** Which mailboxes each kind of pass visits. */
const PASS_STATUSES: Record<PassKind, readonly string[]> = {
  // Not Stopped: Start and Resume queue the mailboxes a batch stop left Stopped, so a Stopped one is stopped by
  // its own command (per mailbox) and waits for its own start.
  initial: ['Queued', 'Syncing', 'Synced'],
  // Queued: mailboxes added to a batch after its initial sync get theirs in the next pass.
  incremental: ['Queued', 'Synced', 'Syncing'],
  final: ['Queued', 'Synced', 'Syncing', 'Completing'],
};

/** Queues the batch's Stopped and interrupted mailboxes for a pass; with `retryFailed` (Resume) the Failed too. */
export async function requeueMailboxes(db: Queryable, batchId: string, retryFailed: boolean): Promise<void> {
  const requeue = retryFailed ? ['Stopped', 'Syncing', 'Failed'] : ['Stopped', 'Syncing'];
  await db.query(
    `update mailboxes set status = 'Queued', last_error = case when status = 'Failed' then null else last_error end,
            last_error_code = case when status = 'Failed' then null else last_error_code end, updated_at = now()
      where batch_id = $1 and status = any($2::text[])`,
    [batchId, requeue],
  );
}

/** The next page of mailbox ids a pass visits, in id order after `afterId`; not those whose StartAfter is ahead. */
export async function nextMailboxIds(
  db: Queryable,
  page: { batchId: string; pass: PassKind; afterId: string | null; limit: number },
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select m.id::text as id from mailboxes m
      where m.batch_id = $1 and m.status = any($2::text[]) and m.id > $3::bigint
        and (m.start_after is null or m.start_after <= now())
      order by m.id limit $4`,
    [page.batchId, PASS_STATUSES[page.pass], page.afterId ?? '0', page.limit],
  );
  return rows.map((r) => r.id);
}

/** Mailboxes with something to verify: synced at least once and at rest. */
const VERIFIABLE_STATUSES = ['Synced', 'Completed', 'Stopped'];

/** The next page of mailbox ids a verification visits, in id order after `afterId`. */
export async function nextVerifiableMailboxIds(
  db: Queryable,
  page: { batchId: string; afterId: string | null; limit: number },
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select m.id::text as id from mailboxes m
      where m.batch_id = $1 and m.status = any($2::text[]) and m.initial_sync_at is not null and m.id > $3::bigint
      order by m.id limit $4`,
    [page.batchId, VERIFIABLE_STATUSES, page.afterId ?? '0', page.limit],
  );
  return rows.map((r) => r.id);
}

export interface MailboxFailure {
  mailboxId: string;
  code: string;
  message: string;
}

/** Mailboxes whose sync ran out of retries, with their last error. */
export async function markMailboxesFailed(db: Queryable, failures: MailboxFailure[]): Promise<void> {
  if (failures.length === 0) return;
  await db.query(
    `update mailboxes m set status = 'Failed', last_error = f.message, last_error_code = f.code, updated_at = now()
       from unnest($1::bigint[], $2::text[], $3::text[]) as f(id, code, message)
      where m.id = f.id`,
    [failures.map((f) => f.mailboxId), failures.map((f) => f.code), failures.map((f) => f.message)],
  );
}

/** After Stop: the mailboxes that were waiting or running are Stopped. */
export async function markMailboxesStopped(db: Queryable, batchId: string): Promise<void> {
  await db.query(
    `update mailboxes set status = 'Stopped', current_folder = null, updated_at = now()
      where batch_id = $1 and status in ('Queued', 'Syncing')`,
    [batchId],
  );
}

/**
 * Serialises the assignment of mailboxes to batches until the transaction ends, so that two concurrent creations
 * or additions cannot both take one mailbox.
 */
export async function lockMailboxAssignment(client: PoolClient): Promise<void> {
  await client.query(`select pg_advisory_xact_lock(hashtext('mailferry.mailbox_assignment'))`);
}

/** The mailboxes among `emails` (lower case) held by an active batch, or already in `batchId`. */
export async function mailboxesHeld(
  db: Queryable,
  emails: string[],
  batchId: string | null,
): Promise<{ email: string; batch_id: string; batch_name: string }[]> {
  const { rows } = await db.query<{ email: string; batch_id: string; batch_name: string }>(
    `select lower(m.email) as email, b.id as batch_id, b.name as batch_name
       from mailboxes m join batches b on b.id = m.batch_id
      where lower(m.email) = any($1::text[]) and (b.status <> all($2::text[]) or b.id = $3)`,
    [emails, RELEASED_STATUSES, batchId],
  );
  return rows;
}

/** A mailbox to insert, its secrets already sealed. */
export interface NewMailboxRow {
  email: string;
  sourceUser: string;
  /** Null when the source endpoint mints the mailbox's tokens. */
  sourceSecret: Buffer | null;
  destinationUser: string | null;
  destinationSecret: Buffer | null;
}

const INSERT_CHUNK = 2000;

export async function insertMailboxRows(db: Queryable, batchId: string, mailboxes: NewMailboxRow[]): Promise<void> {
  for (let i = 0; i < mailboxes.length; i += INSERT_CHUNK) {
    const chunk = mailboxes.slice(i, i + INSERT_CHUNK);
    await db.query(
      `insert into mailboxes (batch_id, email, source_user, source_secret, destination_user, destination_secret)
       select $1, * from unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::bytea[])`,
      [
        batchId,
        chunk.map((m) => m.email),
        chunk.map((m) => m.sourceUser),
        chunk.map((m) => m.sourceSecret),
        chunk.map((m) => m.destinationUser),
        chunk.map((m) => m.destinationSecret),
      ],
    );
  }
}
