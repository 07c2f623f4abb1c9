import type { Pool } from 'pg';
import type { BatchEdit, BatchSnapshot } from '../domain/batch-messages';
import { DEFAULT_REPORT_INTERVAL_MS } from '../domain/batch-reports';
import type { BatchStatus } from '../domain/batch-status';
import { MAILBOX_COUNT_COLUMNS } from './mailbox-counts';
import { withTransaction, type Queryable } from './transaction';

/** The `batches` row (db/migrations/0001_init.sql). */
export interface BatchRow {
  id: string;
  name: string;
  workflow_id: string;
  status: BatchStatus;
  source_endpoint_id: string;
  destination_endpoint_id: string;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  initial_sync_at: Date | null;
  initial_sync_duration_ms: string | null;
  last_synced_at: Date | null;
  start_after: Date | null;
  complete_after: Date | null;
  auto_start: boolean;
  auto_complete: boolean;
  bad_item_limit: number;
  large_item_limit: number;
  large_item_max_bytes: string;
  folder_include: string[];
  folder_exclude: string[];
  delete_on_destination: boolean;
  last_error: string | null;
  updated_at: Date;
  /** Who receives the batch's e-mailed reports (0004). */
  notification_emails: string[];
  /** Time between summary reports while the batch syncs (bigint: a string). */
  report_interval_ms: string;
  skip_reports: boolean;
  /** Why the last report could not be sent; cleared by the next one that goes out. */
  last_report_error: string | null;
  last_report_at: Date | null;
  /** Calendars (events), address books, tasks left out of the migration (0009). */
  skip_calendar: boolean;
  skip_contacts: boolean;
  skip_tasks: boolean;
}

/** The fields of a batch's row that its workflow owns, written on every status change (the read model). */
export type BatchStatusRecord = { batchId: string } & Pick<
  BatchSnapshot,
  | 'status'
  | 'startedAt'
  | 'initialSyncAt'
  | 'initialSyncDurationMs'
  | 'lastSyncedAt'
  | 'startAfter'
  | 'completeAfter'
  | 'autoComplete'
  | 'lastError'
>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A batch by id or by (case-insensitive) name, or null. */
export async function findBatchRow(db: Queryable, ref: string): Promise<BatchRow | null> {
  if (UUID.test(ref)) {
    const { rows } = await db.query<BatchRow>('select * from batches where id = $1', [ref]);
    if (rows[0]) return rows[0];
  }
  const { rows } = await db.query<BatchRow>('select * from batches where lower(name) = lower($1)', [ref]);
  return rows[0] ?? null;
}

export async function batchNameTaken(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from batches where lower(name) = lower($1)', [name]);
  return rows.length > 0;
}

