import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createImapConnectionTester } from '../../api/imap-tester';
import { startApi, type ApiHarness } from '../api/harness';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { startTokenServer, type TokenServer } from '../fixtures/token-server';
import { waitFor } from '../fixtures/wait-for';
import { spawnWorker, type WorkerProcess } from './worker-processes';

/**
 * A Google Workspace source through the API and a worker process: the admin uploads a service-account key, the
 * connection test and every sync mint per-user tokens that live 3 s (Dovecot's oauth2 passdb checks each login
 * against the token endpoint), and neither the key nor any token reaches an API reply, the worker's debug log or
 * the batch's workflow history.
 */
const USERS = ['ivy@contoso.test', 'joe@contoso.test'];
const MASTER = { user: 'migrator', password: 'Master-Minted-Pw-91c0' };
const LIFETIME_MS = 3000;

let env: TestWorkflowEnvironment;
let api: ApiHarness;
let tokens: TokenServer;
let source: DovecotServer;
let destination: DovecotServer;
let worker: WorkerProcess;
const secretKey = randomBytes(32);
const taskQueue = `minted-credentials-${randomUUID()}`;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  tokens = await startTokenServer({ lifetimeMs: LIFETIME_MS });
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot({
      oauth2: { introspectionUrl: tokens.introspectionUrl },
      users: USERS.map((user) => ({ user, password: 'not-used-with-oauth' })),
    }),
    startDovecot({ masterUser: MASTER, users: USERS.map((user) => ({ user, password: 'not-used-with-master' })) }),
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
  await Promise.all(
    USERS.map((user) =>
      source.writeMaildir(user, [
        { folder: 'INBOX', raw: buildMessage({ subject: `${user} hello` }) },
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
  await tokens?.close();
  await env?.teardown();
});

test('a service-account endpoint migrates through the API and a worker; no key or token in replies, logs or history', async () => {
  const key = tokens.serviceAccount('mailferry@contoso-project.iam.gserviceaccount.com', USERS);
  const privateKey = (JSON.parse(key) as { private_key: string }).private_key;
  const at = (server: DovecotServer) => ({ host: server.host, port: server.port, type: 'imap', security: 'none' });

  // Incomplete settings are refused before any test.
  const incomplete = await api.request('POST', '/endpoints', {
    json: { name: 'Contoso Google', ...at(source), provider: 'gmail', authMethod: 'google-service-account' },
  });
  expect(incomplete.status).toBe(422);
  expect(incomplete.body.error).toMatchObject({
    code: 'ENDPOINT_CREDENTIALS_INCOMPLETE',
    details: { missing: ['serviceAccountKey'] },
  });

  // The connection test logs the test mailbox in with a token minted for it.
  const before = tokens.issued.length;
  const src = await api.call('POST', '/endpoints', {
    name: 'Contoso Google',
    ...at(source),
    provider: 'gmail',
    authMethod: 'google-service-account',
    serviceAccountKey: key,
    testMailbox: { userName: USERS[0] },
    // The Gmail profile presets Google's CalDAV and CardDAV, which this machine cannot reach: mail only here.
    caldavUrl: null,
    carddavUrl: null,
  });
  expect(tokens.issued.slice(before)).toEqual([expect.objectContaining({ grant: 'google', user: USERS[0] })]);
  expect(src).toMatchObject({ authMethod: 'google-service-account', hasAdminPassword: true });
  expect(src).not.toHaveProperty('serviceAccountKey');
  // A user outside the delegation fails the test, with the provider's refusal.
  const refused = await api.call('POST', `/endpoints/${src.id}/test`, {
    testMailbox: { userName: 'zed@contoso.test' },
  });
  expect(refused).toMatchObject({ ok: false, code: 'TOKEN_REFUSED' });

  const dst = await api.call('POST', '/endpoints', {
    name: 'Contoso destination',
    ...at(destination),
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const batch = await api.call('POST', '/batches', {
    name: 'Contoso Workspace',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    // A source that mints its tokens needs no Password column, as in Exchange's Google batches.
    csv: ['EmailAddress,UserName', ...USERS.map((u) => `${u},${u}`)].join('\n'),
  });
  await api.call('POST', `/batches/${batch.id}/start`);
  await waitFor(
    async () => {
      const b = await api.call('GET', `/batches/${batch.id}`);
      if (b.status === 'Failed' || b.status === 'SyncedWithErrors') throw new Error(`batch ${b.status}`);
      return b.status === 'Synced';
    },
    'the batch is Synced',
    { timeoutMs: 60_000, failFast: true, describe: () => worker.output().slice(-5000) },
  );
  for (const user of USERS) expect(await destination.readMailbox(user)).toHaveLength(2);
  expect(tokens.issued.filter((t) => t.grant === 'google').map((t) => t.user)).toEqual(expect.arrayContaining(USERS));
  expect(tokens.introspections.inactive).toBe(0);
  await api.call('GET', `/endpoints/${src.id}`);

  await worker.stop();
  const history = JSON.stringify(await env.client.workflow.getHandle(`batch:Contoso Workspace`).fetchHistory());
  const secrets = [
    privateKey,
    ...privateKey.split('\n').filter((l) => l.length > 40),
    ...tokens.issued.map((t) => t.token),
  ];
  const places = { replies: api.responses.join('\n'), apiLog: api.logger.text(), workerLog: worker.output(), history };
  for (const [place, text] of Object.entries(places)) {
    expect({ place, leaks: secrets.filter((s) => text.includes(s)).length }).toEqual({ place, leaks: 0 });
  }
}, 150_000);
