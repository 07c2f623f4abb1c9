import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { insertAuditEntries } from '../db/audit';
import {
  applyBatchEdit,
  batchEndpointsPresent,
  deleteBatchRows,
  publishBatchStatus,
  sampleBatchProgress,
  type BatchStatusRecord,
} from '../db/batches';
import { countMailboxes as countMailboxRows, type MailboxCountsRow } from '../db/mailbox-counts';
import {
  markMailboxesFailed,
  markMailboxesStopped,
  nextMailboxIds,
  nextVerifiableMailboxIds,
  requeueMailboxes,
  type MailboxFailure,
} from '../db/mailboxes';
import type { BatchEdit, MailboxCounts, PassKind } from '../domain/batch-messages';
import { ALL_MAILBOXES_FAILED, settledStatus, type BatchCommand } from '../domain/batch-status';
import type { MailboxAuditCommand } from '../domain/mailbox-commands';

export type { BatchStatusRecord, MailboxFailure };

export interface AuditEntry {
  batchId: string;
  batchName: string;
  actor: string;
  command: BatchCommand | MailboxAuditCommand;
  outcome: 'accepted' | 'rejected';
  at: string;
  detail: Record<string, unknown>;
  /** Given by the workflow as it records the entry: recording it again inserts nothing. */
  key?: string;
}

/**
 * Activities that keep the batch's rows in PostgreSQL in step with its workflow. Every one of them is
 * idempotent: Temporal may run an activity again after a worker crash.
 */
export function createBatchActivities({ pool }: { pool: Pool }) {
  return {
    async publishBatchStatus(record: BatchStatusRecord): Promise<void> {
      await publishBatchStatus(pool, record);
    },

    async recordAudit(entries: AuditEntry[]): Promise<void> {
      await insertAuditEntries(pool, entries);
    },

    /** Checks the batch can run and queues its mailboxes; with `retryFailed` (Resume) failed ones too. */
    async prepareStart(input: { batchId: string; retryFailed: boolean }): Promise<MailboxCounts> {
      const endpoints = await batchEndpointsPresent(pool, input.batchId);
      if (!endpoints) throw ApplicationFailure.nonRetryable(`batch ${input.batchId} has no row`, 'BATCH_NOT_FOUND');
      if (!endpoints.source || !endpoints.destination) {
        throw ApplicationFailure.nonRetryable('the batch has no source or destination endpoint', 'ENDPOINT_NOT_FOUND');
      }
      await requeueMailboxes(pool, input.batchId, input.retryFailed);
      return countMailboxes(pool, input.batchId);
    },

    /** The next page of mailbox ids a pass visits, in id order after `afterId`. */
    async nextMailboxes(input: {
      batchId: string;
      pass: PassKind;
      afterId: string | null;
      limit: number;
    }): Promise<string[]> {
      return nextMailboxIds(pool, input);
    },

    /** The next page of mailbox ids a verification visits (synced at least once, at rest), after `afterId`. */
    async nextVerifiableMailboxes(input: {
      batchId: string;
      afterId: string | null;
      limit: number;
    }): Promise<string[]> {
      return nextVerifiableMailboxIds(pool, input);
    },

    /** Current mailbox counts; also samples progress for the dashboard's chart. */
    async refreshCounts(batchId: string): Promise<MailboxCounts> {
      const counts = await countMailboxes(pool, batchId);
      await sampleBatchProgress(pool, batchId, counts);
      return counts;
    },

    /**
     * The end of a sync pass in one activity: the counts read (and sampled, as {@link refreshCounts} does), the
     * status they settle the batch in, and the batch's row published with it. The workflow takes both from the
     * result; it would otherwise wait for the counts and then for the status, two activities one after the other.
     */
    async settlePass(
      record: Omit<BatchStatusRecord, 'status'>,
    ): Promise<{ counts: MailboxCounts; status: ReturnType<typeof settledStatus> }> {
      const counts = await countMailboxes(pool, record.batchId);
      const status = settledStatus(counts);
      const lastError = status === 'Failed' ? ALL_MAILBOXES_FAILED : record.lastError;
      await Promise.all([
        sampleBatchProgress(pool, record.batchId, counts),
        publishBatchStatus(pool, { ...record, status, lastError }),
      ]);
      return { counts, status };
    },

    /** Mailboxes whose sync activity ran out of retries. */
    async markMailboxesFailed(failures: MailboxFailure[]): Promise<void> {
      await markMailboxesFailed(pool, failures);
    },

    /** After Stop: the mailboxes that were waiting or running are Stopped. */
    async markMailboxesStopped(batchId: string): Promise<MailboxCounts> {
      await markMailboxesStopped(pool, batchId);
      return countMailboxes(pool, batchId);
    },

    /** Writes an accepted edit to the batch's row before the command's update returns, so reads see it at once. */
    async applyEdit(input: { batchId: string; edit: BatchEdit }): Promise<void> {
      try {
        await applyBatchEdit(pool, input.batchId, input.edit);
      } catch (err) {
        if ((err as { code?: string }).code === '23503') {
          throw ApplicationFailure.nonRetryable('the edit names an endpoint that does not exist', 'ENDPOINT_NOT_FOUND');
        }
        throw err;
      }
    },

    /** Deletes every row of the batch (mailboxes, checkpoints, reports, progress); its audit entries stay. */
    async removeBatch(batchId: string): Promise<void> {
      await deleteBatchRows(pool, batchId);
    },
  };
}

/** The counts the workflow carries (the read model's, without Completing). */
async function countMailboxes(pool: Pool, batchId: string): Promise<MailboxCounts> {
  const { completing: _completing, ...counts }: MailboxCountsRow = await countMailboxRows(pool, batchId);
  return counts;
}
