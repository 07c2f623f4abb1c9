import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { CapturingLogger } from '../api/harness';
import { insertBatch, insertEndpoint, insertMailbox, mailboxRow, runSync } from './helpers';

const USER = 'alice@example.com';

describe('syncMailbox activity against two Dovecots', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let batchId: string;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot({ separator: '/', prefix: '' }),
      startDovecot({ separator: '.', prefix: 'INBOX.' }),
    ]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
    const src = await insertEndpoint(db.pool, source);
    const dst = await insertEndpoint(db.pool, destination);
    batchId = await insertBatch(db.pool, src, dst);
    mailboxId = await insertMailbox(db.pool, batchId, {
      email: USER,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  const run = (pass: 'initial' | 'incremental' | 'final') => runSync(db, { batchId, mailboxId, pass });

  const compare = async () => {
    const [s, d] = await Promise.all([source.readMailbox(USER), destination.readMailbox(USER)]);
    return { src: comparableMessages(s, source), dst: comparableMessages(d, destination) };
  };

  it('copies every folder and message byte-identical with flags and internal dates, then only new mail', async () => {
    const seed: SeedMessage[] = [];
    for (let i = 0; i < 30; i++) {
      seed.push({
        folder: ['INBOX', 'Work', 'Work/Projects', 'Sent'][i % 4]!,
        raw: buildMessage({ subject: `message ${i}`, size: i % 7 === 0 ? 40_000 : undefined }),
        flags: i % 3 === 0 ? ['\\Seen'] : i % 3 === 1 ? ['\\Answered', '$Important'] : [],
        internalDate: new Date(Date.UTC(2020, 0, 1 + i, 10, 0, 0)),
      });
    }
    await source.seed(USER, seed);
    expect(await run('initial')).toEqual({ mailboxId, status: 'Synced' });
    const first = await compare();
    expect(first.dst).toEqual(first.src);
    expect(first.dst).toHaveLength(30);
    const row = await mailboxRow(db.pool, mailboxId);
    expect(row).toMatchObject({ status: 'Synced', items_synced: '30', items_total: '30', last_error: null });
    expect(row.initial_sync_at).not.toBeNull();

    await source.seed(USER, [
      { folder: 'Work', raw: buildMessage({ subject: 'new one' }), internalDate: new Date('2024-02-03T04:05:06Z') },
    ]);
    expect(await run('incremental')).toEqual({ mailboxId, status: 'Synced' });
    const second = await compare();
    expect(second.dst).toEqual(second.src);
    expect(second.dst).toHaveLength(31);

    expect(await run('final')).toEqual({ mailboxId, status: 'Completed' });
    expect((await compare()).dst).toHaveLength(31);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({ status: 'Completed', items_synced: '31' });
  });

  it('writes progress to the read model at a bounded rate, not once per message', async () => {
    const user = 'paced@example.com';
    await source.addUser(user, 'src-pw');
    await destination.addUser(user, 'dst-pw');
    await source.seed(
      user,
      Array.from({ length: 400 }, (_, i) => ({
        folder: i % 2 ? 'INBOX' : 'Work',
        raw: buildMessage({ subject: `paced ${i}` }),
      })),
    );
    const id = await insertMailbox(db.pool, batchId, {
      email: user,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    // Count every update of this mailbox's row: the activity's only way to the read model.
    await db.pool.query(`
      create table progress_writes (mailbox_id bigint, items_synced bigint);
      create function note_progress_write() returns trigger language plpgsql as $$
        begin insert into progress_writes values (new.id, new.items_synced); return new; end $$;
      create trigger note_progress_write after update on mailboxes for each row execute function note_progress_write();
    `);
    // Four MULTIAPPEND batches of 100 land progress four times; an interval longer than the sync lets one through.
    const intervalMs = 60_000;
    const started = Date.now();
    expect(await runSync(db, { batchId, mailboxId: id, pass: 'initial' }, { progressIntervalMs: intervalMs })).toEqual({
      mailboxId: id,
      status: 'Synced',
    });
    const elapsedMs = Date.now() - started;
    const { rows } = await db.pool.query<{ items_synced: string }>(
      'select items_synced from progress_writes where mailbox_id = $1',
      [id],
    );
    // The write that marks the start, at most one per interval while it runs, and the final one.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / intervalMs) + 2);
    expect(Number(rows[rows.length - 1]!.items_synced)).toBe(400);
  });

  it('logs its start, each folder, a failed attempt with its reason, and the end with counts and rate', async () => {
    const user = 'carol@example.com';
    await source.addUser(user, 'src-pw');
    await destination.addUser(user, 'dst-pw');
    const id = await insertMailbox(db.pool, batchId, {
      email: user,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    await source.seed(user, [
      { folder: 'INBOX', raw: buildMessage({ subject: 'one' }) },
      { folder: 'INBOX', raw: buildMessage({ subject: 'two' }) },
      { folder: 'Work', raw: buildMessage({ subject: 'three' }) },
    ]);
    const logger = new CapturingLogger();
    const attempt = (n: number) =>
      runSync(
        db,
        { batchId, mailboxId: id, pass: 'initial' },
        { logger, env: new MockActivityEnvironment({ attempt: n }, { logger: new DefaultLogger('ERROR') }) },
      );
    await destination.stop();
    await expect(attempt(1)).rejects.toMatchObject({ type: 'CONNECTION_FAILED' });
    await destination.start();
    expect(await attempt(2)).toEqual({ mailboxId: id, status: 'Synced' });

    const all = logger.lines.map((l) => JSON.parse(l)).filter((l) => l.component !== 'imapflow');
    // The debug lines (the folder lanes chosen) carry the same context; the rest is the story told at info.
    for (const line of all) expect(line).toMatchObject({ mailboxId: id, address: user });
    const lines = all.filter((l) => l.level !== 'debug');
    const who = { batchId, mailboxId: id, address: user, batch: expect.any(String) };
    // Between the second start and its end, one line per folder (the fixture's special-use folders among them).
    expect(lines.filter((l) => l.message !== 'folder synced').map((l) => [l.level, l.message, l.attempt])).toEqual([
      ['info', 'mailbox sync started', 1],
      ['warn', 'mailbox sync attempt failed', 1],
      ['info', 'mailbox sync started', 2],
      ['info', 'mailbox sync finished', 2],
    ]);
    const folders = lines.filter((l) => l.message === 'folder synced');
    expect(folders.map((l) => l.folder)).toEqual(expect.arrayContaining(['INBOX', 'Work']));
    expect(lines.indexOf(folders[0]!)).toBe(3);
    expect(lines.at(-1)!.foldersSynced).toBeGreaterThanOrEqual(folders.length);
    for (const line of lines) expect(line).toMatchObject(who);
    expect(lines[1]).toMatchObject({ code: 'CONNECTION_FAILED', reason: expect.stringContaining('destination') });
    expect(lines.find((l) => l.folder === 'INBOX')).toMatchObject({ copied: 2, skipped: 0, bytes: expect.any(Number) });
    expect(lines.at(-1)).toMatchObject({
      status: 'Synced',
      itemsCopied: 3,
      foldersSynced: expect.any(Number),
      itemsPerSecond: expect.any(Number),
      bytesPerSecond: expect.any(Number),
    });
  });
});
