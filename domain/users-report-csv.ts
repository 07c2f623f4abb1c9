/**
 * The migration users report as CSV, one line per mailbox: the API's export (`GET /batches/{id}/mailboxes.csv`)
 * and the e-mailed reports' attachment write the same columns the same way.
 */

/** The mailbox fields the CSV shows (db/mailbox-report.ts's row has them all). */
export interface UsersReportCsvRow {
  email: string;
  source_user: string;
  status: string;
  items_synced: string;
  mail_items_synced: string;
  calendar_items_synced: string;
  contacts_synced: string;
  items_skipped: string;
  items_total: string;
  bytes_synced: string;
  folders_synced: number;
  folders_total: number;
  started_at: Date | null;
  initial_sync_at: Date | null;
  last_synced_at: Date | null;
  finalized_at: Date | null;
  last_error_code: string | null;
  last_error: string | null;
  /** The grade of the mailbox's last verification (domain/consistency.ts); null before the first. */
  consistency_grade: string | null;
}

const COLUMNS: readonly (readonly [string, keyof UsersReportCsvRow])[] = [
  ['EmailAddress', 'email'],
  ['UserName', 'source_user'],
  ['Status', 'status'],
  ['ItemsSynced', 'items_synced'],
  ['ItemsSkipped', 'items_skipped'],
  ['ItemsTotal', 'items_total'],
  ['BytesSynced', 'bytes_synced'],
  ['FoldersSynced', 'folders_synced'],
  ['FoldersTotal', 'folders_total'],
  ['StartedAt', 'started_at'],
  ['InitialSyncAt', 'initial_sync_at'],
  ['LastSyncedAt', 'last_synced_at'],
  ['FinalizedAt', 'finalized_at'],
  ['ErrorCode', 'last_error_code'],
  ['Error', 'last_error'],
  ['ConsistencyGrade', 'consistency_grade'],
  // Of ItemsSynced, by kind; last, so that readers of the columns before them read them where they were.
  ['MailItemsSynced', 'mail_items_synced'],
  ['CalendarItemsSynced', 'calendar_items_synced'],
  ['ContactsSynced', 'contacts_synced'],
];

/** The header line, CRLF-terminated. */
export const USERS_REPORT_CSV_HEADER = COLUMNS.map(([header]) => header).join(',') + '\r\n';

/** A CSV cell: quoted when needed; a leading = + - @ is defused so spreadsheets do not run it as a formula. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One mailbox's line, CRLF-terminated. */
export function usersReportCsvLine(row: UsersReportCsvRow): string {
  return COLUMNS.map(([, field]) => csvCell(row[field])).join(',') + '\r\n';
}

/** A file name for the batch's report: its name with anything unusual replaced. */
export function usersReportFileName(batchName: string): string {
  return `${batchName.replace(/[^A-Za-z0-9._-]/g, '_')}-mailboxes.csv`;
}
