import { randomUUID } from 'node:crypto';
import { createReportActivities } from '../../activities/batch-reports';
import type { ReportRequest } from '../../domain/batch-reports';
import { createSmtpMailer } from '../../mail/smtp';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { startSmtpServer, type SmtpFixture } from '../fixtures/smtp';

/**
 * The report activity against PostgreSQL and a real SMTP server: what Temporal's retries of it may do. A retry of
 * a report that went out sends nothing; a retry of one the server refused sends it; the failed mailboxes are
 * listed with their errors.
 */
let db: TestDatabase;
let smtp: SmtpFixture;
let activities: ReturnType<typeof createReportActivities>;

beforeAll(async () => {
  [db, smtp] = await Promise.all([createTestDatabase(), startSmtpServer()]);
  activities = createReportActivities({ pool: db.pool, mailer: createSmtpMailer(smtp.settings) });
});
afterAll(async () => {
  await Promise.all([db?.drop(), smtp?.close()]);
});

async function batch(options: { recipients?: string[]; skip?: boolean } = {}): Promise<string> {
  const batchId = randomUUID();
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security) values ($1, 'old.example', 143, 'none'),
       ($2, 'new.example', 143, 'none') returning id`,
    [`s-${batchId}`, `d-${batchId}`],
  );
  await db.pool.query(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by,
                          notification_emails, skip_reports)
     values ($1::uuid, $1::text, 'batch:' || $1::text, 'SyncedWithErrors', $2, $3, 'admin@contoso.com', $4, $5)`,
    [batchId, rows[0]!.id, rows[1]!.id, options.recipients ?? ['ops@contoso.com'], options.skip ?? false],
  );
  await db.pool.query(
    `insert into mailboxes (batch_id, email, source_user, status, last_error_code, last_error) values
       ($1, 'ann@contoso.com', 'ann', 'Synced', null, null),
       ($1, 'ben@contoso.com', 'ben', 'Failed', 'AUTH_FAILED', 'the source refused the login')`,
    [batchId],
  );
  return batchId;
}

const request = (key: string): ReportRequest => ({
  key,
  kind: 'status',
  status: 'SyncedWithErrors',
  batch: {
    startedAt: '2026-12-01T10:00:00.000Z',
    initialSyncAt: '2026-12-01T11:30:00.000Z',
    initialSyncDurationMs: 5_400_000,
    lastSyncedAt: '2026-12-01T11:30:00.000Z',
    lastError: null,
  },
});

const mailsFor = (batchId: string) => smtp.received.filter((r) => r.mail.subject?.includes(batchId));

test('a retried report that went out is not sent again', async () => {
  const batchId = await batch();
  expect(await activities.sendBatchReport({ batchId, ...request('status:SyncedWithErrors:1') })).toBe('sent');
  expect(await activities.sendBatchReport({ batchId, ...request('status:SyncedWithErrors:1') })).toBe('alreadySent');
  const mails = mailsFor(batchId);
  expect(mails).toHaveLength(1);
  const text = mails[0]!.mail.text!;
  expect(text).toMatch(/Status:\s+Synced with errors\n/);
  expect(text).toMatch(/Initial sync duration:\s+1h 30m\n/);
  expect(text).toContain('Failed mailboxes (1):\n  ben@contoso.com: AUTH_FAILED the source refused the login');
  expect(text).toMatch(/Associated endpoint \(destination\):\s+d-.* \(new\.example\)/);
});

test('a report the server refused is sent by the next attempt, and the error is on the batch until then', async () => {
  const batchId = await batch();
  smtp.refuseRecipients = true;
  try {
    await expect(activities.sendBatchReport({ batchId, ...request('summary:1') })).rejects.toMatchObject({
      type: 'SMTP_REFUSED',
      nonRetryable: false,
    });
  } finally {
    smtp.refuseRecipients = false;
  }
  const errorOf = async () =>
    (await db.pool.query('select last_report_error from batches where id = $1', [batchId])).rows[0].last_report_error;
  expect(await errorOf()).toMatch(/^SMTP_REFUSED: 127\.0\.0\.1:\d+: .*550/);
  expect(await errorOf()).not.toContain(smtp.password);
  expect(mailsFor(batchId)).toHaveLength(0);

  expect(await activities.sendBatchReport({ batchId, ...request('summary:1') })).toBe('sent');
  expect(mailsFor(batchId)).toHaveLength(1);
  expect(await errorOf()).toBeNull();
});

test('skipReports, no recipients, or no SMTP server: nothing is sent', async () => {
  for (const options of [{ skip: true }, { recipients: [] }]) {
    const batchId = await batch(options);
    expect(await activities.sendBatchReport({ batchId, ...request('status:Synced:1') })).toBe('skipped');
    expect(mailsFor(batchId)).toHaveLength(0);
  }
  const batchId = await batch();
  const unconfigured = createReportActivities({ pool: db.pool });
  await expect(unconfigured.sendBatchReport({ batchId, ...request('status:Synced:1') })).rejects.toMatchObject({
    type: 'SMTP_NOT_CONFIGURED',
    nonRetryable: true,
  });
  const { rows } = await db.pool.query('select last_report_error from batches where id = $1', [batchId]);
  expect(rows[0].last_report_error).toMatch(/^SMTP_NOT_CONFIGURED: .*MAILFERRY_SMTP_URL/);
});
