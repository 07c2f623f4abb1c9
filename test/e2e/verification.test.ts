import { runCli } from '../../cli/run';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { waitFor } from '../fixtures/wait-for';

/**
 * Verified migrations end to end on the real pieces (API, batch workflow on a dev server, worker, PostgreSQL, two
 * Dovecots): a synced batch is verified and graded per mailbox; a message the test deletes on the destination
 * grades that mailbox Investigate and names the message; Complete is refused with CONSISTENCY_NOT_APPROVED naming
 * it until its differences are approved (audited); then Complete goes through, verifying every mailbox as its
 * last step. The CLI's verify --watch, users show and users approve on the same batch.
 */
const USERS = ['alice@contoso.com', 'bob@contoso.com'];
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  const accounts = USERS.map((u) => ({ user: u, password: PASSWORD(u) }));
  [product, source, destination] = await Promise.all([
    startProduct(),
    startDovecot({ users: accounts }),
    startDovecot({ users: accounts }),
  ]);
  for (const user of USERS) {
    await source.seed(
      user,
      Array.from({ length: 6 }, (_, n) => ({
        folder: n % 2 === 0 ? 'INBOX' : 'Projects',
        raw: buildMessage({ subject: `${user} message ${n}` }),
        flags: n % 3 === 0 ? ['\\Seen'] : [],
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
    { timeoutMs: 45_000, intervalMs: 200, describe: () => api('GET', `/batches/${id}`) },
  );
}

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { MAILFERRY_URL: product.api.url, MAILFERRY_TOKEN: product.api.adminToken, HOME: '/nonexistent' },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
  });
  return { code, stdout, stderr };
}

const rows = async (id: string) =>
  (await api('GET', `/batches/${id}/mailboxes`)).items as Array<{ id: string; emailAddress: string; consistency: any }>;

test('verify grades each mailbox, Complete waits for the approval of differences, then completes', async () => {
  const endpoint = (name: string, server: { host: string; port: number }) =>
    api('POST', '/endpoints?skipTest=true', {
      name,
      type: 'imap',
      host: server.host,
      port: server.port,
      security: 'none',
    });
  const src = await endpoint('Old IMAP', source);
  const dst = await endpoint('New IMAP', destination);
  const csv = [
    'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
    ...USERS.map((u) => `${u},${u},${PASSWORD(u)},${u},${PASSWORD(u)}`),
  ].join('\n');
  const batch = await api('POST', '/batches', {
    name: 'Verified wave',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
    autoStart: true,
  });
  await waitForBatch(batch.id, (b) => b.status === 'Synced' && b.synced === 2, 'Synced');

  // A clean sync: both Perfect, the batch counts them.
  const verify = await api('POST', `/batches/${batch.id}/verify`, {});
  expect(verify).toMatchObject({ command: 'verify', outcome: 'accepted', batch: { status: 'Synced' } });
  await waitForBatch(batch.id, (b) => b.verification === null && b.grades.Perfect === 2, 'two Perfect mailboxes');

  // Damage on the destination, then a deep verification of the batch.
  const imap = await destination.connect('bob@contoso.com', PASSWORD('bob@contoso.com'));
  try {
    const lock = await imap.getMailboxLock('Projects');
    try {
      const [uid] = (await imap.search({ subject: 'bob@contoso.com message 3' }, { uid: true })) as number[];
      await imap.messageDelete(String(uid), { uid: true });
    } finally {
      lock.release();
    }
  } finally {
    await imap.logout();
  }
  await api('POST', `/batches/${batch.id}/verify`, { deep: true });
  const graded = await waitForBatch(
    batch.id,
    (b) => b.verification === null && b.grades.Investigate === 1 && b.grades.Perfect === 1,
    'one mailbox to Investigate',
  );
  expect(graded.grades).toEqual({ Perfect: 1, Good: 0, Investigate: 1, Poor: 0, unverified: 0 });
  const bob = (await rows(batch.id)).find((r) => r.emailAddress === 'bob@contoso.com')!;
  expect(bob.consistency).toMatchObject({
    grade: 'Investigate',
    deep: true,
    sourceItems: 6,
    destinationItems: 5,
    differenceCount: 1,
    approvedAt: null,
    differences: [
      {
        kind: 'mail',
        type: 'missing',
        folder: 'Projects',
        side: 'source',
        subject: 'bob@contoso.com message 3',
      },
    ],
  });
  const csvExport = await product.api.request('GET', `/batches/${batch.id}/mailboxes.csv`);
  expect(csvExport.text.split('\r\n')[0]).toMatch(/,ConsistencyGrade,/);
  expect(csvExport.text).toMatch(/^bob@contoso\.com,.*,Investigate,/m);

  // The same from the command line: a watched verification ends with exit code 1 while a mailbox needs approval.
  const watched = await cli('batches', 'verify', 'Verified wave', '--watch', '--interval', '1');
  expect(watched).toMatchObject({
    code: 1,
    stdout: 'verified batch "Verified wave": Perfect 1, Good 0, Investigate 1, Poor 0, unverified 0\n',
    stderr: expect.stringContaining('1 mailbox(es) graded Investigate or Poor'),
  });
  const shown = await cli('users', 'show', 'bob@contoso.com');
  expect(shown.stdout).toMatch(
    /Consistency\s+Investigate \(1 difference\(s\), verified .*\n\s+missing in Projects \(source\): bob@contoso\.com message 3/,
  );
  expect(await cli('users', 'approve', 'alice@contoso.com')).toMatchObject({
    code: 0,
    stdout: 'approve: accepted; the Perfect differences of alice@contoso.com are approved\n',
  });

  // The gate: Complete is refused, naming the mailbox.
  const refused = await product.api.request('POST', `/batches/${batch.id}/complete`, {});
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({
    code: 'CONSISTENCY_NOT_APPROVED',
    message: expect.stringContaining('bob@contoso.com (Investigate)'),
    details: { mailboxes: [{ id: bob.id, email: 'bob@contoso.com', grade: 'Investigate' }], total: 1 },
  });

  // The admin approves; the approval is kept and audited, and Complete goes through.
  const approved = await api('POST', `/mailboxes/${bob.id}/approve-skipped-items`, {});
  expect(approved.user.consistency).toMatchObject({ grade: 'Investigate', approvedBy: expect.any(String) });
  const audit = await api('GET', '/audit?command=approveSkippedItems');
  expect(audit.items[0]).toMatchObject({
    command: 'approveSkippedItems',
    outcome: 'accepted',
    detail: { email: 'bob@contoso.com', grade: 'Investigate' },
  });
  await api('POST', `/batches/${batch.id}/complete`, {});
  const completed = await waitForBatch(batch.id, (b) => b.status === 'Completed', 'Completed');
  expect(completed.finalized).toBe(2);
  // The last step of Complete verified every mailbox again (header data): a new verification, not yet approved.
  const after = await rows(batch.id);
  expect(after.map((r) => [r.emailAddress, r.consistency.grade, r.consistency.deep])).toEqual([
    ['alice@contoso.com', 'Perfect', false],
    ['bob@contoso.com', 'Investigate', false],
  ]);
  expect(Date.parse(after[1]!.consistency.verifiedAt)).toBeGreaterThan(Date.parse(bob.consistency.verifiedAt));
});
