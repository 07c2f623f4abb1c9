import type { Queryable } from './transaction';

/** A `batch_reports` row (db/migrations/0004_batch_reports.sql): one e-mailed report of a batch. */
export interface BatchReportRow {
  batch_id: string;
  report_key: string;
  claimed_at: Date;
  sent_at: Date | null;
  recipients: string[];
  message_id: string | null;
}

/**
 * Claims a report before it is sent: inserts its row, or finds the row an earlier attempt left. Returns the row,
 * whose `sent_at` tells whether the report already went out, or null when another attempt inserted it while this
 * statement ran (its row is not yet visible here; try again).
 */
export async function claimBatchReport(
  db: Queryable,
  report: { batchId: string; key: string; recipients: string[] },
): Promise<BatchReportRow | null> {
  const { rows } = await db.query<BatchReportRow>(
    `with claimed as (
       insert into batch_reports (batch_id, report_key, recipients) values ($1, $2, $3)
       on conflict (batch_id, report_key) do nothing returning *)
     select * from claimed
     union all
     select * from batch_reports where batch_id = $1 and report_key = $2 and not exists (select 1 from claimed)`,
    [report.batchId, report.key, report.recipients],
  );
  return rows[0] ?? null;
}

/** After the SMTP server accepted the report: marks it sent and clears the batch's last report error. */
export async function markBatchReportSent(
  db: Queryable,
  report: { batchId: string; key: string; messageId: string | null },
): Promise<void> {
  await db.query(
    `with sent as (
       update batch_reports set sent_at = now(), message_id = $3 where batch_id = $1 and report_key = $2)
     update batches set last_report_error = null, last_report_at = now() where id = $1`,
    [report.batchId, report.key, report.messageId],
  );
}

/** A send that failed: the error the batch detail shows until a report goes out. */
export async function recordBatchReportError(db: Queryable, batchId: string, error: string): Promise<void> {
  await db.query('update batches set last_report_error = $2 where id = $1', [batchId, error]);
}
