/**
 * The process's budget for message bodies (imap/message-buffers.ts): what fits goes at once, the rest waits in
 * order, a batch larger than the budget goes alone, a cancelled wait lets the next one through; and real syncs
 * sharing a small budget stay within it and still copy everything.
 */
import { syncMailboxOverImap } from '../../imap/mailbox-sync';
import { createMessageBuffers, type MessageBuffers } from '../../imap/message-buffers';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, type DovecotServer } from '../fixtures/dovecot';
import {
  engineDatabase,
  ENGINE_DEFAULTS,
  expectCopiedExactly,
  insertBatch,
  insertEndpoint,
  insertMailbox,
  startDovecotPair,
  syncSide,
} from './helpers';

const MB = 1024 * 1024;

/** Whether the promise has settled after the current microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

test('reservations that fit go at once; the rest wait until bytes are given back, first come first served', async () => {
  const buffers = createMessageBuffers(32 * MB);
  const a = await buffers.reserve(16 * MB);
  const b = await buffers.reserve(16 * MB);
  expect(buffers.held()).toBe(32 * MB);
  const big = buffers.reserve(20 * MB);
  const small = buffers.reserve(1 * MB);
  // The small one fits only after the big one: it does not overtake it.
  expect([await settled(big), await settled(small)]).toEqual([false, false]);
  a();
  a(); // a second call gives nothing back twice
  expect(buffers.held()).toBe(16 * MB);
  expect([await settled(big), await settled(small)]).toEqual([false, false]);
  b();
  const releaseBig = await big;
  const releaseSmall = await small;
  expect(buffers.held()).toBe(21 * MB);
  releaseBig();
  releaseSmall();
  expect(buffers.held()).toBe(0);
});

test('a batch larger than the whole budget goes once nothing else is held', async () => {
  const buffers = createMessageBuffers(16 * MB);
  const huge = await buffers.reserve(40 * MB);
  expect(buffers.held()).toBe(40 * MB);
  const next = buffers.reserve(1 * MB);
  expect(await settled(next)).toBe(false);
  huge();
  (await next)();
  expect(buffers.held()).toBe(0);
});

test('a cancelled wait rejects with CANCELLED and lets those behind it through', async () => {
  const buffers = createMessageBuffers(16 * MB);
  const held = await buffers.reserve(10 * MB);
  const abort = new AbortController();
  const waiting = buffers.reserve(10 * MB, abort.signal);
  const behind = buffers.reserve(4 * MB);
  expect(await settled(behind)).toBe(false);
  abort.abort();
  await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
  (await behind)();
  held();
  expect(buffers.held()).toBe(0);
  await expect(buffers.reserve(1, abort.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
});

describe('several real syncs sharing one small budget', () => {
  const USERS = ['ada@example.com', 'bob@example.com', 'cyd@example.com', 'dee@example.com'];
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ source, destination } = await startDovecotPair(USERS, (user) =>
      Array.from({ length: 40 }, (_, n) => ({
        folder: ['INBOX', 'Archive', 'Sent'][n % 3]!,
        raw: buildMessage({ subject: `${user} ${n}`, size: 60_000 + n * 1_000 }),
        flags: n % 2 ? ['\\Seen'] : [],
      })),
    ));
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  test('never hold more bodies than the budget (but one batch), and copy every message once', async () => {
    const limit = 1 * MB;
    const buffers = createMessageBuffers(limit);
    let peak = 0;
    const watched: MessageBuffers = {
      held: () => buffers.held(),
      async reserve(bytes, signal) {
        const release = await buffers.reserve(bytes, signal);
        peak = Math.max(peak, buffers.held());
        return release;
      },
    };
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source),
      await insertEndpoint(db.pool, destination),
    );
    await Promise.all(
      USERS.map(async (user) => {
        const mailboxId = await insertMailbox(db.pool, batchId, {
          email: user,
          sourcePassword: 'src-pw',
          destinationPassword: 'dst-pw',
        });
        // Batches of at most 256 KB, so the four mailboxes' eight lanes want far more than the budget at once.
        await syncMailboxOverImap(
          engineDatabase(db, mailboxId),
          mailboxId,
          syncSide(source, user, 'src-pw'),
          syncSide(destination, user, 'dst-pw'),
          { ...ENGINE_DEFAULTS, chunkBytes: 256 * 1024, messageBuffers: watched },
        );
      }),
    );
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(limit);
    expect(buffers.held()).toBe(0);
    await expectCopiedExactly(source, destination, USERS);
  });
});
