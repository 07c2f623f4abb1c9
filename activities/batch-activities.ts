import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { deleteBatchRows } from '../db/batch-rows';
import type { BatchEdit, MailboxCounts, PassKind } from '../domain/batch-messages';
import type { BatchCommand, BatchStatus } from '../domain/batch-status';

/** The batch row fields the workflow owns; written on every status change (the dashboard's read model). */
export interface BatchStatusRecord {
  batchId: string;
  status: BatchStatus;
  startedAt: string | null;
  initialSyncAt: string | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: string | null;
  startAfter: string | null;
  completeAfter: string | null;
  autoComplete: boolean;
  lastError: string | null;
}

export interface AuditEntry {
  batchId: string;
  batchName: string;
  actor: string;
  command: BatchCommand;
  outcome: 'accepted' | 'rejected';
  at: string;
  detail: Record<string, unknown>;
}

export interface MailboxFailure {
  mailboxId: string;
  code: string;
  message: string;
}

/** Which mailboxes each kind of pass visits. */
const PASS_STATUSES: Record<PassKind, readonly string[]> = {
  initial: ['Queued', 'Syncing', 'Stopped', 'Synced'],
  // Queued: mailboxes added to a batch after its initial sync get theirs in the next pass.
  incremental: ['Queued', 'Synced', 'Syncing'],
  final: ['Queued', 'Synced', 'Syncing', 'Completing'],
};

/** At most one progress sample per batch per this many seconds feeds the dashboard's chart. */
const PROGRESS_SAMPLE_SECONDS = 10;

/**
 * Activities that keep the batch's rows in PostgreSQL in step with its workflow. Every one of them is
 * idempotent: Temporal may run an activity again after a worker crash.
 */
