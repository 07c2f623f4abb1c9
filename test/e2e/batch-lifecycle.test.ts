import { statusQuery, type BatchSnapshot } from '../../domain/batch-messages';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { waitFor } from '../fixtures/wait-for';

/**
 * The batch lifecycle end to end on the real pieces: `temporal server start-dev`, the worker with the real
 * workflow and activities, the API, PostgreSQL, and two Dovecot servers with different hierarchy separators.
 * At each step the read model (PostgreSQL, through the API) must agree with the workflow's `status` query.
 */
const USERS = ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dave@contoso.com'];
/** Dave joins the batch after its initial sync. */
const FIRST_WAVE = USERS.slice(0, 3);
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;
const MASTER = { user: 'migrator', password: 'master-Pa55word' };

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  [product, source, destination] = await Promise.all([
    startProduct(),
    startDovecot({ separator: '.', prefix: 'INBOX.', users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ separator: '/', masterUser: MASTER, users: USERS.map((u) => ({ user: u, password: 'unused' })) }),
  ]);
  for (const [i, user] of USERS.entries()) {
    await source.seed(
      user,
      Array.from({ length: 3 + i }, (_, n) => ({
        folder: n % 2 === 0 ? 'INBOX' : 'INBOX.Projects',
        raw: buildMessage({ subject: `${user} message ${n}`, size: n === 0 ? 40_000 : undefined }),
        flags: n === 1 ? ['\\Seen', '\\Flagged'] : ['\\Seen'],
        internalDate: new Date(Date.UTC(2024, 0, 1 + n, 8)),
      })),
    );
  }
});

