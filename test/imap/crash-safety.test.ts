import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import {
  buildMessage,
  comparableMessages,
  startDovecot,
  type DovecotServer,
  type SeedMessage,
} from '../fixtures/dovecot';
import { syncMailboxOverImap, type SyncSide } from '../../imap/mailbox-sync';
import { engineDatabase, ENGINE_DEFAULTS, imapEndpointOf, insertBatch, insertEndpoint, insertMailbox } from './helpers';

const USER = 'carol@example.com';
const CHILD = path.join(__dirname, 'crash-child.ts');

describe('crash safety: a worker killed with SIGKILL at any point of a sync', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let mailboxId: string;
  let sides: { source: SyncSide; destination: SyncSide };

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startDovecot(), startDovecot({ separator: '.', prefix: 'INBOX.' })]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source),
      await insertEndpoint(db.pool, destination),
    );
    mailboxId = await insertMailbox(db.pool, batchId, {
      email: USER,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    sides = {
      source: { endpoint: imapEndpointOf(source), credentials: { user: USER, secret: 'src-pw' } },
      destination: { endpoint: imapEndpointOf(destination), credentials: { user: USER, secret: 'dst-pw' } },
    };
    const seed: SeedMessage[] = [];
    for (const folder of ['INBOX', 'Lists/Dev', 'Archive']) {
      for (let i = 0; i < 120; i++) {
        // Every tenth message has a byte-identical twin, and some have no Message-ID: matching by content must
        // still give each source message exactly one copy.
        const subject = `${folder} ${i - (i % 10 === 1 ? 1 : 0)}`;
        seed.push({
          folder,
          raw: buildMessage({ subject, messageId: i % 7 === 0 ? null : undefined }),
          flags: i % 2 ? ['\\Seen'] : [],
        });
      }
    }
    await source.seed(USER, seed);
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** Runs the sync in a child process and kills it with SIGKILL when `hold` (step:n) is reached. */
  function runAndKill(
    hold: string,
    opts: { mailboxId?: string; sides?: typeof sides; afterSteps?: number } = {},
  ): Promise<{ killed: boolean; output: string }> {
    return new Promise((resolve, reject) => {
      // One process (node with the tsx loader), so SIGKILL hits the process that does the work.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        cwd: path.join(__dirname, '..', '..'),
        env: {
          ...process.env,
          MAILFERRY_CRASH_CONFIG: JSON.stringify({
            databaseUrl: db.url,
            mailboxId: opts.mailboxId ?? mailboxId,
            ...(opts.sides ?? sides),
            chunkMessages: 25,
          }),
          MAILFERRY_CRASH_HOLD: hold,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let killed = false;
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const steps = output.split('\n').filter((l) => l.startsWith('step ')).length;
        if (!killed && (output.includes('holding') || (opts.afterSteps !== undefined && steps >= opts.afterSteps))) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.on('error', reject);
      child.on('exit', () => resolve({ killed, output }));
    });
  }

  it('finishes after restarts with every message exactly once', async () => {
    // Killed: before an append is sent, after the server stored it but before PostgreSQL knew, after recording.
    const first = await runAndKill('append-done:2');
    expect(first.killed).toBe(true);
    const pending = await db.pool.query(
      'select source_folder, cardinality(source_uids) as n from append_intents where mailbox_id = $1',
      [mailboxId],
    );
    expect(pending.rows.length).toBeGreaterThanOrEqual(1); // the append reached the destination, the record did not

    expect((await runAndKill('append-start:2')).killed).toBe(true);
    expect((await runAndKill('recorded:2')).killed).toBe(true);
    expect((await runAndKill('append-done:1')).killed).toBe(true);

    const engineDb = engineDatabase(db, mailboxId);
    await syncMailboxOverImap(engineDb, mailboxId, sides.source, sides.destination, ENGINE_DEFAULTS);
    const [s, d] = await Promise.all([source.readMailbox(USER), destination.readMailbox(USER)]);
    expect(comparableMessages(d, destination)).toEqual(comparableMessages(s, source));
    expect(d).toHaveLength(360);
    const left = await db.pool.query('select 1 from append_intents where mailbox_id = $1', [mailboxId]);
    expect(left.rows).toHaveLength(0);
  });

  it('finishes exactly once after kills that land wherever the worker happens to be (mid-append included)', async () => {
    const user = 'dave@example.com';
    await source.addUser(user, 'src-pw');
    await destination.addUser(user, 'dst-pw');
    const seed: SeedMessage[] = [];
    for (const folder of ['INBOX', 'Big']) {
      for (let i = 0; i < 150; i++)
        seed.push({ folder, raw: buildMessage({ subject: `${folder} ${i}`, size: 30_000 + ((i * 7919) % 60_000) }) });
    }
    await source.seed(user, seed);
    const { rows } = await db.pool.query<{ batch_id: string }>('select batch_id from mailboxes where id = $1', [
      mailboxId,
    ]);
    const other = await insertMailbox(db.pool, rows[0]!.batch_id, {
      email: user,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    const otherSides = {
      source: { ...sides.source, credentials: { user, secret: 'src-pw' } },
      destination: { ...sides.destination, credentials: { user, secret: 'dst-pw' } },
    };
    // No freeze: the kill arrives while the worker goes on, so where it lands varies from run to run.
    for (const afterSteps of [2, 5, 3, 7, 4]) {
      expect((await runAndKill('', { mailboxId: other, sides: otherSides, afterSteps })).killed).toBe(true);
    }
    const engineDb = engineDatabase(db, other);
    await syncMailboxOverImap(engineDb, other, otherSides.source, otherSides.destination, ENGINE_DEFAULTS);
    const [s, d] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
    expect(comparableMessages(d, destination)).toEqual(comparableMessages(s, source));
    expect(d).toHaveLength(300);
  });
});
