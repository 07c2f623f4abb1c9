import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createImapConnectionTester } from '../../api/imap-tester';
import { silentLogger } from '../../observability/logger';
import { startApiServer, type RunningApi } from '../../api/server';
import { insertToken } from '../../api/tokens-store';
import { createSecretBox } from '../../secrets/secret-box';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { startImapProxy } from '../fixtures/imap-proxy';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { WORKER_RESTARTED } from '../../worker/reclaim-syncs';
import type { WorkerChildConfig } from './worker-child';
import { spawnWorker, type WorkerProcess } from './worker-processes';
import { waitFor } from '../fixtures/wait-for';

/**
 * Crash safety end to end: the worker process is killed with SIGKILL in the middle of a batch's initial sync, at
 * the worst moment (the destination has stored a MULTIAPPEND, the worker has not heard back, PostgreSQL holds
 * the append intent), and a new worker process takes over. Nothing tells Temporal the first worker died: the
 * sync activities time out on their heartbeat (the batch's `syncHeartbeatTimeoutMs`, set through the API's batch
 * policy as `MAILFERRY_SYNC_HEARTBEAT_TIMEOUT` would), Temporal retries them on the new worker, the engine
 * recovers from the intents, and the batch reaches Synced with every message exactly once on the destination.
 */
const USERS = ['erin@fabrikam.com', 'frank@fabrikam.com'];
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;
const MASTER = { user: 'migrator', password: 'master-Pa55word' };
const HEARTBEAT_TIMEOUT_MS = 10_000;
/** The destination's answer to this MULTIAPPEND (counted across all connections) is never delivered. */
const HOLD_AT_APPEND = 3;
/** Per user: INBOX 150, Archive 100, Lists.Dev 50; at 100 messages per MULTIAPPEND, 4 appends per mailbox. */
const FOLDERS: [string, number][] = [
  ['INBOX', 150],
  ['INBOX.Archive', 100],
  ['INBOX.Lists.Dev', 50],
];
const PER_USER = FOLDERS.reduce((n, [, count]) => n + count, 0);

function seedOf(user: string): SeedMessage[] {
  const seed: SeedMessage[] = [];
  for (const [folder, n] of FOLDERS) {
    for (let i = 0; i < n; i++) {
      seed.push({
        folder,
        raw: buildMessage({ subject: `${user} ${folder} ${i}`, size: i % 5 === 0 ? 12_000 + i * 40 : undefined }),
        flags: i % 3 === 0 ? ['\\Seen'] : i % 3 === 1 ? ['\\Seen', '\\Flagged'] : [],
        internalDate: new Date(Date.UTC(2024, 2, 1 + (i % 28), 9, i % 60)),
      });
    }
  }
  return seed;
}

/**
 * The proxy in front of the destination IMAP server counts the tagged APPENDUID answers going back to the worker
 * and, from the `holdAt`-th on, stops delivering anything from the server: the worker then sits waiting for an
 * answer to an APPEND the server has already stored. `release()` drops every proxied connection and lets new ones
 * through untouched.
 */