export function createBatchActivities({ pool }: { pool: Pool }) {
  return {
    async publishBatchStatus(record: BatchStatusRecord): Promise<void> {
      await pool.query(
        `update batches
            set status = $2, started_at = $3, initial_sync_at = $4, initial_sync_duration_ms = $5,
                last_synced_at = $6, start_after = $7, complete_after = $8, auto_complete = $9, last_error = $10,
                updated_at = now()
          where id = $1`,
        [
          record.batchId,
          record.status,
          record.startedAt,
          record.initialSyncAt,
          record.initialSyncDurationMs,
          record.lastSyncedAt,
          record.startAfter,
          record.completeAfter,
          record.autoComplete,
          record.lastError,
        ],
      );
    },

    async recordAudit(entries: AuditEntry[]): Promise<void> {
      if (entries.length === 0) return;
      await pool.query(
        `insert into audit_log (batch_id, batch_name, actor, command, outcome, at, detail)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])`,
        [
          entries.map((e) => e.batchId),
          entries.map((e) => e.batchName),
          entries.map((e) => e.actor),
          entries.map((e) => e.command),
          entries.map((e) => e.outcome),
          entries.map((e) => e.at),
          entries.map((e) => JSON.stringify(e.detail)),
        ],
      );
    },

    /** Checks the batch can run and queues its mailboxes; with `retryFailed` (Resume) failed ones too. */
    async prepareStart(input: { batchId: string; retryFailed: boolean }): Promise<MailboxCounts> {
      const { rows } = await pool.query<{ source: string | null; destination: string | null }>(
        `select s.id as source, d.id as destination
           from batches b
           left join endpoints s on s.id = b.source_endpoint_id
           left join endpoints d on d.id = b.destination_endpoint_id
          where b.id = $1`,
        [input.batchId],
      );
      const batch = rows[0];
      if (!batch) throw ApplicationFailure.nonRetryable(`batch ${input.batchId} has no row`, 'BATCH_NOT_FOUND');
      if (!batch.source || !batch.destination) {
        throw ApplicationFailure.nonRetryable('the batch has no source or destination endpoint', 'ENDPOINT_NOT_FOUND');
      }
      const requeue = input.retryFailed ? ['Stopped', 'Syncing', 'Failed'] : ['Stopped', 'Syncing'];
      await pool.query(
        `update mailboxes set status = 'Queued', last_error = case when status = 'Failed' then null else last_error end,
                last_error_code = case when status = 'Failed' then null else last_error_code end, updated_at = now()
          where batch_id = $1 and status = any($2::text[])`,
        [input.batchId, requeue],
      );
      return countMailboxes(pool, input.batchId);
    },

    /** The next page of mailbox ids a pass visits, in id order after `afterId`. */
    async nextMailboxes(input: {
      batchId: string;
      pass: PassKind;
      afterId: string | null;
      limit: number;
    }): Promise<string[]> {
      const { rows } = await pool.query<{ id: string }>(
        `select m.id::text as id from mailboxes m
          where m.batch_id = $1 and m.status = any($2::text[]) and m.id > $3::bigint
          order by m.id limit $4`,
        [input.batchId, PASS_STATUSES[input.pass], input.afterId ?? '0', input.limit],
      );
      return rows.map((r) => r.id);
    },

    /** Current mailbox counts; also samples progress for the dashboard's chart. */
    async refreshCounts(batchId: string): Promise<MailboxCounts> {
      const counts = await countMailboxes(pool, batchId);
      await pool.query(
        `insert into batch_progress (batch_id, synced, failed, finalized, items_synced)
         select $1, $2, $3, $4, coalesce((select sum(items_synced) from mailboxes where batch_id = $1), 0)
          where not exists (select 1 from batch_progress
                             where batch_id = $1 and at > now() - make_interval(secs => $5))
         on conflict do nothing`,
        [batchId, counts.synced, counts.failed, counts.finalized, PROGRESS_SAMPLE_SECONDS],
      );
      return counts;
    },

    /** Mailboxes whose sync activity ran out of retries. */
    async markMailboxesFailed(failures: MailboxFailure[]): Promise<void> {
      if (failures.length === 0) return;
      await pool.query(
        `update mailboxes m set status = 'Failed', last_error = f.message, last_error_code = f.code, updated_at = now()
           from unnest($1::bigint[], $2::text[], $3::text[]) as f(id, code, message)
          where m.id = f.id`,
        [failures.map((f) => f.mailboxId), failures.map((f) => f.code), failures.map((f) => f.message)],
      );
    },

    /** After Stop: the mailboxes that were waiting or running are Stopped. */
    async markMailboxesStopped(batchId: string): Promise<MailboxCounts> {
      await pool.query(
        `update mailboxes set status = 'Stopped', current_folder = null, updated_at = now()
          where batch_id = $1 and status in ('Queued', 'Syncing')`,
        [batchId],
      );
      return countMailboxes(pool, batchId);
    },

    /** Writes an accepted edit to the batch's row before the command's update returns, so reads see it at once. */
    async applyEdit(input: { batchId: string; edit: BatchEdit }): Promise<void> {
      const e = input.edit;
      try {
        await pool.query(
          `update batches set
             start_after = case when $10 then $11::timestamptz else start_after end,
             complete_after = case when $12 then $13::timestamptz else complete_after end,
             auto_complete = coalesce($14, auto_complete),
             source_endpoint_id = coalesce($2, source_endpoint_id),
             destination_endpoint_id = coalesce($3, destination_endpoint_id),
             bad_item_limit = coalesce($4, bad_item_limit),
             large_item_limit = coalesce($5, large_item_limit),
             large_item_max_bytes = coalesce($6, large_item_max_bytes),
             folder_include = coalesce($7, folder_include),
             folder_exclude = coalesce($8, folder_exclude),
             delete_on_destination = coalesce($9, delete_on_destination),
             updated_at = now()
           where id = $1`,
          [
            input.batchId,
            e.sourceEndpointId ?? null,
            e.destinationEndpointId ?? null,
            e.badItemLimit ?? null,
            e.largeItemLimit ?? null,
            e.largeItemMaxBytes ?? null,
            e.folderInclude ?? null,
            e.folderExclude ?? null,
            e.deleteOnDestination ?? null,
            e.startAfter !== undefined,
            e.startAfter ?? null,
            e.completeAfter !== undefined,
            e.completeAfter ?? null,
            e.autoComplete ?? null,
          ],
        );
      } catch (err) {
        if ((err as { code?: string }).code === '23503') {
          throw ApplicationFailure.nonRetryable('the edit names an endpoint that does not exist', 'ENDPOINT_NOT_FOUND');
        }
        throw err;
      }
    },

    /** Deletes every row of the batch (mailboxes, checkpoints, reports, audit entries, progress). */
    async removeBatch(batchId: string): Promise<void> {
      await deleteBatchRows(pool, batchId);
    },
  };
}

export async function countMailboxes(pool: Pool, batchId: string): Promise<MailboxCounts> {
  const { rows } = await pool.query<Record<keyof MailboxCounts, string>>(
    `select count(*) as total,
            count(*) filter (where status = 'Queued') as queued,
            count(*) filter (where status = 'Syncing') as syncing,
            count(*) filter (where status in ('Synced', 'Completing', 'Completed')
                                or (status = 'Syncing' and initial_sync_at is not null)) as synced,
            count(*) filter (where status = 'Failed') as failed,
            count(*) filter (where status = 'Stopped') as stopped,
            count(*) filter (where status = 'Completed') as finalized
       from mailboxes where batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    total: Number(r.total),
    queued: Number(r.queued),
    syncing: Number(r.syncing),
    synced: Number(r.synced),
    failed: Number(r.failed),
    stopped: Number(r.stopped),
    finalized: Number(r.finalized),
  };
}
