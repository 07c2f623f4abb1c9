import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { SyncMailboxResult } from '../../activities/sync-mailbox';
import { testImapConnection } from '../../imap/connection-test';
import { syncMailboxOverImap } from '../../imap/mailbox-sync';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import {
  activityEnvironment,
  engineDatabase,
  imapEndpointOf,
  insertBatch,
  insertEndpoint,
  insertMailbox,
  mailboxRow,
  runSync,
  type BatchSettings,
} from './helpers';

const QUOTA = `
mail_plugins = $mail_plugins quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1G
  quota_max_mail_size = 100k
}
`;

describe('errors: credentials, limits, servers going away', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let sourceEndpoint: string;
  let destinationEndpoint: string;
  let masterEndpoint: string;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot({ masterUser: { user: 'migrator', password: 'master-secret' } }),
      startDovecot({ separator: '.', prefix: 'INBOX.', extraConfig: QUOTA }),
    ]);
    sourceEndpoint = await insertEndpoint(db.pool, source);
    masterEndpoint = await insertEndpoint(db.pool, source, { admin: { user: 'migrator', password: 'master-secret' } });
    destinationEndpoint = await insertEndpoint(db.pool, destination);
  });
  afterAll(async () => {
    if (process.env.DEBUG_DOVECOT) console.log(await source.log(), await destination.log());
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** A fresh user on both servers with `messages` on the source, and its batch and mailbox rows. */
  async function mailbox(
    messages: SeedMessage[],
    settings: BatchSettings = {},
    opts: { sourcePassword?: string | null; viaMaster?: boolean } = {},
  ) {
    const email = `user${++n}@example.com`;
    await source.addUser(email, 'right-password');
    await destination.addUser(email, 'dst-password');
    await source.seed(email, messages);
    const batchId = await insertBatch(
      db.pool,
      opts.viaMaster ? masterEndpoint : sourceEndpoint,
      destinationEndpoint,
      settings,
    );
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email,
      sourcePassword: opts.sourcePassword === undefined ? 'right-password' : opts.sourcePassword,
      destinationPassword: 'dst-password',
    });
    const env = activityEnvironment();
    const run = (): Promise<SyncMailboxResult> =>
      runSync(db, { batchId, mailboxId, pass: 'initial' }, { progressIntervalMs: 0, env });
    const same = async () => {
      const [s, d] = await Promise.all([source.readMailbox(email), destination.readMailbox(email)]);
      return { src: comparableMessages(s, source), dst: comparableMessages(d, destination) };
    };
    return { email, batchId, mailboxId, env, run, same };
  }
  const some = (count: number, folder = 'INBOX', size?: number): SeedMessage[] =>
    Array.from({ length: count }, (_, i) => ({
      folder,
      raw: buildMessage({ subject: `${folder} ${i} ${size ?? ''}`, size }),
      flags: i % 2 ? ['\\Seen'] : [],
    }));

  it('a wrong password fails the mailbox at once with AUTH_FAILED (returned, not retried) and no secret in the error', async () => {
    const m = await mailbox(some(2), {}, { sourcePassword: 'wrong-password' });
    const result = await m.run();
    expect(result).toMatchObject({ mailboxId: m.mailboxId, status: 'Failed', errorCode: 'AUTH_FAILED' });
    expect(result.error).not.toContain('wrong-password');
    const row = await mailboxRow(db.pool, m.mailboxId);
    expect(row).toMatchObject({ status: 'Failed', last_error_code: 'AUTH_FAILED' });
    expect(String(row.last_error)).not.toContain('wrong-password');
  });

  it('an admin (master user) logs in on behalf of a mailbox that has no password of its own', async () => {
    const m = await mailbox(some(3), {}, { sourcePassword: null, viaMaster: true });
    expect(await m.run()).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
    const { src, dst } = await m.same();
    expect(dst).toEqual(src);
  });

  it('messages over the size limit are skipped and reported; more of them than LargeItemLimit fail the mailbox', async () => {
    const m = await mailbox([...some(3), ...some(1, 'Big', 80_000)], { largeItemMaxBytes: 50_000, largeItemLimit: 1 });
    expect(await m.run()).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
    const { rows } = await db.pool.query(
      'select folder, subject, size_bytes, reason, kind, internal_date from skipped_items where mailbox_id = $1',
      [m.mailboxId],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        folder: 'Big',
        subject: 'Big 0 80000',
        kind: 'large',
        reason: expect.stringContaining('larger than'),
      }),
    ]);
    expect(Number(rows[0].size_bytes)).toBeGreaterThan(50_000);
    expect(rows[0].internal_date).not.toBeNull();
    expect(await mailboxRow(db.pool, m.mailboxId)).toMatchObject({ items_skipped: '1', items_synced: '3' });

    const over = await mailbox([...some(2), ...some(2, 'Big', 80_000)], {
      largeItemMaxBytes: 50_000,
      largeItemLimit: 1,
    });
    expect(await over.run()).toMatchObject({ status: 'Failed', errorCode: 'LARGE_ITEM_LIMIT_EXCEEDED' });
  });

  it('messages the destination refuses are isolated from their MULTIAPPEND, skipped and reported; over BadItemLimit fails', async () => {
    const refused = some(1, 'INBOX', 150_000);
    const mixed = [...some(5), ...refused, ...some(5, 'Other')];
    const m = await mailbox(mixed, { badItemLimit: 1 });
    expect(await m.run()).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
    const { src, dst } = await m.same();
    // Everything but the refused message, each exactly once.
    const refusedHash = createHash('sha256').update(refused[0]!.raw).digest('hex');
    expect(src.filter((x) => x.sha256 === refusedHash)).toHaveLength(1);
    expect(dst).toEqual(src.filter((x) => x.sha256 !== refusedHash));
    expect(dst).toHaveLength(10);
    const { rows } = await db.pool.query('select kind, reason, subject from skipped_items where mailbox_id = $1', [
      m.mailboxId,
    ]);
    expect(rows).toEqual([
      expect.objectContaining({ kind: 'bad', reason: expect.stringContaining('refused by the destination') }),
    ]);

    const over = await mailbox([...some(2), ...some(2, 'INBOX', 150_000)], { badItemLimit: 1 });
    expect(await over.run()).toMatchObject({ status: 'Failed', errorCode: 'BAD_ITEM_LIMIT_EXCEEDED' });
  });

  it('a source that goes down mid-sync throws a retryable failure; once it is back the sync finishes, every message exactly once', async () => {
    const m = await mailbox([...some(400, 'INBOX'), ...some(300, 'Archive')]);
    let stopped: Promise<void> | null = null;
    m.env.on('heartbeat', (details: { itemsCopied?: number }) => {
      if (!stopped && (details?.itemsCopied ?? 0) > 0) stopped = source.crash();
    });
    const failure = await m.run().then(
      () => null,
      (err: unknown) => err,
    );
    await stopped;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect(['CONNECTION_LOST', 'CONNECTION_FAILED']).toContain((failure as ApplicationFailure).type);
    const during = await mailboxRow(db.pool, m.mailboxId);
    expect(during).toMatchObject({ status: 'Syncing', last_error_code: (failure as ApplicationFailure).type });
    // Progress reached the read model while the sync ran.
    expect(Number(during.items_synced)).toBeGreaterThan(0);
    expect(Number(during.folders_total)).toBeGreaterThan(0);

    await source.start();
    expect(await m.run()).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
    const { src, dst } = await m.same();
    if (process.env.DEBUG_DOVECOT) {
      console.log(
        JSON.stringify(
          (await db.pool.query('select * from folder_checkpoints where mailbox_id = $1', [m.mailboxId])).rows,
        ),
      );
      console.log(
        JSON.stringify(
          (
            await db.pool.query(
              'select source_folder, state, count(*) from message_map where mailbox_id = $1 group by 1,2',
              [m.mailboxId],
            )
          ).rows,
        ),
      );
      console.log(src.length, dst.length, JSON.stringify(dst.slice(0, 3)));
    }
    expect(dst).toEqual(src);
    expect(dst).toHaveLength(700);
  });

  it('a cancelled sync stops with CancelledFailure, and the next run finishes exactly once', async () => {
    const m = await mailbox([...some(300, 'INBOX'), ...some(200, 'Lists')]);
    m.env.on('heartbeat', (details: { itemsCopied?: number }) => {
      if ((details?.itemsCopied ?? 0) > 0) m.env.cancel();
    });
    const err = await m.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    const partial = (await destination.readMailbox(m.email)).length;
    expect(partial).toBeLessThan(500);
    const again = await runSync(db, { batchId: m.batchId, mailboxId: m.mailboxId, pass: 'initial' });
    expect(again).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
    const { src, dst } = await m.same();
    expect(dst).toEqual(src);
  });

  it('a second sync of a mailbox that is still being synced waits, then fails with MAILBOX_BUSY instead of copying twice', async () => {
    const m = await mailbox(some(3));
    const key = ((0x6d66n << 48n) | BigInt(m.mailboxId)).toString();
    const holder = await db.pool.connect();
    try {
      await holder.query('select pg_advisory_lock($1::bigint)', [key]);
      const err = await syncMailboxOverImap(
        engineDatabase(db, m.mailboxId),
        m.mailboxId,
        { endpoint: imapEndpointOf(source), credentials: { user: m.email, secret: 'right-password' } },
        { endpoint: imapEndpointOf(destination), credentials: { user: m.email, secret: 'dst-password' } },
        {
          folderInclude: [],
          folderExclude: [],
          deleteOnDestination: false,
          badItemLimit: 0,
          largeItemLimit: 0,
          largeItemMaxBytes: 1e9,
          busyWaitMs: 600,
        },
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MAILBOX_BUSY', retryClass: 'transient' });
    } finally {
      await holder.query('select pg_advisory_unlock($1::bigint)', [key]);
      holder.release();
    }
    expect(await m.run()).toEqual({ mailboxId: m.mailboxId, status: 'Synced' });
  });

  it('an unreachable destination throws a retryable CONNECTION_FAILED', async () => {
    const port = await freePort();
    const { rows } = await db.pool.query<{ id: string }>(
      `insert into endpoints (name, provider, host, port, security) values ('nowhere', 'dovecot', '127.0.0.1', $1, 'none') returning id`,
      [port],
    );
    const email = `user${++n}@example.com`;
    await source.addUser(email, 'right-password');
    const batchId = await insertBatch(db.pool, sourceEndpoint, rows[0]!.id);
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email,
      sourcePassword: 'right-password',
      destinationPassword: 'x',
    });
    const err = await runSync(db, { batchId, mailboxId, pass: 'initial' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('CONNECTION_FAILED');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('the connection test reports OK with capabilities, a wrong password, and an unreachable server', async () => {
    await source.addUser('probe@example.com', 'probe-pw');
    const endpoint = imapEndpointOf(source);
    const ok = await testImapConnection(endpoint, { user: 'probe@example.com', secret: 'probe-pw' });
    expect(ok).toMatchObject({ ok: true, code: 'OK' });
    expect(ok.capabilities).toEqual(expect.arrayContaining(['IMAP4rev1']));
    expect(await testImapConnection(endpoint)).toMatchObject({ ok: true, code: 'OK' });
    const master = await testImapConnection(endpoint, {
      user: 'probe@example.com',
      admin: { user: 'migrator', secret: 'master-secret' },
    });
    expect(master).toMatchObject({ ok: true, code: 'OK' });
    const bad = await testImapConnection(endpoint, { user: 'probe@example.com', secret: 'nope-pw' });
    expect(bad).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    expect(bad.message).not.toContain('nope-pw');
    const down = await testImapConnection({ ...endpoint, port: await freePort() }, { user: 'x', secret: 'y' });
    expect(down).toMatchObject({ ok: false, code: 'CONNECTION_FAILED' });
  });
});
