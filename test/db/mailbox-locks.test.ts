import { Pool } from 'pg';
import { createMailboxLocks, MailboxLockError, type MailboxLocks } from '../../db/mailbox-locks';
import { classifyDatabaseError } from '../../db/errors';
import { createPool } from '../../db/pool';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { waitFor } from '../fixtures/wait-for';

/** The per-mailbox exclusion of syncs: one dedicated connection per process, never a pooled one. */
let db: TestDatabase;
const opened: MailboxLocks[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  await db.drop();
});

/** A second worker process's locks on the same database. */
function otherProcess(): MailboxLocks {
  const locks = createMailboxLocks(db.url, { pollMs: 50 });
  opened.push(locks);
  return locks;
}

async function lockConnections(): Promise<{ pid: number; state: string }[]> {
  const { rows } = await db.pool.query<{ pid: number; state: string }>(
    `select pid, state from pg_stat_activity where datname = current_database() and application_name = 'mailferry-locks'`,
  );
  return rows;
}

test('two attempts in one process exclude each other, although session locks are re-entrant', async () => {
  const locks = otherProcess();
  const held = await locks.acquire('101', { waitMs: 0 });
  const err = await locks.acquire('101', { waitMs: 200 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MailboxLockError);
  expect(err).toMatchObject({ code: 'MAILBOX_BUSY' });
  await held.release();
  const again = await locks.acquire('101', { waitMs: 0 });
  expect(locks.held()).toEqual(['101']);
  await again.release();
  expect(locks.held()).toEqual([]);
});

test('two processes exclude each other; a waiting one gets the lock as soon as it is released', async () => {
  const [a, b] = [otherProcess(), otherProcess()];
  const first = await a.acquire('202', { waitMs: 0 });
  let waits = 0;
  const second = b.acquire('202', { waitMs: 10_000, onWait: () => waits++ });
  await waitFor(() => waits >= 2, 'the second process to wait');
  await first.release();
  await (await second).release();
  // Other mailboxes are independent.
  const [x, y] = await Promise.all([a.acquire('203', { waitMs: 0 }), b.acquire('204', { waitMs: 0 })]);
  await Promise.all([x.release(), y.release()]);
});

test('many locks share one connection: a hundred held syncs use one PostgreSQL session, not a hundred', async () => {
  const locks = otherProcess();
  const held = await Promise.all(Array.from({ length: 100 }, (_, i) => locks.acquire(String(1000 + i), { waitMs: 0 })));
  expect(await lockConnections()).toHaveLength(1);
  await Promise.all(held.map((h) => h.release()));
});

test('a process that dies releases its locks at once, and a cancelled wait stops at once', async () => {
  const [a, b] = [otherProcess(), otherProcess()];
  await a.acquire('303', { waitMs: 0 });
  const controller = new AbortController();
  const waiting = b.acquire('303', { waitMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
  controller.abort();
  expect(await waiting).toMatchObject({ code: 'CANCELLED' });
  await a.close(); // the socket closes, as with kill -9
  await (await b.acquire('303', { waitMs: 5_000 })).release();
});

test('a dropped lock connection reports every lock lost, and the next acquire opens a new connection', async () => {
  const locks = otherProcess();
  const one = await locks.acquire('404', { waitMs: 0 });
  const two = await locks.acquire('405', { waitMs: 0 });
  const [session] = await lockConnections();
  await db.pool.query('select pg_terminate_backend($1)', [session!.pid]);
  await waitFor(() => one.lost.aborted && two.lost.aborted, 'both locks to be reported lost');
  expect(String(one.lost.reason)).toMatch(/lost the lock of mailbox 404/);
  expect(locks.held()).toEqual([]);
  // Another process may take the mailbox now; this one gets it back once that one is done.
  const other = otherProcess();
  await (await other.acquire('404', { waitMs: 0 })).release();
  const back = await locks.acquire('404', { waitMs: 1_000 });
  expect(back.lost.aborted).toBe(false);
  await one.release(); // releasing a lost lock is harmless
  await back.release();
});

test('every pool wait is bounded and surfaces with a code, not a hang', async () => {
  const pool = createPool(db.url, 'worker', { size: 1, connectTimeoutMs: 300, statementTimeoutMs: 300 });
  try {
    const holder = await pool.connect();
    const waited = await pool.query('select 1').catch((e: unknown) => e);
    expect(classifyDatabaseError(waited)).toMatchObject({ code: 'DB_POOL_TIMEOUT' });
    holder.release();
    const slow = await pool.query('select pg_sleep(5)').catch((e: unknown) => e);
    expect(classifyDatabaseError(slow)).toMatchObject({ code: 'DB_STATEMENT_TIMEOUT' });
  } finally {
    await pool.end();
  }
  const down = new Pool({ connectionString: 'postgres://127.0.0.1:1/none', connectionTimeoutMillis: 1000 });
  const refused = await down.query('select 1').catch((e: unknown) => e);
  expect(classifyDatabaseError(refused)).toMatchObject({ code: 'DB_UNAVAILABLE' });
  await down.end();
});
