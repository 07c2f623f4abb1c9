import { existsSync } from 'node:fs';
import path from 'node:path';
import { syncMailboxOverImap } from '../../imap/mailbox-sync';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { engineDatabase, ENGINE_DEFAULTS, insertBatch, insertEndpoint, insertMailbox, syncSide } from './helpers';

const USER = 'erin@example.com';

/**
 * Dovecot lists its `auto =` special-use folders before they exist and creates them on first access. Two
 * sessions of one user creating folders at once can deadlock on its mailbox-list locks, so every destination
 * folder must exist before the parallel folder lanes start.
 */
describe('folder preparation on the destination', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startDovecot(), startDovecot()]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
    await source.seed(USER, [
      ...[1, 2, 3].map((i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `inbox ${i}` }) })),
      { folder: 'Work', raw: buildMessage({ subject: 'work' }) },
    ]);
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source),
      await insertEndpoint(db.pool, destination),
    );
    mailboxId = await insertMailbox(db.pool, batchId, { email: USER });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  it('creates every destination folder, listed-but-absent special-use ones included, before any folder syncs', async () => {
    const onDisk = (folder: string) => existsSync(path.join(destination.dir, 'home', USER, 'Maildir', folder));
    const folders = ['Work', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive'];
    expect((await destination.listFolders(USER)).map((f) => f.path)).toEqual(expect.arrayContaining(folders.slice(1)));
    expect(folders.filter(onDisk)).toEqual([]);

    let presentAtFirstAppend: string[] | null = null;
    const engineDb = engineDatabase(db, mailboxId);
    await syncMailboxOverImap(
      engineDb,
      mailboxId,
      syncSide(source, USER, 'src-pw'),
      syncSide(destination, USER, 'dst-pw'),
      {
        ...ENGINE_DEFAULTS,
        badItemLimit: 0,
        // One lane, largest folder (INBOX) first: without the preparation, Sent and the others would not exist yet.
        folderConcurrency: 1,
        trace: (e) => {
          if (e.step === 'append-start') presentAtFirstAppend ??= folders.filter(onDisk);
        },
      },
    );
    expect(presentAtFirstAppend).toEqual(folders);
  });
});
