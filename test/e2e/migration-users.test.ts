import { runCli } from '../../cli/run';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startImapProxy, type ImapProxy } from '../fixtures/imap-proxy';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { waitFor } from '../fixtures/wait-for';

/**
 * Per-mailbox commands (Exchange's *-MigrationUser) end to end on the real pieces: the API and the CLI, the batch
 * workflow on a `temporal server start-dev`, the worker, PostgreSQL and two Dovecots. The destination sits behind
 * a proxy that can hold back APPEND answers, so that one mailbox's sync can be caught while it runs.
 */
const WAVE_A = ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'dave@contoso.com'];
const WAVE_B = ['erin@contoso.com', 'frank@contoso.com'];
const USERS = [...WAVE_A, ...WAVE_B, 'gina@contoso.com'];
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;
let proxy: ImapProxy;
/** While true, the destination's answers to APPEND are withheld: a sync that appends hangs there. */
let holdAppends = false;
let withheld = 0;

beforeAll(async () => {
  const accounts = USERS.map((u) => ({ user: u, password: PASSWORD(u) }));
  [product, source, destination] = await Promise.all([
    startProduct(),
    startDovecot({ users: accounts }),
    startDovecot({ users: accounts }),
  ]);
  proxy = await startImapProxy(destination, {
    fromServer: (lines) => {
      if (holdAppends && /^\S+ OK \[APPENDUID /m.test(lines)) {
        withheld++;
        return null;
      }
      return lines;
    },
  });
  for (const user of USERS) {
    await source.seed(
      user,
      Array.from({ length: 4 }, (_, n) => ({
        folder: n % 2 === 0 ? 'INBOX' : 'Projects',
        raw: buildMessage({ subject: `${user} message ${n}` }),
        flags: ['\\Seen'],
      })),
    );
  }
});

afterAll(async () => {
  holdAppends = false;
  await Promise.allSettled([product?.stop(), proxy?.close(), source?.close(), destination?.close()]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);

async function cli(...argv: string[]) {
  return cliWithStdin('', ...argv);
}

async function cliWithStdin(stdin: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    readStdin: async () => stdin,
    env: { MAILFERRY_URL: product.api.url, MAILFERRY_TOKEN: product.api.adminToken, HOME: '/nonexistent' },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
  });
  return { code, stdout, stderr };
}

const userIn = async (email: string, batch: string) =>
  (await api('GET', `/mailboxes?email=${encodeURIComponent(email)}&batch=${encodeURIComponent(batch)}`)).items[0];

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

async function expectCopiedOnce(user: string): Promise<void> {
  const from = comparableMessages(await source.readMailbox(user), { prefix: '', separator: '/' });
  const to = comparableMessages(await destination.readMailbox(user), { prefix: '', separator: '/' });
  expect(to).toEqual(from);
}

const csvOf = (users: string[]) =>
  [
    'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
    ...users.map((u) => `${u},${u},${PASSWORD(u)},${u},${PASSWORD(u)}`),
  ].join('\n');

test('each mailbox can be found, stopped, started, set, moved and removed on its own, and the batch goes on', async () => {
  const endpoint = (name: string, server: { host: string; port: number }) =>
    api('POST', '/endpoints?skipTest=true', {
      name,
      type: 'imap',
      host: server.host,
      port: server.port,
      security: 'none',
    });
  const src = await endpoint('Old IMAP', source);
  const dst = await endpoint('New IMAP', proxy);
  const elsewhere = await endpoint('Elsewhere', destination);
  const batch = (name: string, users: string[], destinationEndpointId = dst.id) =>
    api('POST', '/batches', { name, sourceEndpointId: src.id, destinationEndpointId, csv: csvOf(users) });
  const a = await batch('Wave A', WAVE_A);
  const b = await batch('Wave B', WAVE_B);
  await batch('Wave C', ['gina@contoso.com'], elsewhere.id);

  await api('POST', `/batches/${a.id}/start`);
  await waitForBatch(a.id, (x) => x.status === 'Synced' && x.synced === 4, 'Synced');

  // Found across batches by address, with its batch, statistics and the commands it allows now.
  const found = await api('GET', '/mailboxes?email=ALICE@contoso.com');
  expect(found.total).toBe(1);
  const alice = found.items[0];
  expect(alice).toMatchObject({
    emailAddress: 'alice@contoso.com',
    status: 'Synced',
    itemsSynced: 4,
    batch: { id: a.id, name: 'Wave A', status: 'Synced' },
    overrides: { startAfter: null, badItemLimit: null, largeItemLimit: null },
    allowedCommands: ['stop', 'start', 'resume', 'remove', 'move', 'set', 'verify'],
  });
  const aliceShown = await cli('users', 'show', 'alice@contoso.com', '--include-skipped-items');
  expect(aliceShown.code).toBe(0);
  expect(aliceShown.stdout).toMatch(/Status\s+Synced/);
  expect(aliceShown.stdout).toMatch(/Skipped items \(0\)/);
  const unknown = await cli('users', 'show', 'nobody@contoso.com');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/MAILBOX_NOT_FOUND/);
  const listed = await cli('users', 'list', '--batch', 'Wave A', '--output', 'csv');
  expect(listed.stdout.trim().split('\n')).toHaveLength(5);

  // A viewer sees users but cannot command them.
  const asViewer = await product.api.request('POST', `/mailboxes/${alice.id}/stop`, {
    token: product.api.viewerToken,
  });
  expect(asViewer.status).toBe(403);

  // Stop one mailbox while its sync runs: that sync ends, the rest of the pass goes on, the batch settles.
  const carol = await userIn('carol@contoso.com', 'Wave A');
  await source.seed('carol@contoso.com', [{ folder: 'INBOX', raw: buildMessage({ subject: 'late, for carol' }) }]);
  await source.seed('dave@contoso.com', [{ folder: 'INBOX', raw: buildMessage({ subject: 'late, for dave' }) }]);
  holdAppends = true;
  await api('POST', `/batches/${a.id}/sync-now`);
  await waitFor(() => withheld >= 2, 'the APPENDs of carol and dave to be held back', { timeoutMs: 60_000 });
  const stopped = await cli('users', 'stop', 'carol@contoso.com', '--batch', 'Wave A');
  expect(stopped).toMatchObject({ stderr: '', code: 0 });
  expect(stopped.stdout).toMatch(/stop: accepted; carol@contoso.com is Stopped/);
  // Dave's sync is still held: the batch is still syncing, without carol.
  expect((await api('GET', `/batches/${a.id}`)).status).toBe('Syncing');
  // Dave's APPEND answer was lost with the hold: his connection drops, and his retry finishes the pass.
  holdAppends = false;
  proxy.dropAll();
  const settled = await waitForBatch(a.id, (x) => x.status === 'Synced' && x.pass === null, 'Synced again');
  expect(settled).toMatchObject({ total: 4, synced: 3, counts: { stopped: 1 } });
  await expectCopiedOnce('dave@contoso.com');

  // A command the status table does not allow: 409 with what is allowed, and the refusal is audited.
  const again = await product.api.request('POST', `/mailboxes/${carol.id}/stop`, {});
  expect(again.status).toBe(409);
  expect(again.body.error).toMatchObject({
    code: 'MAILBOX_COMMAND_NOT_ALLOWED',
    details: {
      status: 'Stopped',
      batchStatus: 'Synced',
      allowedCommands: ['start', 'resume', 'remove', 'move', 'set', 'verify'],
    },
  });

  // Start it again: it syncs on its own, and the message its stopped sync had appended is there once.
  const started = await cli('users', 'start', 'carol@contoso.com', '--batch', 'Wave A');
  expect(started.code).toBe(0);
  const watched = await cli('users', 'watch', 'carol@contoso.com', '--batch', 'Wave A', '--interval', '1');
  expect(watched.code).toBe(0);
  expect(watched.stdout).toMatch(/carol@contoso.com is Synced in batch "Wave A"/);
  await expectCopiedOnce('carol@contoso.com');
  await waitForBatch(a.id, (x) => x.synced === 4, 'counted carol as synced');

  // Its password changes on the server: the mailbox says so and fails alone; a new password and resume bring it back.
  await source.setPassword('carol@contoso.com', 'changed-Pa55');
  await api('POST', `/batches/${a.id}/sync-now`);
  const rejected = await waitForBatch(a.id, (x) => x.status === 'SyncedWithErrors', 'Synced with errors');
  expect(rejected).toMatchObject({ failed: 1, synced: 3 });
  expect(await userIn('carol@contoso.com', 'Wave A')).toMatchObject({
    status: 'Failed',
    lastErrorCode: 'AUTH_FAILED',
    lastError: expect.stringMatching(/credentials rejected: update the password, then resume/),
  });
  const newPassword = await cliWithStdin(
    'changed-Pa55\n',
    'users',
    'set-password',
    'carol@contoso.com',
    '--password-stdin',
    '--resume',
  );
  expect(newPassword).toMatchObject({ code: 0, stderr: '' });
  expect(newPassword.stdout).toMatch(/set-password and resume: accepted; carol@contoso.com is Queued/);
  await waitForBatch(a.id, (x) => x.status === 'Synced' && x.synced === 4, 'Synced with carol again');
  expect(product.api.responses.join('\n')).not.toContain('changed-Pa55');

  // Set: per-mailbox settings win over the batch's; a StartAfter ahead keeps the mailbox out of passes.
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const set = await cli('users', 'set', 'bob@contoso.com', '--large-item-limit', '5', '--start-after', later);
  expect(set.code).toBe(0);
  const bob = await userIn('bob@contoso.com', 'Wave A');
  expect(bob.overrides).toMatchObject({ largeItemLimit: 5, startAfter: later });
  await api('POST', `/mailboxes/${bob.id}/set`, { largeItemLimit: null });
  expect((await userIn('bob@contoso.com', 'Wave A')).overrides.largeItemLimit).toBeNull();

  // Move: to a batch with other endpoints is refused.
  const dave = await userIn('dave@contoso.com', 'Wave A');
  const otherEndpoints = await product.api.request('POST', `/mailboxes/${dave.id}/move`, {
    json: { targetBatch: 'Wave C' },
  });
  expect(otherEndpoints.status).toBe(409);
  expect(otherEndpoints.body.error.code).toBe('BATCH_ENDPOINTS_DIFFER');
  // Dave moves to Wave B with his checkpoints and secrets: Wave B's sync copies nothing twice.
  const moved = await cli('users', 'move', 'dave@contoso.com', '--to', 'Wave B');
  expect(moved.code).toBe(0);
  expect(moved.stdout).toMatch(/dave@contoso.com is Synced in batch "Wave B"/);
  await waitForBatch(a.id, (x) => x.total === 3, 'let dave go');
  await api('POST', `/batches/${b.id}/start`);
  await waitForBatch(b.id, (x) => x.status === 'Synced' && x.synced === 3, 'synced with dave');
  await expectCopiedOnce('dave@contoso.com');

  // Remove: the mailbox leaves its batch; the mail already copied stays.
  const removed = await cli('users', 'remove', 'alice@contoso.com', '--batch', 'Wave A');
  expect(removed.code).toBe(0);
  expect(removed.stdout).toMatch(/has left its batch/);
  expect((await api('GET', '/mailboxes?email=alice@contoso.com')).total).toBe(0);
  await expectCopiedOnce('alice@contoso.com');

  // Every command is in the audit log, with who gave it and the outcome.
  const audit = await api('GET', `/audit?batch=${a.id}&pageSize=100`);
  const entries = audit.items.map((e: any) => `${e.command}:${e.outcome}`);
  for (const expected of [
    'stopMailbox:accepted',
    'stopMailbox:rejected',
    'startMailbox:accepted',
    'setMailbox:accepted',
    'moveMailbox:accepted',
    'removeMailbox:accepted',
    'setMailboxPassword:accepted',
    'resumeMailbox:accepted',
  ]) {
    expect(entries).toContain(expected);
  }
  const intoB = await api('GET', `/audit?batch=${b.id}&command=moveMailbox`);
  expect(JSON.stringify(audit.items)).not.toContain('changed-Pa55');
  expect(intoB.items[0]).toMatchObject({
    outcome: 'accepted',
    detail: { email: 'dave@contoso.com', toBatch: 'Wave B' },
  });
});
