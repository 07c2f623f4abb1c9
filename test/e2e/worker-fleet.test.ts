import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createImapConnectionTester } from '../../api/imap-tester';
import { startApi, type ApiHarness } from '../api/harness';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';
import { spawnWorker, type WorkerProcess } from './worker-processes';

/**
 * Deployment across machines (docs/deployment.md): two worker processes, as on two hosts, on one task queue
 * against one Temporal and one PostgreSQL, sharing one batch of real mailboxes. Each worker runs at most three
 * activities at once, so the six syncs the batch starts together cannot all land on one of them.
 */
const USERS = ['ada', 'ben', 'cy', 'dee', 'eve', 'fay'].map((u) => `${u}@northwind.test`);
const PASSWORD = (user: string) => `src-${user.split('@')[0]}-Pw!9`;
const MASTER = { user: 'migrator', password: 'fleet-master-Pw' };
const FOLDERS: [string, number][] = [
  ['INBOX', 40],
  ['Archive', 25],
];
const PER_USER = FOLDERS.reduce((n, [, count]) => n + count, 0);
const SLOTS_PER_WORKER = 3;

function seedOf(user: string): SeedMessage[] {
  return FOLDERS.flatMap(([folder, n]) =>
    Array.from({ length: n }, (_, i) => ({
      folder,
      raw: buildMessage({ subject: `${user} ${folder} ${i}` }),
      flags: i % 2 === 0 ? ['\\Seen'] : [],
    })),
  );
}

let env: TestWorkflowEnvironment;
let api: ApiHarness;
let source: DovecotServer;
let destination: DovecotServer;
const secretKey = randomBytes(32);
const taskQueue = `worker-fleet-${randomUUID()}`;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot({ users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ masterUser: MASTER, users: USERS.map((u) => ({ user: u, password: 'unused' })) }),
    workflowBundle(), // built once here, so the worker processes only read it from the cache
  ]);
  api = await startApi({
    temporal: env.client,
    taskQueue,
    searchAttributes: true,
    secretKey,
    testConnection: createImapConnectionTester({ timeoutMs: 5000 }),
  });
  // Both workers start (seconds each on a busy machine) while the mail is written.
  for (const n of [1, 2]) {
    workers.push(
      spawnWorker({
        temporalAddress: env.address,
        namespace: 'default',
        taskQueue,
        databaseUrl: api.db.url,
        secretKey: secretKey.toString('base64'),
        progressIntervalMs: 200,
        identity: `fleet-worker-${n}@host-${n}`,
        maxConcurrentActivityTaskExecutions: SLOTS_PER_WORKER,
        logLevel: 'info',
      }),
    );
  }
  await Promise.all(USERS.map((user) => source.writeMaildir(user, seedOf(user))));
  await Promise.all(workers.map((w) => w.ready));
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await api?.close();
  await Promise.allSettled([source?.close(), destination?.close()]);
  await env?.teardown();
});

test('two worker processes on one task queue share a batch: both run syncs, every message arrives once', async () => {
  const src = await api.call('POST', '/endpoints', {
    name: 'Northwind old',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const dst = await api.call('POST', '/endpoints', {
    name: 'Northwind new',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const csv = ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  const created = await api.call('POST', '/batches', {
    name: 'Northwind fleet',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
  });
  await api.call('POST', `/batches/${created.id}/start`);
  const synced = await waitFor(
    async () => {
      const b = await api.call('GET', `/batches/${created.id}`);
      if (b.status === 'Failed' || b.status === 'SyncedWithErrors') throw new Error(`batch ${b.status}`);
      return b.status === 'Synced' && b;
    },
    'the batch is Synced',
    {
      timeoutMs: 90_000,
      failFast: true,
      describe: () => workers.map((w, i) => `--- worker ${i + 1} ---\n${w.output()}`).join('\n'),
    },
  );
  expect(synced).toMatchObject({ total: USERS.length, synced: USERS.length, failed: 0 });

  // Every source message exactly once on the destination, byte for byte, with its flags.
  for (const user of USERS) {
    const [from, to] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
    expect(to).toHaveLength(PER_USER);
    expect(comparableMessages(to, destination)).toEqual(comparableMessages(from, source));
  }

  // Temporal's record: the syncs were started by both workers, each at most SLOTS_PER_WORKER at a time.
  const history = await env.client.workflow.getHandle(synced.workflowId).fetchHistory();
  const events = history.events ?? [];
  const typeOf = new Map(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]),
  );
  const syncIdentities = events
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a && typeOf.get(String(a.scheduledEventId)) === 'syncMailbox')
    .map((a) => a!.identity);
  expect(new Set(syncIdentities)).toEqual(new Set(['fleet-worker-1@host-1', 'fleet-worker-2@host-2']));

  // Each worker's own log says which mailboxes it synced: together all of them, each once, none by both.
  const finishedBy = workers.map((w) =>
    w.logLines().filter((l) => l.msg === 'mailbox sync finished' && l.batch === 'Northwind fleet'),
  );
  for (const lines of finishedBy) expect(lines.length).toBeGreaterThanOrEqual(1);
  const addresses = finishedBy.flat().map((l) => l.address);
  expect([...addresses].sort()).toEqual([...USERS].sort());
  for (const line of finishedBy.flat()) {
    expect(line).toMatchObject({ level: 'info', batchId: created.id, itemsCopied: PER_USER, status: 'Synced' });
  }
  for (const w of workers) expect(w.logLines().filter((l) => l.level === 'error')).toEqual([]);
}, 150_000);
