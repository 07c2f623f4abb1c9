import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createImapConnectionTester } from '../../api/imap-tester';
import { startApi, type ApiHarness } from '../api/harness';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';
import { spawnWorker, type WorkerProcess } from './worker-processes';

/**
 * Redaction at every level, debug included: a worker process at LOG_LEVEL=debug (the product's logger, the
 * Temporal SDK's log and imapflow's protocol log all on) runs real syncs that log in every way a sync can: an
 * OAuth access token (OAUTHBEARER, SASL-IR on the AUTHENTICATE line), a Dovecot master user's password (AUTHENTICATE PLAIN,
 * answered in a continuation), AUTH=LOGIN (user name and password in continuations) and a mailbox's own password
 * on the destination. Everything the process printed is searched for every credential: as written, JSON-escaped,
 * and base64-encoded at any offset (as inside a SASL response).
 */
const TOKENS: Record<string, string> = {
  'ivy@contoso.test': 'ya29.ivy-Access-Token-7f3a9c',
  'joe@contoso.test': 'ya29.joe-Access-Token-b81e44',
};
const SOURCE_PASSWORDS: Record<string, string> = {
  'kim@contoso.test': 'Kim-Login-Passw0rd-e5d1',
  'lee@contoso.test': 'Lee-Login-Passw0rd-09ac',
};
const DESTINATION_PASSWORDS: Record<string, string> = {
  'kim@contoso.test': 'Kim-Dest-Passw0rd-77b2',
  'lee@contoso.test': 'Lee-Dest-Passw0rd-3e0f',
};
const MASTER = { user: 'migrator', password: 'Master-Redact-Pw-4c2d' };
const SECRETS = [
  ...Object.values(TOKENS),
  ...Object.values(SOURCE_PASSWORDS),
  ...Object.values(DESTINATION_PASSWORDS),
  MASTER.password,
];

/** How a secret can appear in text: as is, inside a JSON string, and base64-encoded at each of the 3 offsets. */
function forms(secret: string): string[] {
  const base64 = [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset, 0x41), Buffer.from(secret)]).toString('base64');
    // Drop the characters that mix in bytes before or after the secret: what is left appears whatever surrounds it.
    return encoded.slice(offset === 0 ? 0 : 4, -4);
  });
  return [secret, JSON.stringify(secret).slice(1, -1), ...base64];
}

let env: TestWorkflowEnvironment;
let api: ApiHarness;
let introspection: Server;
let source: DovecotServer;
let destination: DovecotServer;
let worker: WorkerProcess;
const secretKey = randomBytes(32);
const taskQueue = `log-redaction-${randomUUID()}`;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  introspection = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const user = Object.keys(TOKENS).find((u) => TOKENS[u] === token);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(user ? { active: true, username: user } : { active: false }));
    });
  });
  await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
  const { port } = introspection.address() as AddressInfo;
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot({
      oauth2: { introspectionUrl: `http://127.0.0.1:${port}/introspect` },
      users: [
        ...Object.keys(TOKENS).map((user) => ({ user, password: 'not-used-with-oauth' })),
        ...Object.entries(SOURCE_PASSWORDS).map(([user, password]) => ({ user, password })),
      ],
    }),
    startDovecot({
      masterUser: MASTER,
      users: [
        ...Object.keys(TOKENS).map((user) => ({ user, password: 'not-used-with-master' })),
        ...Object.entries(DESTINATION_PASSWORDS).map(([user, password]) => ({ user, password })),
      ],
    }),
    workflowBundle(),
  ]);
  api = await startApi({
    temporal: env.client,
    taskQueue,
    searchAttributes: true,
    secretKey,
    testConnection: createImapConnectionTester({ timeoutMs: 5000 }),
  });
  worker = spawnWorker({
    temporalAddress: env.address,
    namespace: 'default',
    taskQueue,
    databaseUrl: api.db.url,
    secretKey: secretKey.toString('base64'),
    progressIntervalMs: 200,
    logLevel: 'debug',
  });
  const users = [...Object.keys(TOKENS), ...Object.keys(SOURCE_PASSWORDS)];
  await Promise.all(
    users.map((user) =>
      source.writeMaildir(user, [
        { folder: 'INBOX', raw: buildMessage({ subject: `${user} hello` }) },
        { folder: 'INBOX', raw: buildMessage({ subject: `${user} again` }), flags: ['\\Seen'] },
        { folder: 'Projects', raw: buildMessage({ subject: `${user} plan` }) },
      ]),
    ),
  );
  await worker.ready;
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await Promise.allSettled([source?.close(), destination?.close()]);
  await new Promise((resolve) => introspection?.close(resolve));
  await env?.teardown();
});

async function createBatch(
  name: string,
  sourceEndpoint: Record<string, unknown>,
  destinationEndpoint: Record<string, unknown>,
  csv: string,
): Promise<string> {
  const src = await api.call('POST', '/endpoints', { type: 'imap', security: 'none', ...sourceEndpoint });
  const dst = await api.call('POST', '/endpoints', { type: 'imap', security: 'none', ...destinationEndpoint });
  const batch = await api.call('POST', '/batches', {
    name,
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
  });
  await api.call('POST', `/batches/${batch.id}/start`);
  return batch.id as string;
}

