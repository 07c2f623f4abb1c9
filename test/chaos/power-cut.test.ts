/**
 * The power cut of `npm start` (issue #10): every process of a start (the start itself, its embedded PostgreSQL,
 * its Temporal dev server, its watchdog) SIGKILLed at once in the middle of a sync, then a new start on the same
 * data directory. Measured: from "mailferry is running" to every interrupted mailbox syncing again (its progress
 * moving on, or Synced); the target is 15 s. Before the restarted worker gave back its predecessor's syncs
 * (worker/reclaim-syncs.ts) they sat out the two-minute heartbeat timeout. The orphan scenario (kill -9 of the
 * start process alone) is in test/e2e/start-recovery.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startImapProxy, type ImapProxy } from '../fixtures/imap-proxy';
import { waitFor } from '../fixtures/wait-for';
import {
  ensureDashboardBuilt,
  exitWithin,
  freePorts,
  killProducts,
  startProduct,
  stopProduct,
  type Ports,
} from '../e2e/start-harness';
import { MASTER } from './chaos-run';

const USERS = ['pia@powercut.test', 'quinn@powercut.test', 'rosa@powercut.test'];
const PASSWORD = 'power-cut-Pw!1';
/** The resumption target of issue #10. */
const RESUME_TARGET_MS = 15_000;

let dataDir: string;
let ports: Ports;
let source: DovecotServer;
let destination: DovecotServer;
let link: ImapProxy;

beforeAll(async () => {
  ensureDashboardBuilt();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-power-cut-'));
  ports = await freePorts();
  [source, destination] = await Promise.all([
    startDovecot({ users: USERS.map((user) => ({ user, password: PASSWORD })) }),
    startDovecot({ masterUser: MASTER, users: USERS.map((user) => ({ user, password: 'unused' })) }),
  ]);
  for (const user of USERS) {
    await source.writeMaildir(
      user,
      Array.from({ length: 300 }, (_, i) => ({
        folder: 'INBOX',
        raw: buildMessage({ subject: `${user} ${i}`, size: 16_000 }),
        flags: i % 3 === 0 ? ['\\Seen'] : [],
      })),
    );
  }
  // A slow link in front of the source: the syncs are still running when the power goes.
  link = await startImapProxy(source, { bytesPerSecond: 300_000 });
}, 120_000);

afterAll(async () => {
  await killProducts();
  await link?.close();
  await Promise.allSettled([source?.close(), destination?.close()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('power cut mid-sync, then npm start: every interrupted mailbox syncs again within 15 s of "mailferry is running"', async () => {
  const first = startProduct(dataDir, ports);
  await first.running;
  const token = (await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).trim();
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const src = await call('POST', '/endpoints', {
    name: 'Power old',
    type: 'imap',
    host: link.host,
    port: link.port,
    security: 'none',
  });
  const dst = await call('POST', '/endpoints', {
    name: 'Power new',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const csv = ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD}`)].join('\n');
  const batch = await call('POST', '/batches', {
    name: 'Power cut',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
  });
  await call('POST', `/batches/${batch.id}/start`);
  type Row = { id: string; emailAddress: string; status: string; itemsSynced: number };
  const mailboxes = async (): Promise<Row[]> => (await call('GET', `/batches/${batch.id}/mailboxes`)).items;

  // Every mailbox has started copying, none has finished: the power goes.
  const before = await waitFor(
    async () => {
      const rows = await mailboxes();
      return rows.every((m) => m.status === 'Syncing' && m.itemsSynced > 0) && rows;
    },
    'every mailbox syncing',
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  process.kill(-first.child.pid!, 'SIGKILL');
  await exitWithin(first, 5_000);

  const second = startProduct(dataDir, ports);
  await second.running;
  const running = Date.now();
  const resumedAt = new Map<string, number>();
  await waitFor(
    async () => {
      for (const m of await mailboxes()) {
        const was = before.find((b) => b.id === m.id)!;
        if (!resumedAt.has(m.id) && (m.status === 'Synced' || m.itemsSynced > was.itemsSynced)) {
          resumedAt.set(m.id, Date.now() - running);
        }
      }
      return resumedAt.size === before.length;
    },
    'every interrupted mailbox syncing again',
    { timeoutMs: 150_000, intervalMs: 100 },
  );
  const slowest = Math.max(...resumedAt.values());
  console.log(
    `power cut: every interrupted mailbox syncing again ${slowest} ms after "mailferry is running" ` +
      `(${[...resumedAt.values()].join(', ')} ms)`,
  );
  expect(slowest).toBeLessThanOrEqual(RESUME_TARGET_MS);

  await waitFor(async () => (await call('GET', `/batches/${batch.id}`)).status === 'Synced', 'the batch is Synced', {
    timeoutMs: 120_000,
  });
  for (const user of USERS) {
    const [from, to] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
    expect(comparableMessages(to, destination)).toEqual(comparableMessages(from, source));
  }
  expect(await stopProduct(second, 40_000)).toMatchObject({ code: 0 });
}, 300_000);
