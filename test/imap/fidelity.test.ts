import { chmodSync, mkdtempSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { insertBatch, insertEndpoint, insertMailbox, insertPairMailbox, mailboxRow, runSync } from './helpers';

const USER = 'bob@example.com';
/** Destination names of the special-use folders, and the one name the destination delimiter forced to change. */
const BACK_TO_SOURCE: Record<string, string> = {
  'Sent Items': 'Sent',
  'Deleted Items': 'Trash',
  'Junk Email': 'Junk',
  Brouillons: 'Drafts',
  Archives: 'Archive',
  a_b: 'a.b',
};

/** Dovecot writes each session's raw traffic into `<root>/<user>/` when that folder exists. */
const RAWLOG_ROOT = mkdtempSync(path.join(os.tmpdir(), 'mf-rawlog-'));
chmodSync(RAWLOG_ROOT, 0o755); // Dovecot's mail processes, which may run as another user, pass through it
const rawlogConfig = (side: string) => `rawlog_dir = ${RAWLOG_ROOT}/${side}/%u`;

/** The commands the engine sent to one side for USER while `fn` ran, from Dovecot's raw logs. */
async function commandsSent(side: string, fn: () => Promise<unknown>): Promise<string[]> {
  const dir = path.join(RAWLOG_ROOT, side, USER);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777); // written by Dovecot's mail processes, which may run as another user
  try {
    await fn();
    const files = (await readdir(dir)).filter((f) => f.endsWith('.in'));
    const lines = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).flatMap((t) =>
      t.split('\r\n'),
    );
    // Each line: a timestamp, the tag, the command (after UID for UID commands). Login is not in the log.
    return lines.flatMap((l) => {
      const m = /^\d+\.\d+ \S+ (UID )?([A-Z]+)/i.exec(l);
      return m ? [`${m[1] ?? ''}${m[2]!.toUpperCase()}`] : [];
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('fidelity: folders, names, roles, messages (source "/" no prefix -> destination "." prefix "INBOX.")', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let batchId: string;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot({ separator: '/', prefix: '', extraConfig: rawlogConfig('source') }),
      startDovecot({
        separator: '.',
        prefix: 'INBOX.',
        extraConfig: rawlogConfig('destination'),
        specialUse: {
          Sent: 'Sent Items',
          Trash: 'Deleted Items',
          Junk: 'Junk Email',
          Drafts: 'Brouillons',
          Archive: 'Archives',
        },
      }),
    ]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
    batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source),
      await insertEndpoint(db.pool, destination),
      {
        folderExclude: ['Old Spam', 'Work/Private*'],
      },
    );
    mailboxId = await insertMailbox(db.pool, batchId, {
      email: USER,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
    await rm(RAWLOG_ROOT, { recursive: true, force: true });
  });

  const run = (pass: 'initial' | 'incremental' | 'final') => runSync(db, { batchId, mailboxId, pass });
  const snapshot = async () => {
    const [s, d] = await Promise.all([source.readMailbox(USER), destination.readMailbox(USER)]);
    const excluded = (f: string) => f === 'Old Spam' || f.startsWith('Work/Private');
    return {
      src: comparableMessages(s, source).filter((m) => !excluded(m.folder)),
      dst: comparableMessages(d, destination, (parts) => parts.map((p) => BACK_TO_SOURCE[p] ?? p).join('/')),
    };
  };
  const msg = (
    folder: string,
    subject: string,
    extra: Partial<SeedMessage> = {},
    spec: Parameters<typeof buildMessage>[0] = { subject },
  ): SeedMessage => ({
    folder,
    raw: buildMessage(spec),
    internalDate: new Date(Date.UTC(2021, 5, (subject.length % 28) + 1, 12, subject.length % 60, 7)),
    ...extra,
  });

  it('copies the hierarchy (nested, non-ASCII, "&", foreign delimiter, empty, unsubscribed), maps roles, skips excluded folders', async () => {
    await source.seed(USER, [
      msg('INBOX', 'inbox 1', { flags: ['\\Seen', '\\Flagged'] }),
      msg('Work/Projects/2024', 'deep one', { flags: ['$Label1', 'NonJunk'] }),
      msg('Ünïcødé & Co', 'unicode folder'),
      msg('a.b', 'dot in name'),
      msg('Sent', 'sent mail', { flags: ['\\Seen'] }),
      msg('Trash', 'deleted mail', { flags: ['\\Seen', '\\Deleted'] }),
      msg('Junk', 'junk mail'),
      msg('Drafts', 'a draft', { flags: ['\\Draft'] }),
      msg('Archive', 'archived mail', { flags: ['\\Seen'] }),
      msg('Old Spam', 'excluded'),
      msg('Work/Private/Secret', 'excluded too'),
      // No Message-ID; two different messages with one Message-ID; two byte-identical copies.
      msg('INBOX', 'no id', {}, { subject: 'no id', messageId: null }),
      msg('INBOX', 'shared id A', {}, { subject: 'shared id A', messageId: '<same@x>' }),
      msg('INBOX', 'shared id B', {}, { subject: 'shared id B', messageId: '<same@x>' }),
      msg('INBOX', 'twin', {}, { subject: 'twin' }),
      msg('INBOX', 'twin', {}, { subject: 'twin' }),
      msg('INBOX', 'with attachment', {}, { subject: 'with attachment', size: 300_000 }),
    ]);
    const client = await source.connect(USER);
    await client.mailboxCreate('Empty');
    await client.mailboxCreate('Unsubscribed');
    await client.mailboxUnsubscribe('Unsubscribed');
    await client.logout();

    expect(await run('initial')).toEqual({ mailboxId, status: 'Synced' });
    const { src, dst } = await snapshot();
    expect(dst).toEqual(src);
    expect(dst.filter((m) => m.folder === 'INBOX')).toHaveLength(7);

    const folders = await destination.listFolders(USER);
    const byPath = new Map(folders.map((f) => [f.path, f]));
    for (const p of [
      'INBOX.Work.Projects.2024',
      'INBOX.Ünïcødé & Co',
      'INBOX.a_b',
      'INBOX.Empty',
      'INBOX.Unsubscribed',
      'INBOX.Sent Items',
      'INBOX.Deleted Items',
      'INBOX.Brouillons',
      'INBOX.Archives',
    ]) {
      expect(byPath.has(p)).toBe(true);
    }
    // Every role lands on the destination's folder of that role; none is created under the source's name.
    for (const p of ['INBOX.Sent', 'INBOX.Trash', 'INBOX.Junk', 'INBOX.Drafts', 'INBOX.Archive']) {
      expect(byPath.has(p)).toBe(false);
    }
    expect(byPath.get('INBOX.Empty')?.subscribed).toBe(true);
    expect(byPath.get('INBOX.Unsubscribed')?.subscribed).toBe(false);
    expect(folders.some((f) => /Spam|Private/.test(f.path))).toBe(false);
    // No folders named after the source's roles were made beside the destination's own.
    expect(byPath.has('INBOX.Sent') || byPath.has('INBOX.Trash') || byPath.has('INBOX.Junk')).toBe(false);
    const row = await mailboxRow(db.pool, mailboxId);
    expect(row).toMatchObject({ status: 'Synced', items_synced: String(src.length), items_skipped: '0' });
  });

  it('an incremental pass copies new mail and changed flags, and nothing else', async () => {
    await source.seed(USER, [
      msg('Work/Projects/2024', 'later one'),
      msg('INBOX', 'later inbox', { flags: ['\\Answered'] }),
    ]);
    const client = await source.connect(USER);
    const lock = await client.getMailboxLock('INBOX');
    try {
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageFlagsRemove(String(uids[0]), ['\\Seen'], { uid: true });
      await client.messageFlagsAdd(String(uids[1]), ['\\Flagged', '$Work'], { uid: true });
    } finally {
      lock.release();
    }
    await client.logout();
    expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
    const { src, dst } = await snapshot();
    expect(dst).toEqual(src);
  });

  it('a no-change pass selects no folder and copies nothing', async () => {
    const before = (await destination.readMailbox(USER)).length;
    const { rows } = await db.pool.query<{ updated_at: Date }>(
      'select max(updated_at) as updated_at from folder_checkpoints where mailbox_id = $1',
      [mailboxId],
    );
    let sourceCommands: string[] = [];
    const destinationCommands = await commandsSent('destination', async () => {
      sourceCommands = await commandsSent('source', async () => {
        expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
      });
    });
    // A handful of commands in all, whatever the number of folders: one LIST-STATUS on the source, one LIST on
    // the destination, no SELECT, EXAMINE or FETCH.
    const folders = (await source.listFolders(USER)).length;
    expect(folders).toBeGreaterThan(8);
    for (const sent of [sourceCommands, destinationCommands]) {
      expect(sent.filter((c) => /^(SELECT|EXAMINE|UID FETCH|FETCH|STATUS)$/.test(c))).toEqual([]);
      expect(sent.length).toBeLessThanOrEqual(8);
    }
    expect(sourceCommands.filter((c) => c === 'LIST')).toHaveLength(1);
    const after = await db.pool.query<{ updated_at: Date }>(
      'select max(updated_at) as updated_at from folder_checkpoints where mailbox_id = $1',
      [mailboxId],
    );
    expect(after.rows[0]?.updated_at).toEqual(rows[0]?.updated_at);
    expect((await destination.readMailbox(USER)).length).toBe(before);
  });

  it('a UIDVALIDITY reset on the source is matched by content: no duplicates, new mail copied', async () => {
    const client = await source.connect(USER);
    const lock = await client.getMailboxLock('Work/Projects/2024');
    const kept: SeedMessage[] = [];
    try {
      for await (const m of client.fetch('1:*', { source: true, flags: true, internalDate: true })) {
        kept.push({
          folder: 'Work/Projects/2024',
          raw: m.source!,
          flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent'),
          internalDate: new Date(m.internalDate!),
        });
      }
    } finally {
      lock.release();
    }
    const before = await client.status('Work/Projects/2024', { uidValidity: true });
    await client.mailboxDelete('Work/Projects/2024');
    await client.logout();
    // One of them comes back with another flag: the match by content must still bring the flags over.
    kept[0] = { ...kept[0]!, flags: [...(kept[0]!.flags ?? []), '\\Flagged'] };
    await source.seed(USER, [...kept, msg('Work/Projects/2024', 'after the reset')]);
    const c2 = await source.connect(USER);
    const after = await c2.status('Work/Projects/2024', { uidValidity: true });
    await c2.logout();
    expect(after && after.uidValidity).not.toEqual(before && before.uidValidity);

    expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
    const { src, dst } = await snapshot();
    expect(dst).toEqual(src);
    expect(dst.filter((m) => m.folder === 'Work/Projects/2024')).toHaveLength(kept.length + 1);
  });

  it('deletes on the destination what the source deleted only when the batch asks for it', async () => {
    const client = await source.connect(USER);
    const lock = await client.getMailboxLock('INBOX');
    try {
      await client.messageDelete('1', { uid: false });
    } finally {
      lock.release();
    }
    await client.logout();
    expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
    let { src, dst } = await snapshot();
    expect(dst.length).toBe(src.length + 1);

    await db.pool.query('update batches set delete_on_destination = true where id = $1', [batchId]);
    // A source change is needed for the folder to be looked at again; a flag change is enough.
    const c2 = await source.connect(USER);
    const l2 = await c2.getMailboxLock('INBOX');
    try {
      await c2.messageFlagsAdd('1', ['$Touched']);
    } finally {
      l2.release();
    }
    await c2.logout();
    expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
    ({ src, dst } = await snapshot());
    expect(dst).toEqual(src);
  });
});

