import type { Grade } from '../domain/consistency';
import type { Queryable } from './transaction';
import { VERIFICATION_OF_MAILBOX, type VerificationRow } from './verifications';

/** A mailbox as the migration users report shows it (secrets are never selected). */
export interface MailboxReportRow {
  id: string;
  email: string;
  source_user: string;
  destination_user: string | null;
  status: string;
  folders_total: number;
  folders_synced: number;
  items_total: string;
  /** Items of every kind; of them messages, calendar items (events, tasks) and contacts (0009). */
  items_synced: string;
  mail_items_synced: string;
  calendar_items_synced: string;
  contacts_synced: string;
  items_skipped: string;
  bytes_synced: string;
  current_folder: string | null;
  items_per_second: number | null;
  started_at: Date | null;
  initial_sync_at: Date | null;
  initial_sync_duration_ms: string | null;
  last_synced_at: Date | null;
  finalized_at: Date | null;
  last_error: string | null;
  last_error_code: string | null;
  updated_at: Date;
  /** The mailbox's last verification (db/verifications.ts), null before the first. */
  verification: VerificationRow | null;
  /** Its grade, for the CSV. */
  consistency_grade: Grade | null;
}

const REPORT_COLUMNS = `id, email, source_user, destination_user, status, folders_total, folders_synced, items_total,
  items_synced, items_synced - calendar_items_synced - contacts_synced as mail_items_synced, calendar_items_synced,
  contacts_synced, items_skipped, bytes_synced, current_folder, items_per_second, started_at, initial_sync_at,
  initial_sync_duration_ms, last_synced_at, finalized_at, last_error, last_error_code, updated_at,
  ${VERIFICATION_OF_MAILBOX} as verification,
  (select grade from verifications v where v.mailbox_id = mailboxes.id) as consistency_grade`;

/** Which of a batch's mailboxes the report shows: some statuses, a part of the address. */
export interface ReportFilter {
  batchId: string;
  statuses: string[] | null;
  search: string | null;
}

/** The report's filter as SQL ($1 batch, $2 statuses, $3 pattern); the list and the CSV export share it. */
const REPORT_WHERE = `batch_id = $1 and ($2::text[] is null or status = any($2)) and ($3::text is null or email ilike $3)`;

