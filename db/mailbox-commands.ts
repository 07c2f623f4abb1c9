import type { MailboxOverrides } from '../domain/mailbox-commands';
import type { MailboxStatus } from '../domain/batch-status';
import type { Queryable } from './transaction';

/**
 * The statements of the per-mailbox commands (domain/mailbox-commands.ts). Each one checks the mailbox's status
 * and applies the change in one statement, so a sync that moves the mailbox meanwhile cannot slip between.
 */

/** What a guarded statement found: the mailbox's status before, and whether the change was applied. */
export interface GuardedChange {
  /** null: the mailbox is not (or no longer) in the batch. */
  before: MailboxStatus | null;
  applied: boolean;
}

export interface MailboxGuard {
  mailboxId: string;
  batchId: string;
  /** The statuses from which the change may be applied. */
  from: readonly MailboxStatus[];
}

async function guarded(db: Queryable, guard: MailboxGuard, change: string, args: unknown[]): Promise<GuardedChange> {
  const { rows } = await db.query<{ before: MailboxStatus; applied: boolean }>(
    `with cur as (select id, status from mailboxes where id = $1 and batch_id = $2 for update),
          done as (${change} returning m.id)
     select cur.status as before, exists (select 1 from done) as applied from cur`,
    [guard.mailboxId, guard.batchId, guard.from, ...args],
  );
  const row = rows[0];
  return row ? { before: row.before, applied: row.applied } : { before: null, applied: false };
}

/** Verify changes no row: whether the mailbox's status allows the command now. */
export async function checkMailbox(db: Queryable, guard: MailboxGuard): Promise<GuardedChange> {
  const { rows } = await db.query<{ status: MailboxStatus }>(
    'select status from mailboxes where id = $1 and batch_id = $2',
    [guard.mailboxId, guard.batchId],
  );
  const before = rows[0]?.status ?? null;
  return { before, applied: before !== null && guard.from.includes(before) };
}

/** Stop: the mailbox is Stopped, its current folder cleared. */
export function stopMailbox(db: Queryable, guard: MailboxGuard): Promise<GuardedChange> {
  return guarded(
    db,
    guard,
    `update mailboxes m set status = 'Stopped', current_folder = null, updated_at = now()
       from cur where m.id = cur.id and cur.status = any($3::text[])`,
    [],
  );
}

/** Start/resume: the mailbox is Queued for a sync now, its last error cleared. */
export function requeueMailbox(db: Queryable, guard: MailboxGuard): Promise<GuardedChange> {
  return guarded(
    db,
    guard,
    `update mailboxes m set status = 'Queued', last_error = null, last_error_code = null, updated_at = now()
       from cur where m.id = cur.id and cur.status = any($3::text[])`,
    [],
  );
}

/** Remove: the mailbox's row goes, and with it (on delete cascade) its checkpoints, message map and skipped items. */
export function deleteMailbox(db: Queryable, guard: MailboxGuard): Promise<GuardedChange> {
  return guarded(
    db,
    guard,
    `delete from mailboxes m using cur where m.id = cur.id and cur.status = any($3::text[])`,
    [],
  );
}

/** Set: each override given is written (null clears it back to the batch's value); the others stay. */
export function setMailboxOverrides(
  db: Queryable,
  guard: MailboxGuard,
  overrides: MailboxOverrides,
): Promise<GuardedChange> {
  const has = (key: keyof MailboxOverrides) => overrides[key] !== undefined;
  return guarded(
    db,
    guard,
    `update mailboxes m set
        start_after = case when $4 then $5::timestamptz else m.start_after end,
        bad_item_limit = case when $6 then $7::integer else m.bad_item_limit end,
        large_item_limit = case when $8 then $9::integer else m.large_item_limit end,
        folder_include = case when $10 then $11::text[] else m.folder_include end,
        folder_exclude = case when $12 then $13::text[] else m.folder_exclude end,
        skip_calendar = case when $14 then $15::boolean else m.skip_calendar end,
        skip_contacts = case when $16 then $17::boolean else m.skip_contacts end,
        skip_tasks = case when $18 then $19::boolean else m.skip_tasks end,
        updated_at = now()
       from cur where m.id = cur.id and cur.status = any($3::text[])`,
    [
      has('startAfter'),
      overrides.startAfter ?? null,
      has('badItemLimit'),
      overrides.badItemLimit ?? null,
      has('largeItemLimit'),
      overrides.largeItemLimit ?? null,
      has('folderInclude'),
      overrides.folderInclude ?? null,
      has('folderExclude'),
      overrides.folderExclude ?? null,
      has('skipCalendar'),
      overrides.skipCalendar ?? null,
      has('skipContacts'),
      overrides.skipContacts ?? null,
      has('skipTasks'),
      overrides.skipTasks ?? null,
    ],
  );
}

/** A mailbox about to move, with its sealed secrets (sealed for its batch: moving reseals them). */
export interface MovingMailboxRow {
  id: string;
  email: string;
  status: MailboxStatus;
  source_secret: Buffer | null;
  destination_secret: Buffer | null;
}

/** Locks the mailbox's row until the transaction ends. */
export async function lockMailboxForMove(
  db: Queryable,
  mailboxId: string,
  batchId: string,
): Promise<MovingMailboxRow | null> {
  const { rows } = await db.query<MovingMailboxRow>(
    `select id, email, status, source_secret, destination_secret from mailboxes
      where id = $1 and batch_id = $2 for update`,
    [mailboxId, batchId],
  );
  return rows[0] ?? null;
}

/** Whether two batches move mail between the same two endpoints. */
export async function sameEndpoints(db: Queryable, batchId: string, otherBatchId: string): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from batches a join batches b
         on a.source_endpoint_id = b.source_endpoint_id and a.destination_endpoint_id = b.destination_endpoint_id
      where a.id = $1 and b.id = $2`,
    [batchId, otherBatchId],
  );
  return rows.length > 0;
}

export async function emailInBatch(db: Queryable, email: string, batchId: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from mailboxes where batch_id = $1 and lower(email) = lower($2)', [
    batchId,
    email,
  ]);
  return rows.length > 0;
}

/**
 * Reassigns the mailbox to another batch with its secrets resealed for it. A running sync was cancelled first, so
 * the mailbox arrives Queued unless it had synced (then it keeps Synced and the next pass brings it up to date).
 */
export async function reassignMailbox(
  db: Queryable,
  move: { mailboxId: string; toBatchId: string; sourceSecret: Buffer | null; destinationSecret: Buffer | null },
): Promise<void> {
  await db.query(
    `update mailboxes set batch_id = $2, source_secret = $3, destination_secret = $4, current_folder = null,
            status = case when status in ('Synced', 'Failed', 'Stopped') then status else 'Queued' end,
            updated_at = now()
      where id = $1`,
    [move.mailboxId, move.toBatchId, move.sourceSecret, move.destinationSecret],
  );
}

/** A new password for one side of a mailbox, sealed for its batch (the admin changed it on the server). */
export async function replaceMailboxSecret(
  db: Queryable,
  change: { mailboxId: string; side: 'source' | 'destination'; sealed: Buffer },
): Promise<boolean> {
  const column = change.side === 'source' ? 'source_secret' : 'destination_secret';
  const { rowCount } = await db.query(`update mailboxes set ${column} = $2, updated_at = now() where id = $1`, [
    change.mailboxId,
    change.sealed,
  ]);
  return rowCount === 1;
}