describe('fidelity the other way round (source "." prefix "INBOX." -> destination "/" no prefix)', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot({
        separator: '.',
        prefix: 'INBOX.',
        specialUse: { Sent: 'Sent Messages', Trash: 'Deleted Messages' },
      }),
      startDovecot({ separator: '/', prefix: '' }),
    ]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  it('strips the source prefix, changes the delimiter and maps roles back onto the destination names', async () => {
    await source.seed(USER, [
      { folder: 'INBOX', raw: buildMessage({ subject: 'top' }), flags: ['\\Seen'] },
      { folder: 'INBOX.Work.Sub', raw: buildMessage({ subject: 'nested' }) },
      { folder: 'INBOX.Sent Messages', raw: buildMessage({ subject: 'sent' }), flags: ['\\Seen'] },
      { folder: 'INBOX.Deleted Messages', raw: buildMessage({ subject: 'gone' }) },
      { folder: 'INBOX.Ünï & co', raw: buildMessage({ subject: 'utf7' }) },
    ]);
    const { batchId, mailboxId } = await insertPairMailbox(db.pool, source, destination, USER);
    const result = await runSync(db, { batchId, mailboxId, pass: 'initial' });
    expect(result).toEqual({ mailboxId, status: 'Synced' });
    const names: Record<string, string> = { 'Sent Messages': 'Sent', 'Deleted Messages': 'Trash' };
    const [s, d] = await Promise.all([source.readMailbox(USER), destination.readMailbox(USER)]);
    expect(comparableMessages(d, destination)).toEqual(
      comparableMessages(s, source, (parts) => parts.map((p) => names[p] ?? p).join('/')),
    );
    expect(d.map((m) => m.folder).sort()).toEqual(['INBOX', 'Sent', 'Trash', 'Work/Sub', 'Ünï & co']);
  });
});
