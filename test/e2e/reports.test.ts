import { parse } from 'csv-parse/sync';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { SMTP_FROM, startSmtpServer, type SmtpFixture } from '../fixtures/smtp';
import { waitFor } from '../fixtures/wait-for';

/**
 * E-mailed reports end to end: real batches through the product (API, `temporal server start-dev`, the worker
 * with the real workflow and activities, PostgreSQL, two Dovecots) and a real SMTP server that parses what it
 * receives. A report carries the seed's batch statistics and the migration users report as CSV; an SMTP server
 * that refuses leaves the batch running, shows the error on the batch, and gets the report once it accepts.
 */
const USERS = ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dave@contoso.com', 'erin@contoso.com'];
/** A mailbox is in one active batch at a time: each wave has its own. */
const WAVES = { 'Wave 1': USERS.slice(0, 3), 'Wave 2': USERS.slice(3) };
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;
const MASTER = { user: 'migrator', password: 'master-Pa55word' };
const RECIPIENTS = ['ops@contoso.com', 'it-lead@contoso.com'];

let product: RunningProduct;
let smtp: SmtpFixture;
let source: DovecotServer;
let destination: DovecotServer;
let endpoints: { sourceEndpointId: string; destinationEndpointId: string };

beforeAll(async () => {
  smtp = await startSmtpServer();
  [product, source, destination] = await Promise.all([
    startProduct({ smtp: smtp.settings }),
    startDovecot({ users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ masterUser: MASTER, users: USERS.map((u) => ({ user: u, password: 'unused' })) }),
  ]);
  for (const [i, user] of USERS.entries()) {
    await source.seed(
      user,
      Array.from({ length: 2 + i }, (_, n) => ({ folder: 'INBOX', raw: buildMessage({ subject: `${user} ${n}` }) })),
    );
  }
  const src = await api('POST', '/endpoints?skipTest=true', {
    name: 'Old IMAP',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const dst = await api('POST', '/endpoints?skipTest=true', {
    name: 'New IMAP',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
  });
  endpoints = { sourceEndpointId: src.id, destinationEndpointId: dst.id };
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([product?.stop(), source?.close(), destination?.close(), smtp?.close()]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);

function waitForBatch(id: string, done: (b: any) => boolean, what: string): Promise<any> {
  return waitFor(
    async () => {
      const batch = await api('GET', `/batches/${id}`);
      return done(batch) && batch;
    },
    `the batch to have ${what}`,
    { timeoutMs: 90_000, intervalMs: 200, describe: () => api('GET', `/batches/${id}`) },
  );
}

const reportsFor = (name: string) => smtp.received.filter((r) => r.mail.subject?.includes(`batch ${name} `));

async function createBatch(name: keyof typeof WAVES, extra: Record<string, unknown> = {}): Promise<any> {
  const csv = ['EmailAddress,UserName,Password', ...WAVES[name].map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  return api('POST', '/batches', {
    name,
    ...endpoints,
    csv,
    autoStart: true,
    notificationEmails: RECIPIENTS,
    ...extra,
  });
}

test('a batch that reaches Synced mails one report: statistics in the body, the users report attached', async () => {
  const created = await createBatch('Wave 1');
  expect(created).toMatchObject({
    notificationEmails: RECIPIENTS,
    reportInterval: '1d',
    skipReports: false,
    lastReportError: null,
  });
  const synced = await waitForBatch(created.id, (b) => b.status === 'Synced', 'Synced');
  const [report] = await waitFor(() => reportsFor('Wave 1').length > 0 && reportsFor('Wave 1'), 'the report');

  expect(report!.envelopeTo.sort()).toEqual([...RECIPIENTS].sort());
  expect(report!.envelopeFrom).toBe(SMTP_FROM);
  expect(report!.mail.subject).toBe('mailferry: batch Wave 1 is Synced');
  const body = report!.mail.text!;
  expect(body).toMatch(/Status:\s+Synced\n/);
  expect(body).toMatch(/Requested:\s+3\n/);
  expect(body).toMatch(/Synced mailboxes:\s+3 of 3 \(100 %\)\n/);
  expect(body).toMatch(/Failed mailboxes:\s+0\n/);
  expect(body).toMatch(/Created by:\s+\S+/);
  expect(body).toContain(`Initial sync time:`);
  expect(body).toContain(synced.initialSyncAt.replace(/\.\d{3}Z$/, 'Z'));
  expect(body).toMatch(/Associated endpoint \(source\):\s+Old IMAP/);

  const [attachment] = report!.mail.attachments;
  expect(attachment).toMatchObject({ filename: 'Wave_1-mailboxes.csv', contentType: 'text/csv' });
  const rows: Record<string, string>[] = parse(attachment!.content.toString('utf8'), { columns: true });
  expect(rows.map((r) => [r.EmailAddress, r.Status, r.ItemsSynced])).toEqual(
    WAVES['Wave 1'].map((u, i) => [u, 'Synced', String(2 + i)]),
  );
  // The same CSV the API exports.
  const exported = await product.api.request('GET', `/batches/${created.id}/mailboxes.csv`);
  expect(attachment!.content.toString('utf8')).toBe(exported.text);

  const detail = await waitForBatch(created.id, (b) => b.lastReportAt !== null, 'recorded the report');
  expect(detail.lastReportError).toBeNull();
});

test('an SMTP server that refuses leaves the batch Synced with the error shown, and gets the report once it accepts', async () => {
  smtp.refuseRecipients = true;
  const created = await createBatch('Wave 2');
  const refused = await waitForBatch(
    created.id,
    (b) => b.status === 'Synced' && b.lastReportError !== null,
    'Synced with a report error',
  );
  expect(refused.lastReportError).toMatch(/^SMTP_REFUSED: .*550/);
  expect(reportsFor('Wave 2')).toEqual([]);
  // The batch still takes commands while the report waits for its retry.
  await api('POST', `/batches/${created.id}/sync-now`);
  await waitForBatch(
    created.id,
    (b) => b.status === 'Synced' && b.lastSyncedAt !== refused.lastSyncedAt,
    'ran an incremental sync',
  );

  smtp.refuseRecipients = false;
  await waitFor(() => reportsFor('Wave 2').length > 0, 'the retried report', { timeoutMs: 90_000 });
  const delivered = await waitForBatch(created.id, (b) => b.lastReportError === null, 'cleared the report error');
  expect(delivered.lastReportAt).not.toBeNull();
  expect(reportsFor('Wave 2').map((r) => r.mail.subject)).toEqual(['mailferry: batch Wave 2 is Synced']);
});

test('the report settings come through the CSV upload and PATCH; a bad address or interval is refused', async () => {
  const csv = 'EmailAddress,UserName,Password\nfrank@contoso.com,frank,pw-frank\n';
  for (const settings of [{ notificationEmails: ['not-an-address'] }, { reportInterval: '5s' }]) {
    const refused = await product.api.request('POST', '/batches', {
      json: { name: 'Wave 3', ...endpoints, csv, ...settings },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
  }
  const query = new URLSearchParams({
    name: 'Wave 3',
    ...endpoints,
    notificationEmails: 'ops@contoso.com, it-lead@contoso.com',
    reportInterval: '12h',
    skipReports: 'true',
  });
  const created = await product.api.request('POST', `/batches?${query}`, { body: csv, contentType: 'text/csv' });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ notificationEmails: RECIPIENTS, reportInterval: '12h', skipReports: true });

  const edited = await api('PATCH', `/batches/${created.body.id}`, {
    notificationEmails: ['ops@contoso.com'],
    reportInterval: '7d',
    skipReports: false,
  });
  expect(edited.batch).toMatchObject({
    notificationEmails: ['ops@contoso.com'],
    reportInterval: '7d',
    skipReports: false,
  });
  expect(await api('GET', `/batches/${created.body.id}`)).toMatchObject({
    notificationEmails: ['ops@contoso.com'],
    reportInterval: '7d',
  });
});

test('each report went out exactly once, and the SMTP password is nowhere: logs, replies, histories, mails', async () => {
  // Wave 1 has meanwhile waited through the whole of Wave 2: its Synced report was not sent again.
  expect(reportsFor('Wave 1')).toHaveLength(1);
  expect(reportsFor('Wave 2')).toHaveLength(1);
  const { rows } = await product.api.db.pool.query<{ report_key: string; sent_at: Date | null }>(
    'select report_key, sent_at from batch_reports order by claimed_at',
  );
  expect(rows).toHaveLength(2);
  expect(rows.every((r) => r.sent_at !== null && r.report_key.startsWith('status:Synced:'))).toBe(true);

  const histories: string[] = [];
  for (const name of ['Wave 1', 'Wave 2']) {
    const history = await product.env.client.workflow.getHandle(`batch:${name}`).fetchHistory();
    histories.push(JSON.stringify(history));
  }
  const everything = [
    product.api.logger.text(),
    ...product.api.responses,
    ...histories,
    ...smtp.received.map((r) => `${r.mail.text}${r.mail.attachments.map((a) => a.content.toString()).join('')}`),
  ].join('\n');
  expect(everything).toContain('Wave 1');
  expect(everything).not.toContain(smtp.password);
});
