import { MockActivityEnvironment } from '@temporalio/testing';
import { createSyncMailboxActivities } from '../../activities/sync-mailbox';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { insertBatch, insertEndpoint, insertMailbox, mailboxRow, secretBox } from './helpers';

const USER = 'dana@example.com';

describe('Gmail profile (Dovecot with a virtual \\All folder over the label folders)', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startDovecot({ allMail: 'All Mail' }), startDovecot()]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  it('copies the labels, and from All Mail only the archived mail (into Archive), without duplicates', async () => {
    const a = buildMessage({ subject: 'inbox only' });
    const b = buildMessage({ subject: 'inbox and work' });
    const c = buildMessage({ subject: 'work only' });
    const d = buildMessage({ subject: 'archived, no label' });
    await source.seed(USER, [
      { folder: 'INBOX', raw: a },
      { folder: 'INBOX', raw: b, flags: ['\\Seen'] },
      { folder: 'Work', raw: b, flags: ['\\Seen'] },
      { folder: 'Work', raw: c },
      // Gmail keeps archived mail only in All Mail; here it sits in a folder the batch does not copy.
      { folder: 'Hidden', raw: d },
    ]);
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source, { provider: 'gmail' }),
      await insertEndpoint(db.pool, destination),
      { folderExclude: ['Hidden'] },
    );
    const mailboxId = await insertMailbox(db.pool, batchId, { email: USER, sourcePassword: 'src-pw', destinationPassword: 'dst-pw' });
    const run = () =>
      new MockActivityEnvironment().run(createSyncMailboxActivities({ pool: db.pool, secretBox }).syncMailbox, {
        batchId,
        mailboxId,
        pass: 'initial' as const,
      });
    expect(await run()).toEqual({ mailboxId, status: 'Synced' });

    const subjects = async () =>
      (await destination.readMailbox(USER))
        .map((m) => `${m.folder}: ${m.messageId ? 'id' : 'no id'} ${m.size}`)
        .sort();
    const byFolder = (await destination.readMailbox(USER)).reduce<Record<string, number>>((acc, m) => {
      acc[m.folder] = (acc[m.folder] ?? 0) + 1;
      return acc;
    }, {});
    expect(byFolder).toEqual({ INBOX: 2, Work: 2, Archive: 1 });
    const archived = (await destination.readMailbox(USER)).find((m) => m.folder === 'Archive');
    expect(archived?.sha256).toBe((await source.readMailbox(USER)).find((m) => m.folder === 'Hidden')?.sha256);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({ items_synced: '5' });

    // Nothing new: a second pass copies nothing more.
    const before = await subjects();
    await source.seed(USER, [{ folder: 'INBOX', raw: buildMessage({ subject: 'new in inbox' }) }]);
    expect(await run()).toEqual({ mailboxId, status: 'Synced' });
    const after = await subjects();
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((x) => x.startsWith('Archive')).length).toBe(1);
  });
});