interface AppendHoldingProxy {
  port: number;
  /** Resolves when the hold starts. */
  held: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function appendHoldingProxy(target: { host: string; port: number }, holdAt: number): Promise<AppendHoldingProxy> {
  let mode: 'counting' | 'holding' | 'passing' = 'counting';
  let answered = 0;
  let onHeld!: () => void;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const proxy = await startImapProxy(target, {
    fromServer(lines) {
      if (mode === 'holding') return null;
      if (mode === 'counting') {
        answered += lines.match(/\[APPENDUID /g)?.length ?? 0;
        if (answered >= holdAt) {
          mode = 'holding';
          onHeld();
          return null;
        }
      }
      return lines;
    },
  });
  return {
    port: proxy.port,
    held,
    release() {
      proxy.dropAll();
      mode = 'passing';
    },
    close: () => proxy.close(),
  };
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let api: RunningApi;
let adminToken: string;
let source: DovecotServer;
let destination: DovecotServer;
let proxy: AppendHoldingProxy;
const secretKey = randomBytes(32);
const taskQueue = `worker-crash-${randomUUID()}`;
const workers: WorkerProcess[] = [];

function startWorker(options: { taskQueue?: string; identity?: string } = {}): WorkerProcess {
  const config: WorkerChildConfig = {
    temporalAddress: env.address,
    namespace: 'default',
    taskQueue: options.taskQueue ?? taskQueue,
    databaseUrl: db.url,
    secretKey: secretKey.toString('base64'),
    progressIntervalMs: 200,
    identity: options.identity,
  };
  const worker = spawnWorker(config);
  workers.push(worker);
  return worker;
}

async function request<T = any>(method: string, urlPath: string, json?: unknown, through = api): Promise<T> {
  const res = await fetch(`${through.url}/api/v1${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(json ? { 'content-type': 'application/json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${urlPath}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params);
  return rows[0]!.n;
}

function timedOut(what: string): Error {
  const logs = workers.map((w, i) => `--- worker ${i + 1} (pid ${w.child.pid}) ---\n${w.output()}`).join('\n');
  return new Error(`timed out waiting until ${what}\n${logs}`);
}

/** Polls `probe` until it has a value; a probe that throws (the batch failed) ends the wait at once. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  try {
    const found = await waitFor(
      async () => {
        const value = await probe();
        return value === undefined ? undefined : { value };
      },
      what,
      { timeoutMs, intervalMs: 200, failFast: true },
    );
    return found.value;
  } catch (err) {
    if ((err as Error).message.startsWith('timed out waiting')) throw timedOut(what);
    throw err;
  }
}

async function within(what: string, promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut(what)), timeoutMs)));
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, db, source, destination] = await Promise.all([
    devServerEnvironment(),
    createTestDatabase(),
    startDovecot({ separator: '.', prefix: 'INBOX.', users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ separator: '/', masterUser: MASTER, users: USERS.map((u) => ({ user: u, password: 'unused' })) }),
    workflowBundle(), // built (or found) once here, so each worker process only reads it from the cache
  ]);
  // The first worker starts (node, tsx, the SDK, the bundle: seconds on a busy machine) while the mail is seeded.
  const first = startWorker();
  await Promise.all(USERS.map((user) => source.seed(user, seedOf(user))));
  proxy = await appendHoldingProxy(destination, HOLD_AT_APPEND);
  adminToken = (await insertToken(db.pool, { name: 'test-admin', owner: 'admin@fabrikam.com', role: 'admin' })).token;
  api = await startApiServer(
    {
      pool: db.pool,
      temporal: env.client,
      secretBox: createSecretBox(secretKey),
      taskQueue,
      searchAttributes: true,
      // What MAILFERRY_SYNC_HEARTBEAT_TIMEOUT=10s gives every new batch (entry/services.ts → the API's deps).
      batchPolicy: { syncHeartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS },
      logger: silentLogger,
      testConnection: createImapConnectionTester({ timeoutMs: 5000 }),
    },
    { port: 0, host: '127.0.0.1' },
  );
  await first.ready;
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await api?.close(0);
  await Promise.allSettled([proxy?.close(), source?.close(), destination?.close()]);
  await db?.drop();
  await env?.teardown();
});

test('a worker killed with SIGKILL mid-sync: a new worker finishes the batch with every message exactly once', async () => {
  const sourceEndpoint = await request('POST', '/endpoints', {
    name: 'Fabrikam old',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const destinationEndpoint = await request('POST', '/endpoints', {
    name: 'Fabrikam new',
    type: 'imap',
    host: '127.0.0.1',
    port: proxy.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const csv = ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  const created = await request('POST', '/batches', {
    name: 'Fabrikam crash',
    sourceEndpointId: sourceEndpoint.id,
    destinationEndpointId: destinationEndpoint.id,
    csv,
  });
  const batchId: string = created.id;
  const first = workers[0]!;
  await request('POST', `/batches/${batchId}/start`);

  // Mid-way: some messages recorded, one MULTIAPPEND stored by the server but unknown to PostgreSQL.
  await within('the destination has stored an append the worker has not heard back from', proxy.held, 30_000);
  const total = USERS.length * PER_USER;
  const recorded = await until(
    'the answered appends are recorded',
    async () => {
      const n = await count('message_map m join mailboxes b on b.id = m.mailbox_id where b.batch_id = $1', [batchId]);
      return n > 0 ? n : undefined;
    },
    10_000,
  );
  expect(recorded).toBeLessThan(total);
  expect(
    await count('append_intents i join mailboxes b on b.id = i.mailbox_id where b.batch_id = $1', [batchId]),
  ).toBeGreaterThanOrEqual(1);
  expect(await count(`mailboxes where batch_id = $1 and status = 'Syncing'`, [batchId])).toBeGreaterThanOrEqual(1);

  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  proxy.release();
  // The dead worker's leases are still there: nobody released them.
  expect(await count('endpoint_leases')).toBeGreaterThanOrEqual(2);

  const second = startWorker();
  await within('the new worker is ready', second.ready, 30_000);
  // Well within the 2 minutes a sync's heartbeat timeout defaults to: the batch's 10 s, then the 10 s retry backoff.
  const synced = await until(
    'the batch is Synced',
    async () => {
      const b = await request('GET', `/batches/${batchId}`);
      if (b.status === 'Failed' || b.status === 'SyncedWithErrors') throw new Error(`batch ${b.status}`);
      return b.status === 'Synced' ? b : undefined;
    },
    50_000,
  );
  expect(synced).toMatchObject({ total: USERS.length, synced: USERS.length, failed: 0 });

  // Every source message exactly once on the destination, byte for byte, with flags and dates.
  for (const user of USERS) {
    const [from, to] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
    expect(to).toHaveLength(PER_USER);
    expect(comparableMessages(to, destination)).toEqual(comparableMessages(from, source));
  }
  expect(await count('append_intents')).toBe(0);
  expect(await count('endpoint_leases')).toBe(0);
  const { rows } = await db.pool.query<{ status: string; items_synced: string; items_total: string }>(
    'select status, items_synced, items_total from mailboxes where batch_id = $1',
    [batchId],
  );
  expect(rows.map((r) => [r.status, Number(r.items_synced), Number(r.items_total)])).toEqual(
    USERS.map(() => ['Synced', PER_USER, PER_USER]),
  );

  // Temporal retried the syncs that died with the first worker on the second one, after a heartbeat timeout.
  const history = await env.client.workflow.getHandle(synced.workflowId).fetchHistory();
  const retried = (history.events ?? [])
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a && (a.attempt ?? 1) > 1);
  expect(retried.length).toBeGreaterThanOrEqual(1);
  for (const a of retried) {
    expect(a!.identity).toMatch(new RegExp(`^${second.child.pid}@`));
    expect(a!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(4); // TIMEOUT_TYPE_HEARTBEAT
  }
});

test("a worker restarted under its identity gives back its dead run's syncs at once, not after the heartbeat timeout", async () => {
  // Its own task queue and API, with the product's default heartbeat timeout of two minutes: only the worker's
  // own give-back can bring the syncs back well within it.
  const queue = `worker-restart-${randomUUID()}`;
  const identity = `mailferry@test-host:${queue}`;
  const users = ['gina@fabrikam.com', 'hugo@fabrikam.com'];
  for (const user of users) {
    await source.addUser(user, PASSWORD(user));
    await destination.addUser(user, 'unused');
  }
  await Promise.all(users.map((user) => source.seed(user, seedOf(user))));
  const holding = await appendHoldingProxy(destination, HOLD_AT_APPEND);
  const restartApi = await startApiServer(
    {
      pool: db.pool,
      temporal: env.client,
      secretBox: createSecretBox(secretKey),
      taskQueue: queue,
      searchAttributes: true,
      logger: silentLogger,
      testConnection: createImapConnectionTester({ timeoutMs: 5000 }),
    },
    { port: 0, host: '127.0.0.1' },
  );
  try {
    const first = startWorker({ taskQueue: queue, identity });
    const call = <T = any>(method: string, urlPath: string, json?: unknown) =>
      request<T>(method, urlPath, json, restartApi);
    const src = await call('POST', '/endpoints', {
      name: 'Fabrikam old (restart)',
      type: 'imap',
      host: source.host,
      port: source.port,
      security: 'none',
    });
    const dst = await call('POST', '/endpoints', {
      name: 'Fabrikam new (restart)',
      type: 'imap',
      host: '127.0.0.1',
      port: holding.port,
      security: 'none',
      adminUser: MASTER.user,
      adminPassword: MASTER.password,
      testMailbox: { userName: users[0] },
    });
    const csv = ['EmailAddress,UserName,Password', ...users.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
    const created = await call('POST', '/batches', {
      name: 'Fabrikam restart',
      sourceEndpointId: src.id,
      destinationEndpointId: dst.id,
      csv,
    });
    await within('the first worker is ready', first.ready, 30_000);
    await call('POST', `/batches/${created.id}/start`);
    await within('the destination has stored an append the worker has not heard back from', holding.held, 30_000);

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    holding.release();
    const second = startWorker({ taskQueue: queue, identity });
    await within('the restarted worker is ready', second.ready, 30_000);
    expect(second.output()).toMatch(/worker reclaimed [1-9]/);
    const synced = await until(
      'the batch is Synced',
      async () => {
        const b = await call('GET', `/batches/${created.id}`);
        if (b.status === 'Failed' || b.status === 'SyncedWithErrors') throw new Error(`batch ${b.status}`);
        return b.status === 'Synced' ? b : undefined;
      },
      60_000,
    );
    for (const user of users) {
      const [from, to] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
      expect(comparableMessages(to, destination)).toEqual(comparableMessages(from, source));
    }
    const history = await env.client.workflow.getHandle(synced.workflowId).fetchHistory();
    const retried = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => a && (a.attempt ?? 1) > 1);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // Given back by the restarted worker, not timed out on the heartbeat (which the wait above could not outlast).
    for (const a of retried) expect(a!.lastFailure?.applicationFailureInfo?.type).toBe(WORKER_RESTARTED);
  } finally {
    await restartApi.close(0);
    await holding.close();
  }
});
