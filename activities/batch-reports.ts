import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { claimBatchReport, markBatchReportSent, recordBatchReportError } from '../db/batch-reports';
import { findBatchRow } from '../db/batches';
import { listEndpointRefs } from '../db/endpoints';
import { countMailboxes } from '../db/mailbox-counts';
import { mailboxReportPage, mailboxReportPages } from '../db/mailbox-report';
import type { ReportRequest } from '../domain/batch-reports';
import { USERS_REPORT_CSV_HEADER, usersReportCsvLine, usersReportFileName } from '../domain/users-report-csv';
import { reportSubject, reportText } from '../mail/batch-report';
import { MailSendError, type Mailer } from '../mail/smtp';

const time = (iso: string | null) => (iso === null ? null : new Date(iso));

/** The failed mailboxes a report lists by name; the attachment has them all. */
const FAILED_LISTED = 100;

export type SendReportOutcome = 'sent' | 'alreadySent' | 'skipped';

/**
 * The e-mailed reports of a batch. `mailer` is absent when MAILFERRY_SMTP_URL is unset.
 *
 * Each report is sent once, even when Temporal runs the activity again: its row in `batch_reports` is claimed
 * before the message goes to the SMTP server and marked sent after the server accepted it. A retry finds a sent
 * row and stops; a claim without a sent mark (the server refused, or the worker died between the server's reply
 * and the mark) is sent again. That last window can repeat a report, never lose one: at least once, with the
 * SMTP server's acceptance as the only proof of delivery we get.
 */
export function createReportActivities({ pool, mailer }: { pool: Pool; mailer?: Mailer }) {
  return {
    async sendBatchReport(input: ReportRequest & { batchId: string }): Promise<SendReportOutcome> {
      const batch = await findBatchRow(pool, input.batchId);
      if (!batch || batch.skip_reports || batch.notification_emails.length === 0) return 'skipped';
      if (!mailer) {
        const message = 'the batch lists notificationEmails but MAILFERRY_SMTP_URL is not set on the worker';
        await recordBatchReportError(pool, batch.id, `SMTP_NOT_CONFIGURED: ${message}`);
        throw ApplicationFailure.nonRetryable(message, 'SMTP_NOT_CONFIGURED');
      }
      const recipients = batch.notification_emails;
      const claim = await claimBatchReport(pool, { batchId: batch.id, key: input.key, recipients });
      if (!claim) throw ApplicationFailure.retryable('another attempt is claiming this report', 'REPORT_CLAIMED');
      if (claim.sent_at !== null) return 'alreadySent';

      const [counts, endpoints, failed] = await Promise.all([
        countMailboxes(pool, batch.id),
        listEndpointRefs(pool, [batch.source_endpoint_id, batch.destination_endpoint_id]),
        mailboxReportPage(
          pool,
          { batchId: batch.id, statuses: ['Failed'], search: null },
          { limit: FAILED_LISTED, offset: 0 },
        ),
      ]);
      let csv = USERS_REPORT_CSV_HEADER;
      for await (const rows of mailboxReportPages(pool, { batchId: batch.id, statuses: null, search: null })) {
        csv += rows.map(usersReportCsvLine).join('');
      }
      const endpoint = (role: 'source' | 'destination', id: string) => {
        const found = endpoints.find((e) => e.id === id);
        return { role, name: found?.name ?? '(deleted)', host: found?.host ?? '' };
      };
      const facts = {
        kind: input.kind,
        name: batch.name,
        status: input.status,
        counts,
        createdBy: batch.created_by,
        createdAt: batch.created_at,
        startedAt: time(input.batch.startedAt),
        initialSyncAt: time(input.batch.initialSyncAt),
        initialSyncDurationMs: input.batch.initialSyncDurationMs,
        lastSyncedAt: time(input.batch.lastSyncedAt),
        endpoints: [
          endpoint('source', batch.source_endpoint_id),
          endpoint('destination', batch.destination_endpoint_id),
        ],
        lastError: input.batch.lastError,
        failed: failed.rows.map((m) => ({ email: m.email, code: m.last_error_code, error: m.last_error })),
        failedTotal: failed.total,
      };

      let messageId: string | null;
      try {
        ({ messageId } = await mailer.send({
          to: recipients,
          subject: reportSubject(facts),
          text: reportText(facts),
          attachments: [{ filename: usersReportFileName(batch.name), content: csv, contentType: 'text/csv' }],
        }));
      } catch (err) {
        if (!(err instanceof MailSendError)) throw err;
        await recordBatchReportError(pool, batch.id, `${err.code}: ${err.message}`);
        // Retryable: Temporal tries again with backoff (the workflow's retry policy bounds it).
        throw ApplicationFailure.retryable(err.message, err.code);
      }
      await markBatchReportSent(pool, { batchId: batch.id, key: input.key, messageId });
      return 'sent';
    },
  };
}
