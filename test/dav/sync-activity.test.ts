import { Registry } from 'prom-client';
import { createSyncMetrics } from '../../observability/metrics';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { insertBatch, insertEndpoint, insertMailbox, mailboxRow, runSync } from '../imap/helpers';
import { seedMailbox } from './corpus';

/** The syncMailbox activity with calendars and contacts: after the mail, with per-kind counts and clear failures. */
describe('syncMailbox activity with CalDAV and CardDAV', () => {
  let db: TestDatabase;
  let imapSource: DovecotServer;
  let imapDestination: DovecotServer;
  let davSource: RadicaleServer;
  let davDestination: RadicaleServer;
  let sourceEndpoint: string;
  let destinationEndpoint: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [imapSource, imapDestination, davSource, davDestination] = await Promise.all([
      startDovecot(),
      startDovecot(),
      startRadicale(),
      startRadicale(),
    ]);
    sourceEndpoint = await insertEndpoint(db.pool, imapSource);
    destinationEndpoint = await insertEndpoint(db.pool, imapDestination);
    await setDav(sourceEndpoint, davSource.url);
    await setDav(destinationEndpoint, davDestination.url);
  });
  afterAll(async () => {
    await Promise.all([imapSource?.close(), imapDestination?.close(), davSource?.close(), davDestination?.close()]);
    await db?.drop();
  });

  const setDav = (id: string, url: string | null) =>
    db.pool.query('update endpoints set caldav_url = $2, carddav_url = $2 where id = $1', [id, url]);

  /** A user with three messages, calendars and contacts on the sources, in a batch of its own. */
  async function mailbox(user: string, settings: { skipCalendar?: boolean; davPassword?: string } = {}) {
    const email = `${user}@example.com`;
    await Promise.all([imapSource.addUser(email, 'src-pw'), imapDestination.addUser(email, 'dst-pw')]);
    await davSource.addUser(email, 'src-pw');
    await davDestination.addUser(email, settings.davPassword ?? 'dst-pw');
    await imapSource.seed(
      email,
      [0, 1, 2].map((i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `m${i}` }) })),
    );
    await seedMailbox(davSource, email);
    const batchId = await insertBatch(db.pool, sourceEndpoint, destinationEndpoint);
    if (settings.skipCalendar) await db.pool.query('update batches set skip_calendar = true where id = $1', [batchId]);
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    return { email, batchId, mailboxId };
  }

  it('syncs mail, then calendars and contacts, and counts each kind (in the read model and the metrics)', async () => {
    const { email, batchId, mailboxId } = await mailbox('alice');
    const metrics = createSyncMetrics(new Registry());
    expect(await runSync(db, { batchId, mailboxId, pass: 'initial' }, { metrics })).toMatchObject({
      status: 'Synced',
    });
    const copied = (await metrics.davItemsCopied.get()).values.map((v) => [v.labels.kind, v.value]);
    expect(Object.fromEntries(copied)).toEqual({ calendar: 10, contact: 3 });
    expect((await metrics.davItemsSkipped.get()).values[0]?.value ?? 0).toBe(0);
    expect((await metrics.messagesCopied.get()).values[0]?.value).toBe(3);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({
      status: 'Synced',
      items_synced: '16',
      calendar_items_synced: '10',
      contacts_synced: '3',
      items_skipped: '0',
    });
    expect(await davDestination.collections(email)).toEqual(['contacts', 'tasks', 'work']);
    expect(await davDestination.objects(email, 'work')).toEqual(await davSource.objects(email, 'work'));
  });

  it('leaves the calendars out with skipCalendar, and the tasks in', async () => {
    const { email, batchId, mailboxId } = await mailbox('bob', { skipCalendar: true });
    expect(await runSync(db, { batchId, mailboxId, pass: 'initial' })).toMatchObject({ status: 'Synced' });
    expect(await davDestination.collections(email)).toEqual(['contacts', 'tasks']);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({
      items_synced: '8',
      calendar_items_synced: '2',
      contacts_synced: '3',
    });
  });

  it('fails the mailbox with DAV_AUTH_FAILED when the DAV server refuses its password, the mail copied', async () => {
    const { email, batchId, mailboxId } = await mailbox('carol', { davPassword: 'another' });
    const result = await runSync(db, { batchId, mailboxId, pass: 'initial' });
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'DAV_AUTH_FAILED' });
    expect(result.error).toMatch(/destination DAV server refused the login \(401\)/);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({
      status: 'Failed',
      last_error_code: 'DAV_AUTH_FAILED',
    });
    expect(await imapDestination.readMailbox(email)).toHaveLength(3);
  });

  it('retries, saying so, when a DAV service is unreachable while IMAP works', async () => {
    const { batchId, mailboxId } = await mailbox('dave');
    const endpoint = await insertEndpoint(db.pool, imapDestination, { name: 'no-dav-here' });
    await setDav(endpoint, `http://127.0.0.1:${await freePort()}`);
    await db.pool.query('update batches set destination_endpoint_id = $2 where id = $1', [batchId, endpoint]);
    await expect(runSync(db, { batchId, mailboxId, pass: 'initial' })).rejects.toMatchObject({
      type: 'DAV_UNREACHABLE',
      message: expect.stringMatching(/destination DAV service unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/),
    });
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({ last_error_code: 'DAV_UNREACHABLE' });
  });
});
