/**
 * How many folders a mailbox syncs at once (imap/folder-lanes.ts): two on a LAN, six when the servers are a
 * round trip of 30 ms or more away, what `folderConcurrency` says when it is set; seen from the connections that
 * reach real Dovecots through a delay proxy, with every message copied once either way.
 */
import { folderLanes, LAN_FOLDER_LANES, WAN_FOLDER_LANES } from '../../imap/folder-lanes';
import { syncMailboxOverImap } from '../../imap/mailbox-sync';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { startDelayProxy, type DelayProxy } from '../fixtures/delay-proxy';
import { buildMessage, type DovecotServer } from '../fixtures/dovecot';
import {
  engineDatabase,
  ENGINE_DEFAULTS,
  expectCopiedExactly,
  insertPairMailbox,
  startDovecotPair,
  syncSide,
} from './helpers';

test('the lane count follows the round trip unless configured, never above the folders to sync', () => {
  expect(folderLanes(8, 0.3)).toBe(LAN_FOLDER_LANES);
  expect(folderLanes(8, 29.9)).toBe(LAN_FOLDER_LANES);
  expect(folderLanes(8, 30)).toBe(WAN_FOLDER_LANES);
  expect(folderLanes(3, 50)).toBe(3);
  expect(folderLanes(8, 50, 3)).toBe(3);
  expect(folderLanes(8, 0, 4)).toBe(4);
  expect(folderLanes(1, 50)).toBe(1);
  expect(folderLanes(0, 50)).toBe(1);
});

describe('lanes against real servers at a distance', () => {
  const FOLDERS = ['INBOX', 'Archive', 'Sent', 'Drafts', 'Lists', 'Projects', 'Receipts', 'Travel'];
  const USERS = ['near@example.com', 'far@example.com', 'set@example.com'];
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let proxies: DelayProxy[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ source, destination } = await startDovecotPair(USERS, (user) =>
      FOLDERS.flatMap((folder) =>
        Array.from({ length: 4 }, (_, n) => ({
          folder,
          raw: buildMessage({ subject: `${user} ${folder} ${n}`, size: 2_000 + n * 100 }),
          flags: n % 2 ? ['\\Seen'] : [],
        })),
      ),
    ));
  });
  afterEach(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    proxies = [];
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** Syncs `user` with both servers `rttMs` away; the connections each side saw. */
  async function syncAt(user: string, rttMs: number, folderConcurrency?: number) {
    proxies = await Promise.all([startDelayProxy(source, rttMs), startDelayProxy(destination, rttMs)]);
    const [toSource, toDestination] = proxies as [DelayProxy, DelayProxy];
    const { mailboxId } = await insertPairMailbox(db.pool, toSource, toDestination, user);
    const summary = await syncMailboxOverImap(
      engineDatabase(db, mailboxId),
      mailboxId,
      syncSide(toSource, user, 'src-pw'),
      syncSide(toDestination, user, 'dst-pw'),
      { ...ENGINE_DEFAULTS, folderConcurrency },
    );
    expect(summary.itemsCopied).toBe(FOLDERS.length * 4);
    await expectCopiedExactly(source, destination, [user]);
    return { source: toSource.connections(), destination: toDestination.connections() };
  }

  test('on loopback: two lanes', async () => {
    await expect(syncAt('near@example.com', 0)).resolves.toEqual({ source: 2, destination: 2 });
  });

  test('40 ms away: six lanes, each logged in on both sides', async () => {
    await expect(syncAt('far@example.com', 40)).resolves.toEqual({ source: 6, destination: 6 });
  });

  test('folderConcurrency wins over the round trip', async () => {
    await expect(syncAt('set@example.com', 40, 3)).resolves.toEqual({ source: 3, destination: 3 });
  });
});