export async function publishBatchStatus(db: Queryable, record: BatchStatusRecord): Promise<void> {
  await db.query(
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
}

/** Which of the batch's two endpoints still exist; null when the batch has no row. */
export async function batchEndpointsPresent(
  db: Queryable,
  batchId: string,
): Promise<{ source: boolean; destination: boolean } | null> {
  const { rows } = await db.query<{ source: string | null; destination: string | null }>(
    `select s.id as source, d.id as destination
       from batches b
       left join endpoints s on s.id = b.source_endpoint_id
       left join endpoints d on d.id = b.destination_endpoint_id
      where b.id = $1`,
    [batchId],
  );
  const row = rows[0];
  return row ? { source: row.source !== null, destination: row.destination !== null } : null;
}

/** Writes an accepted edit to the batch's row. Throws PostgreSQL's 23503 when it names a missing endpoint. */
export async function applyBatchEdit(db: Queryable, batchId: string, e: BatchEdit): Promise<void> {
  await db.query(
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
       notification_emails = coalesce($15, notification_emails),
       report_interval_ms = coalesce($16, report_interval_ms),
       skip_reports = coalesce($17, skip_reports),
       skip_calendar = coalesce($18, skip_calendar),
       skip_contacts = coalesce($19, skip_contacts),
       skip_tasks = coalesce($20, skip_tasks),
       updated_at = now()
     where id = $1`,
    [
      batchId,
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
      e.notificationEmails ?? null,
      e.reportIntervalMs ?? null,
      e.skipReports ?? null,
      e.skipCalendar ?? null,
      e.skipContacts ?? null,
      e.skipTasks ?? null,
    ],
  );
}

/** At most one progress sample per batch per this many seconds feeds the dashboard's chart. */
const PROGRESS_SAMPLE_SECONDS = 10;

/** Samples the batch's progress for the dashboard's chart, unless a sample is younger than ten seconds. */
export async function sampleBatchProgress(
  db: Queryable,
  batchId: string,
  counts: { synced: number; failed: number; finalized: number },
): Promise<void> {
  await db.query(
    `insert into batch_progress (batch_id, synced, failed, finalized, items_synced)
     select $1, $2, $3, $4, coalesce((select sum(items_synced) from mailboxes where batch_id = $1), 0)
      where not exists (select 1 from batch_progress
                         where batch_id = $1 and at > now() - make_interval(secs => $5))
     on conflict do nothing`,
    [batchId, counts.synced, counts.failed, counts.finalized, PROGRESS_SAMPLE_SECONDS],
  );
}

/**
 * Deletes every row of a batch in one transaction: the batch itself (its mailboxes, checkpoints, reports and
 * progress go with it by cascade). Its audit entries stay, so who removed the batch remains on record (they go
 * with MAILFERRY_AUDIT_RETENTION). With `withAudit` (a creation undone before the batch ever existed) its audit
 * entries go too.
 */
export async function deleteBatchRows(
  pool: Pool,
  batchId: string,
  options: { withAudit?: boolean } = {},
): Promise<void> {
  await withTransaction(pool, async (client) => {
    if (options.withAudit) await client.query('delete from audit_log where batch_id = $1', [batchId]);
    await client.query('delete from batches where id = $1', [batchId]);
  });
}

/** How the batch list may be sorted (the API's `sort` parameter). */
export type BatchSort =
  'name' | 'status' | 'createdAt' | 'total' | 'synced' | 'finalized' | 'failed' | 'percentageSynced';

const SORT_SQL: Record<BatchSort, string> = {
  name: 'lower(b.name)',
  status: 'b.status',
  createdAt: 'b.created_at',
  total: 'total',
  synced: 'synced',
  finalized: 'finalized',
  failed: 'failed',
  percentageSynced: 'case when total = 0 then 0 else synced::float / total end',
};

const COUNT_SORTS = new Set<BatchSort>(['total', 'synced', 'finalized', 'failed', 'percentageSynced']);

export type BatchListRow = BatchRow & { total: number; synced: number; finalized: number; failed: number };

/** One page of batches with their mailbox counts, and how many batches match in all. */
export async function listBatchRows(
  db: Queryable,
  q: {
    statuses: string[] | null;
    search: string | null;
    sort: BatchSort;
    order: 'asc' | 'desc';
    limit: number;
    offset: number;
  },
): Promise<{ rows: BatchListRow[]; total: number }> {
  const pattern = q.search ? `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const filter = `($1::text[] is null or b.status = any($1)) and ($2::text is null or b.name ilike $2)`;
  const counted = `coalesce(c.total, 0) as total, coalesce(c.synced, 0) as synced,
            coalesce(c.finalized, 0) as finalized, coalesce(c.failed, 0) as failed`;
  const orderBy = `order by ${SORT_SQL[q.sort]} ${q.order === 'asc' ? 'asc' : 'desc'}, b.created_at desc, b.id`;
  // Sorting by a count needs every batch's counts; otherwise only the page's batches are counted.
  const sql = COUNT_SORTS.has(q.sort)
    ? `with counts as (select batch_id, ${MAILBOX_COUNT_COLUMNS} from mailboxes group by batch_id)
       select b.*, ${counted}, count(*) over () as full_count
         from batches b left join counts c on c.batch_id = b.id
        where ${filter} ${orderBy} limit $3 offset $4`
    : `with page as (select b.*, count(*) over () as full_count from batches b where ${filter} ${orderBy} limit $3 offset $4),
            counts as (select batch_id, ${MAILBOX_COUNT_COLUMNS} from mailboxes where batch_id in (select id from page) group by batch_id)
       select b.*, ${counted} from page b left join counts c on c.batch_id = b.id ${orderBy}`;
  const { rows } = await db.query<BatchListRow & { full_count: string }>(sql, [q.statuses, pattern, q.limit, q.offset]);
  let total = rows[0] ? Number(rows[0].full_count) : 0;
  if (rows.length === 0 && q.offset > 0) {
    const all = await db.query<{ n: string }>(`select count(*) as n from batches b where ${filter}`, [
      q.statuses,
      pattern,
    ]);
    total = Number(all.rows[0]!.n);
  }
  return { rows: rows.map(({ full_count: _fullCount, ...row }) => row), total };
}

/** A new batch's row, as the API creates it (status Created). */
export interface NewBatchRow {
  id: string;
  name: string;
  workflowId: string;
  sourceEndpointId: string;
  destinationEndpointId: string;
  createdBy: string;
  startAfter: string | null;
  completeAfter: string | null;
  autoStart: boolean;
  autoComplete: boolean;
  badItemLimit: number;
  largeItemLimit: number;
  folderInclude: string[];
  folderExclude: string[];
  /** The e-mailed reports: nobody, every 24 hours, on, unless given. */
  notificationEmails?: string[];
  reportIntervalMs?: number;
  skipReports?: boolean;
  /** Calendars, address books, tasks left out: none unless given. */
  skipCalendar?: boolean;
  skipContacts?: boolean;
  skipTasks?: boolean;
}

export async function insertBatchRow(db: Queryable, b: NewBatchRow): Promise<BatchRow> {
  const { rows } = await db.query<BatchRow>(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by,
                          start_after, complete_after, auto_start, auto_complete, bad_item_limit, large_item_limit,
                          folder_include, folder_exclude, notification_emails, report_interval_ms, skip_reports,
                          skip_calendar, skip_contacts, skip_tasks)
     values ($1, $2, $3, 'Created', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
     returning *`,
    [
      b.id,
      b.name,
      b.workflowId,
      b.sourceEndpointId,
      b.destinationEndpointId,
      b.createdBy,
      b.startAfter,
      b.completeAfter,
      b.autoStart,
      b.autoComplete,
      b.badItemLimit,
      b.largeItemLimit,
      b.folderInclude,
      b.folderExclude,
      b.notificationEmails ?? [],
      b.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS,
      b.skipReports ?? false,
      b.skipCalendar ?? false,
      b.skipContacts ?? false,
      b.skipTasks ?? false,
    ],
  );
  return rows[0]!;
}

export interface ProgressSampleRow {
  at: Date;
  synced: number;
  failed: number;
  finalized: number;
  items_synced: string;
}

/** The latest `limit` progress samples of a batch (since `since`), oldest first. */
export async function progressSamples(
  db: Queryable,
  batchId: string,
  since: string | null,
  limit: number,
): Promise<ProgressSampleRow[]> {
  const { rows } = await db.query<ProgressSampleRow>(
    `select * from (
       select at, synced, failed, finalized, items_synced from batch_progress
        where batch_id = $1 and ($2::timestamptz is null or at >= $2) order by at desc limit $3
     ) recent order by at`,
    [batchId, since, limit],
  );
  return rows;
}
