import { createSyncMailboxActivities } from '../../activities/sync-mailbox';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { insertBatch, insertEndpoint, insertMailbox, mailboxRow, runSync, secretBox } from './helpers';

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

  const run = (pass: 'initial' | 'incremental' | 'final') => runSync(db.pool, { batchId, mailboxId, pass });

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

  it("testEndpointConnection checks an endpoint, and one mailbox's credentials on either side", async () => {
    const { testEndpointConnection } = createSyncMailboxActivities({ pool: db.pool, secretBox });
    const { rows } = await db.pool.query<{ source_endpoint_id: string; destination_endpoint_id: string }>(
      'select source_endpoint_id, destination_endpoint_id from batches where id = $1',
      [batchId],
    );
    const { source_endpoint_id: src, destination_endpoint_id: dst } = rows[0]!;
    expect(await testEndpointConnection({ endpointId: src })).toMatchObject({ ok: true, code: 'OK' });
    expect(await testEndpointConnection({ endpointId: src, mailboxId, side: 'source' })).toMatchObject({
      ok: true,
      code: 'OK',
    });
    expect(await testEndpointConnection({ endpointId: dst, mailboxId, side: 'destination' })).toMatchObject({
      ok: true,
      code: 'OK',
    });
    // The source password does not open the destination.
    expect(await testEndpointConnection({ endpointId: dst, mailboxId, side: 'source' })).toMatchObject({
      ok: false,
      code: 'AUTH_FAILED',
    });
  });
});
