import { createVerifyMailboxActivities, type VerifyMailboxResult } from '../../activities/verify-mailbox';
import { selectVerifications } from '../../db/verifications';
import type { ConsistencyDifference } from '../../domain/consistency';
import { silentLogger } from '../../observability/logger';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { activityEnvironment, insertBatch, insertEndpoint, insertMailbox, runSync, secretBox } from '../imap/helpers';
import { allDay, contact, seedMailbox, task, withAttachment } from './corpus';

/**
 * The verification of calendars and contacts, through the real `verifyMailbox` activity, between two Radicale
 * servers (beside two Dovecots for the mail): a clean sync grades Perfect; each kind of damage the test does to the
 * destination is found and named exactly, then undone; an object the destination refused grades Good; what the
 * batch skips is not verified; neither server changes.
 */
describe('verifyMailbox with calendars and contacts between two Radicales', () => {
  let db: TestDatabase;
  let imapSource: DovecotServer;
  let imapDestination: DovecotServer;
  let source: RadicaleServer;
  let destination: RadicaleServer;
  let sourceEndpoint: string;
  let destinationEndpoint: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [imapSource, imapDestination, source, destination] = await Promise.all([
      startDovecot(),
      startDovecot(),
      startRadicale(),
      startRadicale({ maxContentLength: 20_000 }),
    ]);
    sourceEndpoint = await insertEndpoint(db.pool, imapSource);
    destinationEndpoint = await insertEndpoint(db.pool, imapDestination);
    for (const [id, server] of [
      [sourceEndpoint, source],
      [destinationEndpoint, destination],
    ] as const) {
      await db.pool.query('update endpoints set caldav_url = $2, carddav_url = $2 where id = $1', [id, server.url]);
    }
  });
  afterAll(async () => {
    await Promise.all([imapSource?.close(), imapDestination?.close(), source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** A user with two messages, calendars (Work: 8 events, Tasks: 2) and contacts (3), synced once. */
  async function synced(user: string, settings: { skipTasks?: boolean; seed?: () => Promise<void> } = {}) {
    const email = `${user}@example.com`;
    await Promise.all([imapSource.addUser(email, 'src-pw'), imapDestination.addUser(email, 'dst-pw')]);
    await Promise.all([source.addUser(email, 'src-pw'), destination.addUser(email, 'dst-pw')]);
    await imapSource.seed(
      email,
      [0, 1].map((i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `m${i}` }) })),
    );
    await seedMailbox(source, email);
    await settings.seed?.();
    const batchId = await insertBatch(db.pool, sourceEndpoint, destinationEndpoint);
    if (settings.skipTasks) await db.pool.query('update batches set skip_tasks = true where id = $1', [batchId]);
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    expect(await runSync(db, { batchId, mailboxId, pass: 'initial' })).toMatchObject({ status: 'Synced' });
    const verify = async (deep = false) => {
      const { verifyMailbox } = createVerifyMailboxActivities({ ...db, secretBox, logger: silentLogger });
      const result: VerifyMailboxResult = await activityEnvironment().run(verifyMailbox, { batchId, mailboxId, deep });
      expect(result.errorCode).toBeUndefined();
      const stored = (await selectVerifications(db.pool, [mailboxId])).get(mailboxId)!;
      expect(stored.grade).toBe(result.grade);
      return stored;
    };
    return { email, batchId, mailboxId, verify };
  }

  const only = (differences: ConsistencyDifference[]) => {
    expect(differences).toHaveLength(1);
    return differences[0]!;
  };

  /** Every collection of a user on a server with every object as served: what a read-only verification keeps. */
  async function snapshot(server: RadicaleServer, email: string) {
    const out: Record<string, Record<string, string>> = {};
    for (const c of await server.collections(email)) {
      out[c] = {
        ...Object.fromEntries(await server.objects(email, c)),
        props: JSON.stringify(await server.properties(email, c)),
      };
    }
    return out;
  }

  /** Puts the source's version of an object back on the destination (the damage undone). */
  async function restore(email: string, collection: string, name: string) {
    const body = (await source.objects(email, collection)).get(name)!;
    await destination.put(email, collection, name, body);
  }

  it('grades a clean sync Perfect, header data and deep alike, and changes neither server', async () => {
    const { email, verify } = await synced('alice');
    const before = await Promise.all([snapshot(source, email), snapshot(destination, email)]);
    const header = await verify();
    expect(header).toMatchObject({ grade: 'Perfect', deep: false, sourceItems: 15, destinationItems: 15 });
    expect(header.differences).toEqual([]);
    expect(await verify(true)).toMatchObject({ grade: 'Perfect', deep: true, differences: [] });
    expect(await Promise.all([snapshot(source, email), snapshot(destination, email)])).toEqual(before);
  });

  it('finds an event deleted on the destination and names it by UID and summary', async () => {
    const { email, verify } = await synced('bob');
    await destination.remove(email, 'work', 'e1.ics');
    const v = await verify();
    expect(v.grade).toBe('Investigate');
    expect(only(v.differences)).toEqual({
      kind: 'calendar',
      type: 'missing',
      folder: 'Work',
      side: 'source',
      messageId: 'day-1@example.com',
      subject: 'Day 1',
      date: null,
      size: Buffer.byteLength((await source.objects(email, 'work')).get('e1.ics')!),
      detail: null,
      count: 1,
    });
    await restore(email, 'work', 'e1.ics');
    expect((await verify()).grade).toBe('Perfect');
  });

  it('finds a contact added on the destination', async () => {
    const { email, verify } = await synced('carol');
    await destination.put(email, 'contacts', 'zed.vcf', contact('zed-uid', 'Zed Extra'));
    const v = await verify();
    expect(v.grade).toBe('Investigate');
    expect(only(v.differences)).toMatchObject({
      kind: 'contact',
      type: 'extra',
      folder: 'Contacts',
      side: 'destination',
      messageId: 'zed-uid',
      subject: 'Zed Extra',
    });
    await destination.remove(email, 'contacts', 'zed.vcf');
    expect((await verify()).grade).toBe('Perfect');
  });

  it('finds an event changed on the destination, and one changed on the source since the sync', async () => {
    const { email, batchId, mailboxId, verify } = await synced('dave');
    await destination.put(email, 'work', 'holiday.ics', allDay('holiday-1@example.com', 'Holiday (edited there)'));
    expect(only((await verify()).differences)).toMatchObject({
      kind: 'calendar',
      type: 'content',
      folder: 'Work',
      side: 'destination',
      messageId: 'holiday-1@example.com',
      subject: 'Holiday (edited there)',
      detail: 'changed on the destination since the sync wrote it',
    });
    await restore(email, 'work', 'holiday.ics');
    expect((await verify()).grade).toBe('Perfect');

    await source.put(email, 'tasks', 'call.ics', task('task-2@example.com', 'Call the bank (moved)'));
    expect(only((await verify()).differences)).toMatchObject({
      kind: 'calendar',
      type: 'content',
      folder: 'Tasks',
      side: 'source',
      messageId: 'task-2@example.com',
      subject: 'Call the bank (moved)',
      detail: 'changed on the source since the last sync',
    });
    expect(await runSync(db, { batchId, mailboxId, pass: 'incremental' })).toMatchObject({ status: 'Synced' });
    expect((await verify()).grade).toBe('Perfect');
  });

  it('compares bodies when deep, where the ETags agree with what the sync recorded', async () => {
    const { email, mailboxId, verify } = await synced('erin');
    // As if the sync had written this version: the header data cannot tell, the bodies can.
    const etag = await destination.put(email, 'work', 'e2.ics', allDay('day-2@example.com', 'Day 2 (tampered)'));
    await db.pool.query(
      `update dav_objects set destination_etag = $2 where mailbox_id = $1 and destination_href like '%/work/e2.ics'`,
      [mailboxId, etag],
    );
    expect(await verify()).toMatchObject({ grade: 'Perfect', differences: [] });
    expect(only((await verify(true)).differences)).toMatchObject({
      kind: 'calendar',
      type: 'content',
      folder: 'Work',
      side: 'destination',
      messageId: 'day-2@example.com',
      subject: 'Day 2 (tampered)',
      detail: 'the content differs (SHA-256)',
    });
  });

  it('finds a calendar removed on the destination, standing for its objects', async () => {
    const { email, verify } = await synced('frank');
    await destination.removeCollection(email, 'tasks');
    const v = await verify();
    expect(v).toMatchObject({ grade: 'Investigate', sourceItems: 15, destinationItems: 13 });
    expect(only(v.differences)).toEqual({
      kind: 'calendar',
      type: 'missingFolder',
      folder: 'Tasks',
      side: 'source',
      messageId: null,
      subject: null,
      date: null,
      size: null,
      detail: `no destination calendar "/${email}/tasks/"`,
      count: 2,
    });
  });

  it('grades Good when the only difference is an object the destination refused', async () => {
    const email = 'grace@example.com';
    const { verify } = await synced('grace', {
      seed: async () => {
        await source.put(email, 'work', 'huge.ics', withAttachment('huge-1@example.com', 40_000));
      },
    });
    const v = await verify();
    expect(v).toMatchObject({ grade: 'Good', sourceItems: 16, destinationItems: 15 });
    expect(only(v.differences)).toMatchObject({
      kind: 'calendar',
      type: 'skipped',
      folder: 'Work',
      side: 'source',
      messageId: 'huge-1@example.com',
      subject: 'Review with slides',
      detail: 'bad item: the destination refused it',
    });
  });

  it('is retried, saying so, when a DAV service does not answer', async () => {
    const { batchId, verify } = await synced('ivan');
    const endpoint = await insertEndpoint(db.pool, imapDestination, { name: 'dav-gone' });
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await db.pool.query('update endpoints set caldav_url = $2, carddav_url = $2 where id = $1', [endpoint, nowhere]);
    await db.pool.query('update batches set destination_endpoint_id = $2 where id = $1', [batchId, endpoint]);
    await expect(verify()).rejects.toMatchObject({
      type: 'DAV_UNREACHABLE',
      message: expect.stringMatching(/destination DAV service unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/),
    });
  });

  it('does not verify what the batch skips', async () => {
    const { email, verify } = await synced('heidi', { skipTasks: true });
    expect(await destination.collections(email)).toEqual(['contacts', 'work']);
    expect(await verify()).toMatchObject({ grade: 'Perfect', sourceItems: 13, differences: [] });
  });
});
