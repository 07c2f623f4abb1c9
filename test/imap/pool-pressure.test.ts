import { createPool } from '../../db/pool';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, type DovecotServer } from '../fixtures/dovecot';
import { expectCopiedExactly, insertBatch, insertEndpoint, insertMailbox, runSync, startDovecotPair } from './helpers';

/**
 * The risk: a sync that holds a pooled connection while it waits for another one. Eight times more real syncs
 * than the pool has connections run at once, and every one must finish, exactly once. When each sync pinned a
 * pooled connection for its lock, the first three took the pool and then waited forever for a fourth.
 */
const SYNCS = 24;
const POOL_SIZE = 3;
const USERS = Array.from({ length: SYNCS }, (_, i) => `crowd${i}@example.com`);

let db: TestDatabase;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ source, destination } = await startDovecotPair(USERS, (user) =>
    Array.from({ length: 5 }, (_, n) => ({
      folder: n % 2 ? 'Archive' : 'INBOX',
      raw: buildMessage({ subject: `${user} ${n}` }),
      flags: ['\\Seen'],
    })),
  ));
});
afterAll(async () => {
  await Promise.all([source?.close(), destination?.close()]);
  await db?.drop();
});

test(`${SYNCS} syncs at once on a pool of ${POOL_SIZE} connections all finish, every message once`, async () => {
  // The wait for a connection is bounded by a minute, not the default 10 s: alone this test's longest wait is under
  // a second (24 syncs queue on 3 connections), but in CI, on two cores shared with other suites and their own
  // databases, one wait passed 10 s. What it guards against is a wait that never ends; a minute still catches that.
  const small = createPool(db.url, 'worker', { size: POOL_SIZE, connectTimeoutMs: 60_000 });
  try {
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source),
      await insertEndpoint(db.pool, destination),
    );
    const ids = await Promise.all(
      USERS.map((email) =>
        insertMailbox(db.pool, batchId, { email, sourcePassword: 'src-pw', destinationPassword: 'dst-pw' }),
      ),
    );
    const results = await Promise.all(
      ids.map((mailboxId) => runSync({ pool: small, locks: db.locks }, { batchId, mailboxId, pass: 'initial' })),
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 'Synced'));
  } finally {
    await small.end();
  }
  await expectCopiedExactly(source, destination, USERS);
});
