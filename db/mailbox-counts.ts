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

/** A batch's items over all its mailboxes: every kind, then messages, calendar items and contacts; skipped. */
export interface BatchItemTotals {
  synced: number;
  mail: number;
  calendar: number;
  contacts: number;
  skipped: number;
}

export async function countBatchItems(db: Queryable, batchId: string): Promise<BatchItemTotals> {
  const { rows } = await db.query<Record<keyof BatchItemTotals, string>>(
    `select coalesce(sum(items_synced), 0) as synced,
            coalesce(sum(items_synced - calendar_items_synced - contacts_synced), 0) as mail,
            coalesce(sum(calendar_items_synced), 0) as calendar, coalesce(sum(contacts_synced), 0) as contacts,
            coalesce(sum(items_skipped), 0) as skipped
       from mailboxes where batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    synced: Number(r.synced),
    mail: Number(r.mail),
    calendar: Number(r.calendar),
    contacts: Number(r.contacts),
    skipped: Number(r.skipped),
  };
}
