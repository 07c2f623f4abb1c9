import type { ImapFlow } from 'imapflow';
import { createVerifyMailboxActivities, type VerifyMailboxResult } from '../../activities/verify-mailbox';
import { selectVerifications } from '../../db/verifications';
import type { ConsistencyDifference } from '../../domain/consistency';
import { silentLogger } from '../../observability/logger';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer, type SeedMessage } from '../fixtures/dovecot';
import { activityEnvironment, insertBatch, insertEndpoint, insertMailbox, runSync, secretBox } from './helpers';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/**
 * Verification against two real Dovecots (a '/' source without prefix, an 'INBOX.' destination with '.'), through
 * the real `verifyMailbox` activity: a clean sync grades Perfect; each kind of damage the test does to the
 * destination is found and named exactly, then undone; skipped large items grade Good; neither server changes.
 */
describe('verifyMailbox against two Dovecots', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let batchId: string;
  let alice: string;
  let bob: string;
  let dst: ImapFlow;
  const seed: SeedMessage[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot({ separator: '/', prefix: '' }),
      startDovecot({ separator: '.', prefix: 'INBOX.' }),
    ]);
    for (const user of [ALICE, BOB]) {
      await source.addUser(user, 'src-pw');
      await destination.addUser(user, 'dst-pw');
    }
    const src = await insertEndpoint(db.pool, source);
    const dstId = await insertEndpoint(db.pool, destination);
    batchId = await insertBatch(db.pool, src, dstId, { largeItemMaxBytes: 30_000, largeItemLimit: 5 });
    const passwords = { sourcePassword: 'src-pw', destinationPassword: 'dst-pw' };
    alice = await insertMailbox(db.pool, batchId, { email: ALICE, ...passwords });
    bob = await insertMailbox(db.pool, batchId, { email: BOB, ...passwords });
    for (let i = 0; i < 24; i++) {
      seed.push({
        folder: ['INBOX', 'Work', 'Work/Projects', 'Sent'][i % 4]!,
        raw: buildMessage({ subject: `message ${i} of 24`, messageId: i === 5 ? null : undefined }),
        flags: i % 3 === 0 ? ['\\Seen'] : i % 3 === 1 ? ['\\Answered', '$Important'] : [],
        internalDate: new Date(Date.UTC(2021, 0, 1 + i, 9, 30, 0)),
      });
    }
    await source.seed(ALICE, seed);
    await source.seed(BOB, [
      ...seed.slice(0, 4),
      { folder: 'INBOX', raw: buildMessage({ subject: 'too large', size: 40_000 }) },
    ]);
    for (const mailboxId of [alice, bob]) {
      expect(await runSync(db, { batchId, mailboxId, pass: 'initial' })).toMatchObject({ status: 'Synced' });
    }
    dst = await destination.connect(ALICE, 'dst-pw');
  });
  afterAll(async () => {
    await dst?.logout().catch(() => undefined);
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  const verify = async (mailboxId: string, deep = false) => {
    const { verifyMailbox } = createVerifyMailboxActivities({ ...db, secretBox, logger: silentLogger });
    const result: VerifyMailboxResult = await activityEnvironment().run(verifyMailbox, { batchId, mailboxId, deep });
    const stored = (await selectVerifications(db.pool, [mailboxId])).get(mailboxId)!;
    expect(stored.grade).toBe(result.grade);
    return stored;
  };
  const only = (differences: ConsistencyDifference[]) => {
    expect(differences).toHaveLength(1);
    return differences[0]!;
  };
  /** The destination UID of a seeded message in a destination folder, by subject. */
  const uidOf = async (folder: string, subject: string) => {
    const lock = await dst.getMailboxLock(folder);
    try {
      const found = await dst.search({ subject }, { uid: true });
      expect(found).toHaveLength(1);
      return (found as number[])[0]!;
    } finally {
      lock.release();
    }
  };
  const deleteMessage = async (folder: string, uid: number) => {
    const lock = await dst.getMailboxLock(folder);
    try {
      await dst.messageDelete(String(uid), { uid: true });
    } finally {
      lock.release();
    }
  };
  const append = (folder: string, m: { raw: Buffer | string; flags?: string[]; internalDate?: Date }) =>
    dst.append(folder, m.raw, m.flags ?? [], m.internalDate);
  const seeded = (i: number) => seed[i]!;

  it('grades a clean sync Perfect, header data and deep alike, and changes neither server', async () => {
    const before = await Promise.all([source.readMailbox(ALICE), destination.readMailbox(ALICE)]);
    const header = await verify(alice);
    expect(header).toMatchObject({ grade: 'Perfect', deep: false, sourceItems: 24, destinationItems: 24 });
    expect(header.differences).toEqual([]);
    expect(await verify(alice, true)).toMatchObject({ grade: 'Perfect', deep: true, differences: [] });
    expect(await Promise.all([source.readMailbox(ALICE), destination.readMailbox(ALICE)])).toEqual(before);
  });

  it('finds a message deleted on the destination and names it', async () => {
    const uid = await uidOf('INBOX.Work', 'message 1 of 24');
    await deleteMessage('INBOX.Work', uid);
    const v = await verify(alice);
    expect(v.grade).toBe('Investigate');
    expect(only(v.differences)).toMatchObject({
      kind: 'mail',
      type: 'missing',
      folder: 'Work',
      side: 'source',
      subject: 'message 1 of 24',
      messageId: expect.stringMatching(/@mailferry\.test>$/),
      date: '2021-01-02T09:30:00.000Z',
      size: Buffer.byteLength(seeded(1).raw),
    });
    await append('INBOX.Work', seeded(1));
    expect((await verify(alice)).grade).toBe('Perfect');
  });

  it('finds a message added on the destination', async () => {
    await append('INBOX', { raw: buildMessage({ subject: 'only here' }) });
    const v = await verify(alice);
    expect(only(v.differences)).toMatchObject({
      type: 'extra',
      folder: 'INBOX',
      side: 'destination',
      subject: 'only here',
    });
    await deleteMessage('INBOX', await uidOf('INBOX', 'only here'));
    expect((await verify(alice)).grade).toBe('Perfect');
  });

  it('finds changed flags', async () => {
    const uid = await uidOf('INBOX.Sent', 'message 3 of 24');
    const lock = await dst.getMailboxLock('INBOX.Sent');
    try {
      await dst.messageFlagsAdd(String(uid), ['\\Flagged'], { uid: true });
    } finally {
      lock.release();
    }
    const v = await verify(alice);
    expect(only(v.differences)).toMatchObject({
      type: 'flags',
      folder: 'Sent',
      side: 'destination',
      subject: 'message 3 of 24',
      detail: 'source \\Seen, destination \\Flagged \\Seen',
    });
    const again = await dst.getMailboxLock('INBOX.Sent');
    try {
      await dst.messageFlagsRemove(String(uid), ['\\Flagged'], { uid: true });
    } finally {
      again.release();
    }
    expect((await verify(alice)).grade).toBe('Perfect');
  });

  it('finds an altered body only when deep, and names the message', async () => {
    const original = seeded(4);
    const altered = Buffer.from(original.raw.toString().replace('This is', 'This IS'));
    expect(altered.length).toBe(Buffer.byteLength(original.raw));
    await deleteMessage('INBOX', await uidOf('INBOX', 'message 4 of 24'));
    await append('INBOX', { ...original, raw: altered });
    expect((await verify(alice)).grade).toBe('Perfect');
    const v = await verify(alice, true);
    expect(only(v.differences)).toMatchObject({
      type: 'content',
      folder: 'INBOX',
      side: 'destination',
      subject: 'message 4 of 24',
    });
    expect(v.grade).toBe('Investigate');
    await deleteMessage('INBOX', await uidOf('INBOX', 'message 4 of 24'));
    await append('INBOX', original);
    expect((await verify(alice, true)).grade).toBe('Perfect');
  });

  it('finds a changed INTERNALDATE (the same message appended again with another date)', async () => {
    const original = seeded(6);
    await deleteMessage('INBOX.Work.Projects', await uidOf('INBOX.Work.Projects', 'message 6 of 24'));
    await append('INBOX.Work.Projects', { ...original, internalDate: new Date('2022-06-01T12:00:00Z') });
    const v = await verify(alice);
    expect(only(v.differences)).toMatchObject({
      type: 'internalDate',
      folder: 'Work/Projects',
      side: 'destination',
      subject: 'message 6 of 24',
      date: '2022-06-01T12:00:00.000Z',
      detail: 'source 2021-01-07T09:30:00.000Z, destination 2022-06-01T12:00:00.000Z',
    });
    await deleteMessage('INBOX.Work.Projects', await uidOf('INBOX.Work.Projects', 'message 6 of 24'));
    await append('INBOX.Work.Projects', original);
    expect((await verify(alice)).grade).toBe('Perfect');
  });

  it('matches a message without Message-ID by its header hash', async () => {
    const uid = await uidOf('INBOX.Work', 'message 5 of 24');
    await deleteMessage('INBOX.Work', uid);
    const v = await verify(alice);
    expect(only(v.differences)).toMatchObject({
      type: 'missing',
      folder: 'Work',
      messageId: null,
      subject: 'message 5 of 24',
    });
    await append('INBOX.Work', seeded(5));
    expect((await verify(alice)).grade).toBe('Perfect');
  });

  it('finds a folder removed on the destination, with its messages counted', async () => {
    await dst.mailboxDelete('INBOX.Work.Projects');
    const v = await verify(alice);
    expect(only(v.differences)).toMatchObject({
      type: 'missingFolder',
      folder: 'Work/Projects',
      side: 'source',
      count: 6,
      detail: 'no destination folder "INBOX.Work.Projects"',
    });
    // 6 of 24 messages: over the threshold.
    expect(v.grade).toBe('Poor');
  });

  it('grades Good when the only differences are the large items the batch skipped, and lists them', async () => {
    const v = await verify(bob);
    expect(v).toMatchObject({ grade: 'Good', sourceItems: 5, destinationItems: 4 });
    expect(only(v.differences)).toMatchObject({
      type: 'skipped',
      folder: 'INBOX',
      side: 'source',
      subject: 'too large',
      detail: expect.stringMatching(/^large item: /),
    });
  });
});