afterAll(async () => {
  await Promise.allSettled([product?.stop(), source?.close(), destination?.close()]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);

function waitForBatch(id: string, done: (b: any) => boolean, what: string): Promise<any> {
  return waitFor(
    async () => {
      const batch = await api('GET', `/batches/${id}`);
      return done(batch) && batch;
    },
    `the batch to have ${what}`,
    { timeoutMs: 60_000, intervalMs: 100, describe: () => api('GET', `/batches/${id}`) },
  );
}

async function workflowStatus(workflowId: string): Promise<BatchSnapshot> {
  return product.env.client.workflow.getHandle(workflowId).query(statusQuery);
}

/** The read model and the workflow tell the same story (once the workflow's last activity has landed). */
async function expectAgreement(batch: any): Promise<void> {
  const view = async () => {
    const wf = await workflowStatus(batch.workflowId);
    const fresh = await api('GET', `/batches/${batch.id}`);
    const pick = (status: string, c: any, lastSyncedAt: string | null, initialSyncAt: string | null) => ({
      status,
      total: c.total,
      synced: c.synced,
      failed: c.failed,
      finalized: c.finalized,
      lastSyncedAt,
      initialSyncAt,
    });
    return {
      readModel: {
        ...pick(fresh.status, fresh, fresh.lastSyncedAt, fresh.initialSyncAt),
        endpoints: { sourceEndpointId: fresh.sourceEndpoint.id, destinationEndpointId: fresh.destinationEndpoint.id },
      },
      workflow: { ...pick(wf.status, wf.counts, wf.lastSyncedAt, wf.initialSyncAt), endpoints: wf.endpoints },
    };
  };
  let seen = await view();
  for (let i = 0; i < 150 && JSON.stringify(seen.readModel) !== JSON.stringify(seen.workflow); i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await view();
  }
  expect(seen.readModel).toEqual(seen.workflow);
}

async function expectMailboxesCopied(users = USERS): Promise<void> {
  for (const user of users) {
    const from = comparableMessages(await source.readMailbox(user), { prefix: 'INBOX.', separator: '.' });
    const to = comparableMessages(await destination.readMailbox(user), { prefix: '', separator: '/' });
    expect(to).toEqual(from);
  }
}

test('a batch moves real mail from start to removal, and the read model follows the workflow', async () => {
  const sourceEndpoint = await api('POST', '/endpoints', {
    name: 'Old IMAP',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const destinationEndpoint = await api('POST', '/endpoints', {
    name: 'New IMAP',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const csvOf = (users: string[]) =>
    ['EmailAddress,UserName,Password', ...users.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  const csv = csvOf(FIRST_WAVE);
  const created = await api('POST', '/batches', {
    name: 'Contoso wave 1',
    sourceEndpointId: sourceEndpoint.id,
    destinationEndpointId: destinationEndpoint.id,
    csv,
  });
  const id: string = created.id;
  const batch = await waitForBatch(id, (b) => b.status === 'Created', 'Created');
  expect(batch.workflowId).toBe('batch:Contoso wave 1');
  await expectAgreement(batch);

  // Start: every mailbox's mail arrives, byte for byte, with flags and dates.
  await api('POST', `/batches/${id}/start`);
  const synced = await waitForBatch(id, (b) => b.status === 'Synced', 'Synced');
  expect(synced).toMatchObject({ total: 3, synced: 3, failed: 0, percentageSynced: 100 });
  expect(synced.startedAt).not.toBeNull();
  expect(synced.initialSyncAt).not.toBeNull();
  await expectMailboxesCopied(FIRST_WAVE);
  await expectAgreement(synced);

  // Incremental: mail that arrives later is copied by the next pass, once.
  await source.seed(USERS[0]!, [{ folder: 'INBOX.Projects', raw: buildMessage({ subject: 'late arrival' }) }]);
  await api('POST', `/batches/${id}/sync-now`);
  const afterIncremental = await waitForBatch(
    id,
    (b) => b.status === 'Synced' && b.lastSyncedAt !== synced.lastSyncedAt,
    'ran an incremental sync',
  );
  await expectMailboxesCopied(FIRST_WAVE);
  await expectAgreement(afterIncremental);

  // A mailbox added to the Synced batch is counted at once and synced by the next pass.
  await api('POST', `/batches/${id}/mailboxes`, { csv: csvOf(['dave@contoso.com']) });
  const grown = await waitForBatch(id, (b) => b.total === 4, 'counted the added mailbox');
  await expectAgreement(grown); // the workflow counts it too, once its count refresh has landed
  await api('POST', `/batches/${id}/sync-now`);
  const withDave = await waitForBatch(id, (b) => b.status === 'Synced' && b.synced === 4, 'synced the added mailbox');
  await expectMailboxesCopied();
  await expectAgreement(withDave);

  // Stop and resume.
  await api('POST', `/batches/${id}/stop`);
  const stopped = await waitForBatch(id, (b) => b.status === 'Stopped', 'Stopped');
  await expectAgreement(stopped);
  await api('POST', `/batches/${id}/resume`);
  const resumed = await waitForBatch(id, (b) => b.status === 'Synced', 'Synced again');
  await expectAgreement(resumed);

  // Complete: a final sync of every mailbox, all finalized.
  await source.seed(USERS[1]!, [{ folder: 'INBOX', raw: buildMessage({ subject: 'just before cutover' }) }]);
  await api('POST', `/batches/${id}/complete`);
  const completed = await waitForBatch(id, (b) => b.status === 'Completed', 'Completed');
  expect(completed).toMatchObject({ total: 4, synced: 4, finalized: 4, failed: 0 });
  await expectMailboxesCopied();
  await expectAgreement(completed);

  // Remove: the workflow ends and the batch leaves no row behind but its audit entries, the removal included.
  const res = await product.api.request('DELETE', `/batches/${id}`);
  expect(res.status).toBe(202);
  await product.env.client.workflow.getHandle(batch.workflowId).result();
  const pool = product.api.db.pool;
  for (const table of [
    'batches where id = $1',
    'mailboxes where batch_id = $1',
    'batch_progress where batch_id = $1',
  ]) {
    const { rows } = await pool.query(`select count(*)::int as n from ${table}`, [id]);
    expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
  }
  const { rows: removals } = await pool.query(
    "select outcome from audit_log where batch_id = $1 and command = 'remove'",
    [id],
  );
  expect(removals).toEqual([{ outcome: 'accepted' }]);
  const { rows: leftovers } = await pool.query(
    `select (select count(*) from folder_checkpoints)::int + (select count(*) from skipped_items)::int + (select count(*) from endpoint_leases)::int as n`,
  );
  expect(leftovers[0].n).toBe(0);
  expect((await product.api.request('GET', `/batches/${id}`)).status).toBe(404);
});
