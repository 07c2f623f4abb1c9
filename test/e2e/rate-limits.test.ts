import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { waitFor } from '../fixtures/wait-for';

/**
 * Rate limits end to end (API, workflow, worker, PostgreSQL, two Dovecots): a destination whose per-mailbox daily
 * upload budget is spent holds each mailbox with QUOTA_BUDGET_EXHAUSTED while the batch stays Syncing, and raising
 * the budget through the API, while the batch runs, lets every mailbox finish.
 */
const USERS = ['erin@contoso.com', 'frank@contoso.com'];
const PASSWORD = 'pw-S3cret!';
const MASTER = { user: 'migrator', password: 'master-Pa55word' };
/** ~1 kB messages in MULTIAPPEND batches of 100: the first batch fits the day's 150 kB, the second does not. */
const MESSAGES = 250;

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  [product, source, destination] = await Promise.all([
    startProduct(),
    startDovecot({ users: USERS.map((user) => ({ user, password: PASSWORD })) }),
    startDovecot({ masterUser: MASTER, users: USERS.map((user) => ({ user, password: 'unused' })) }),
  ]);
  for (const user of USERS) {
    await source.seed(
      user,
      Array.from({ length: MESSAGES }, (_, n) => ({
        folder: 'INBOX',
        raw: buildMessage({ subject: `${user} ${n}`, size: 1000 }),
      })),
    );
  }
});

afterAll(async () => {
  await Promise.allSettled([product?.stop(), source?.close(), destination?.close()]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);
const copied = async (user: string) => comparableMessages(await destination.readMailbox(user), destination);

test('a spent daily budget holds the mailboxes without failing the batch; a budget raised meanwhile lets them finish', async () => {
  const sourceEndpoint = await api('POST', '/endpoints', {
    name: 'Old IMAP',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const destinationEndpoint = await api('POST', '/endpoints', {
    name: 'New IMAP',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
    rateLimits: { upload: { mailboxBytesPerDay: 150_000 } },
  });
  const batch = await api('POST', '/batches', {
    name: 'Budgeted wave',
    sourceEndpointId: sourceEndpoint.id,
    destinationEndpointId: destinationEndpoint.id,
    csv: ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD}`)].join('\n'),
  });
  await waitFor(async () => (await api('GET', `/batches/${batch.id}`)).status === 'Created', 'the batch to exist');
  await api('POST', `/batches/${batch.id}/start`);

  const mailboxes = () => api('GET', `/batches/${batch.id}/mailboxes`).then((r) => r.items as any[]);
  const held = await waitFor(
    async () => {
      const items = await mailboxes();
      return items.every((m) => m.lastErrorCode === 'QUOTA_BUDGET_EXHAUSTED') && items;
    },
    'both mailboxes to wait for their budget',
    { timeoutMs: 60_000, describe: mailboxes },
  );
  for (const m of held) {
    expect(m.status).toBe('Syncing');
    expect(m.lastError).toMatch(
      /daily upload budget for this mailbox is spent; the sync resumes at \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
  }
  for (const user of USERS) expect(await copied(user)).toHaveLength(100);
  expect((await api('GET', `/batches/${batch.id}`)).status).toBe('Syncing');

  // The batch is running, yet its endpoint's limits may change: the waiting syncs see it at their next ask.
  const raised = await api('PATCH', `/endpoints/${destinationEndpoint.id}`, {
    rateLimits: { upload: { mailboxBytesPerDay: 1_000_000 } },
  });
  expect(raised.effectiveRateLimits.upload.mailboxBytesPerDay).toBe(1_000_000);
  await waitFor(async () => (await api('GET', `/batches/${batch.id}`)).status === 'Synced', 'the batch to be Synced', {
    timeoutMs: 60_000,
    describe: mailboxes,
  });
  for (const m of await mailboxes()) expect(m).toMatchObject({ status: 'Synced', lastErrorCode: null });
  for (const user of USERS) {
    expect(await copied(user)).toEqual(comparableMessages(await source.readMailbox(user), source));
  }
});