const filterArgs = (f: ReportFilter) => [
  f.batchId,
  f.statuses,
  f.search ? `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null,
];

/** One page of the report, and how many mailboxes match in all. */
export async function mailboxReportPage(
  db: Queryable,
  filter: ReportFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: MailboxReportRow[]; total: number }> {
  const args = filterArgs(filter);
  const [items, count] = await Promise.all([
    db.query<MailboxReportRow>(
      `select ${REPORT_COLUMNS} from mailboxes where ${REPORT_WHERE} order by id limit $4 offset $5`,
      [...args, page.limit, page.offset],
    ),
    db.query<{ n: number }>(`select count(*)::int as n from mailboxes where ${REPORT_WHERE}`, args),
  ]);
  return { rows: items.rows, total: count.rows[0]!.n };
}

/** The next rows of the report after mailbox id `afterId`, for an export that streams the whole batch. */
export async function mailboxReportAfter(
  db: Queryable,
  filter: ReportFilter,
  afterId: string,
  limit: number,
): Promise<MailboxReportRow[]> {
  const { rows } = await db.query<MailboxReportRow>(
    `select ${REPORT_COLUMNS} from mailboxes where ${REPORT_WHERE} and id > $4 order by id limit $5`,
    [...filterArgs(filter), afterId, limit],
  );
  return rows;
}

/** A migration user: the report row with its batch and its own settings. */
export interface MailboxUserRow extends MailboxReportRow {
  batch_id: string;
  batch_name: string;
  batch_status: string;
  workflow_id: string;
  start_after: Date | null;
  bad_item_limit: number | null;
  large_item_limit: number | null;
  folder_include: string[] | null;
  folder_exclude: string[] | null;
  skip_calendar: boolean | null;
  skip_contacts: boolean | null;
  skip_tasks: boolean | null;
}

/** The users whose mailbox rows `m` (a subquery with USER_COLUMNS) selects, with their batch. */
const USER_COLUMNS = `${REPORT_COLUMNS}, batch_id, start_after, bad_item_limit, large_item_limit, folder_include,
  folder_exclude, skip_calendar, skip_contacts, skip_tasks`;
const withBatch = (mailboxes: string) =>
  `select m.*, b.name as batch_name, b.status as batch_status, b.workflow_id
     from (${mailboxes}) m join batches b on b.id = m.batch_id order by m.id`;

/** Which migration users a lookup finds: by address (exactly, any case), batch and statuses. */
export interface UserFilter {
  email: string | null;
  batchId: string | null;
  statuses: string[] | null;
}

const USER_WHERE = `($1::text is null or lower(email) = lower($1)) and ($2::uuid is null or batch_id = $2)
  and ($3::text[] is null or status = any($3))`;

/** Migration users across batches, in id order, and how many match in all. */
export async function mailboxUsersPage(
  db: Queryable,
  filter: UserFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: MailboxUserRow[]; total: number }> {
  const args = [filter.email, filter.batchId, filter.statuses];
  const [items, count] = await Promise.all([
    db.query<MailboxUserRow>(
      withBatch(`select ${USER_COLUMNS} from mailboxes where ${USER_WHERE} order by id limit $4 offset $5`),
      [...args, page.limit, page.offset],
    ),
    db.query<{ n: number }>(`select count(*)::int as n from mailboxes where ${USER_WHERE}`, args),
  ]);
  return { rows: items.rows, total: count.rows[0]!.n };
}

export async function mailboxUser(db: Queryable, mailboxId: string): Promise<MailboxUserRow | null> {
  const { rows } = await db.query<MailboxUserRow>(withBatch(`select ${USER_COLUMNS} from mailboxes where id = $1`), [
    mailboxId,
  ]);
  return rows[0] ?? null;
}

/** The whole report, page by page in mailbox id order (the CSV export and the e-mailed reports' attachment). */
export async function* mailboxReportPages(
  db: Queryable,
  filter: ReportFilter,
  pageSize = 2000,
): AsyncGenerator<MailboxReportRow[]> {
  for (let after = '0'; ;) {
    const rows = await mailboxReportAfter(db, filter, after, pageSize);
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.id;
  }
}

export async function countBatchMailboxes(db: Queryable, batchId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from mailboxes where batch_id = $1', [
    batchId,
  ]);
  return rows[0]!.n;
}

export async function mailboxInBatch(db: Queryable, mailboxId: string, batchId: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from mailboxes where id = $1 and batch_id = $2', [mailboxId, batchId]);
  return rows.length > 0;
}

export interface SkippedItemRow {
  id: string;
  folder: string;
  source_uid: string | null;
  internal_date: Date | null;
  subject: string | null;
  size_bytes: string | null;
  reason: string;
  /** A message, a calendar item or a contact (0009). */
  item_kind: 'mail' | 'calendar' | 'contact';
  created_at: Date;
}

/** One page of the items a mailbox left behind, and how many there are. */
export async function skippedItemsPage(
  db: Queryable,
  mailboxId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: SkippedItemRow[]; total: number }> {
  const [items, count] = await Promise.all([
    db.query<SkippedItemRow>(
      `select id, folder, source_uid, internal_date, subject, size_bytes, reason, item_kind, created_at
         from skipped_items where mailbox_id = $1 order by id limit $2 offset $3`,
      [mailboxId, page.limit, page.offset],
    ),
    db.query<{ n: number }>('select count(*)::int as n from skipped_items where mailbox_id = $1', [mailboxId]),
  ]);
  return { rows: items.rows, total: count.rows[0]!.n };
}