test('at LOG_LEVEL=debug no password, token or login argument reaches the log, and each sync is told', async () => {
  const at = (server: DovecotServer) => ({ host: server.host, port: server.port });
  const oauthBatch = await createBatch(
    'Contoso OAuth',
    { name: 'Contoso OAuth source', ...at(source), authMethod: 'xoauth2' },
    {
      name: 'Contoso master destination',
      ...at(destination),
      adminUser: MASTER.user,
      adminPassword: MASTER.password,
      testMailbox: { userName: 'ivy@contoso.test' },
    },
    ['EmailAddress,UserName,Password', ...Object.entries(TOKENS).map(([u, token]) => `${u},${u},${token}`)].join('\n'),
  );
  const loginBatch = await createBatch(
    'Contoso LOGIN',
    { name: 'Contoso LOGIN source', ...at(source), authMethod: 'login' },
    { name: 'Contoso own-password destination', ...at(destination) },
    [
      'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
      ...Object.keys(SOURCE_PASSWORDS).map((u) => `${u},${u},${SOURCE_PASSWORDS[u]},${u},${DESTINATION_PASSWORDS[u]}`),
    ].join('\n'),
  );
  for (const id of [oauthBatch, loginBatch]) {
    await waitFor(
      async () => {
        const b = await api.call('GET', `/batches/${id}`);
        if (b.status === 'Failed' || b.status === 'SyncedWithErrors') throw new Error(`batch ${b.status}`);
        return b.status === 'Synced';
      },
      'the batch is Synced',
      { timeoutMs: 60_000, failFast: true, describe: () => worker.output().slice(-5000) },
    );
  }
  await worker.stop(); // everything it will print, printed
  const output = worker.output();

  const leaks = SECRETS.flatMap((secret) =>
    forms(secret)
      .filter((form) => output.includes(form))
      .map(() => secret),
  );
  expect(leaks).toEqual([]);

  // The output is the product's log: JSON lines only, besides the test worker's own ready/stopped lines.
  const lines = worker.logLines();
  const other = output.split('\n').filter((l) => l !== '' && !l.startsWith('{') && !/^worker (ready|stopped)/.test(l));
  expect(other).toEqual([]);

  // Each sync says it started, how each folder went and how it ended, naming the batch, the mailbox and address.
  const { rows: mailboxes } = await api.db.pool.query<{ id: string; email: string; batch_id: string }>(
    'select id, email, batch_id from mailboxes where batch_id = any($1)',
    [[oauthBatch, loginBatch]],
  );
  expect(mailboxes).toHaveLength(4);
  for (const mb of mailboxes) {
    const batch = mb.batch_id === oauthBatch ? 'Contoso OAuth' : 'Contoso LOGIN';
    const mine = lines.filter((l) => l.mailboxId === mb.id);
    const who = { batchId: mb.batch_id, batch, mailboxId: mb.id, address: mb.email };
    expect(mine.filter((l) => l.msg === 'mailbox sync started')).toEqual([
      expect.objectContaining({ level: 'info', ...who, pass: 'initial', attempt: 1 }),
    ]);
    expect(mine.filter((l) => l.msg === 'folder synced').map((l) => [l.folder, l.copied])).toEqual(
      expect.arrayContaining([
        ['INBOX', 2],
        ['Projects', 1],
      ]),
    );
    for (const l of mine.filter((l) => l.msg === 'folder synced')) expect(l).toMatchObject(who);
    expect(mine.filter((l) => l.msg === 'mailbox sync finished')).toEqual([
      expect.objectContaining({
        level: 'info',
        ...who,
        status: 'Synced',
        itemsCopied: 3,
        foldersSynced: expect.any(Number),
        itemsPerSecond: expect.any(Number),
        bytesPerSecond: expect.any(Number),
      }),
    ]);
  }

  // The debug log really ran through the logins, masked: imapflow's protocol lines and the SDK's own.
  const protocol = lines.filter((l) => l.component === 'imapflow' && l.level === 'debug').map((l) => String(l.msg));
  expect(protocol).toEqual(
    expect.arrayContaining([
      // Dovecot offers OAUTHBEARER beside XOAUTH2; imapflow prefers it (the same bearer token inside).
      expect.stringMatching(/^\S+ AUTHENTICATE OAUTHBEARER \(\* value hidden \*\)$/),
      expect.stringMatching(/^\S+ AUTHENTICATE PLAIN \(\* value hidden \*\)$/),
      expect.stringMatching(/^\S+ AUTHENTICATE LOGIN \(\* value hidden \*\)$/),
      '(* value hidden *)',
      expect.stringMatching(/^\S+ UID FETCH /),
    ]),
  );
  expect(lines.some((l) => l.component === 'temporal-sdk' && l.level === 'debug')).toBe(true);
}, 150_000);
