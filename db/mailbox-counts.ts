import type { MailboxCounts } from '../domain/batch-messages';
import type { Queryable } from './transaction';

/** Mailbox counts of one batch by status (the rules: domain/batch-counts.ts): the workflow's, and Completing. */
export type MailboxCountsRow = MailboxCounts & { completing: number };

/** The counting rule, written once: every count of the read model and of the workflow selects these. */
export const MAILBOX_COUNT_COLUMNS = `
  count(*)::int as total,
  count(*) filter (where status = 'Queued')::int as queued,
  count(*) filter (where status = 'Syncing')::int as syncing,
  count(*) filter (where status in ('Synced', 'Completing', 'Completed')
                      or (status = 'Syncing' and initial_sync_at is not null))::int as synced,
  count(*) filter (where status = 'Failed')::int as failed,
  count(*) filter (where status = 'Stopped')::int as stopped,
  count(*) filter (where status = 'Completing')::int as completing,
  count(*) filter (where status = 'Completed')::int as finalized`;

export async function countMailboxes(db: Queryable, batchId: string): Promise<MailboxCountsRow> {
  const { rows } = await db.query<MailboxCountsRow>(
    `select ${MAILBOX_COUNT_COLUMNS} from mailboxes where batch_id = $1`,
    [batchId],
  );
  return rows[0]!;
}

/** The counts over every batch, and how many batches there are. */
export async function countAllMailboxes(db: Queryable): Promise<MailboxCountsRow & { batches: number }> {
  const { rows } = await db.query<MailboxCountsRow & { batches: number }>(
    `select ${MAILBOX_COUNT_COLUMNS}, (select count(*)::int from batches) as batches from mailboxes`,
  );
  return rows[0]!;
}
