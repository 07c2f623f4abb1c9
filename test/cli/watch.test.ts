import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { runCli } from '../../cli/run';
import { createEndpoint, createRealWorker, startApi, type ApiHarness } from '../api/harness';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { devServerEnvironment } from '../fixtures/temporal';

/**
 * `mailferry batches watch` against real batches: `temporal server start-dev`, the real workflow and activities,
 * PostgreSQL and two Dovecot servers. The watch must end with the batch (exit 0 at Synced, 1 when a mailbox
 * failed), print one line per poll when not on a terminal, and draw bars on one.
 */

// The worker's INFO lines would bury the test output; warnings and errors still print.
Runtime.install({ logger: new DefaultLogger('WARN') });

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let api: ApiHarness;
let source: DovecotServer;
let destination: DovecotServer;
let dir: string;

const MASTER_PASSWORD = 'Watch-Master-5a5a';
const PASSWORDS: Record<string, string> = {
  'alice@example.com': 'Alice-Watch-1111',
  'bob@example.com': 'Bob-Watch-2222',
  'carol@example.com': 'Carol-Watch-3333',
  'dave@example.com': 'Dave-Watch-4444',
};
const taskQueue = `cli-watch-${randomUUID()}`;
/** Messages per user: enough that a sync lasts a few polls. */
const MESSAGES = 300;

beforeAll(async () => {
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot(),
    startDovecot({ masterUser: { user: 'migrator', password: MASTER_PASSWORD } }),
  ]);
  for (const [user, password] of Object.entries(PASSWORDS)) {
    await source.addUser(user, password);
    await destination.addUser(user, `dest-${password}`);
    await source.seed(
      user,
      Array.from({ length: MESSAGES }, (_, i) => ({
        folder: i % 3 === 0 ? 'Work' : 'INBOX',
        raw: buildMessage({ subject: `message ${i} for ${user}`, size: 20_000 }),
      })),
    );
  }
  api = await startApi({ temporal: env.client, taskQueue, searchAttributes: true });
  worker = await createRealWorker(env, api, taskQueue);
  workerRun = worker.run();
  await createEndpoint(api, 'Source', { host: source.host, port: source.port, security: 'none', provider: 'dovecot' });
  await createEndpoint(api, 'Destination', {
    host: destination.host,
    port: destination.port,
    security: 'none',
    provider: 'dovecot',
    adminUser: 'migrator',
    adminPassword: MASTER_PASSWORD,
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-watch-'));
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun?.catch(() => undefined);
  await api?.close();
  await env?.teardown();
  await source?.close();
  await destination?.close();
});

/** A fake terminal for cli-progress: it needs isTTY, columns and write. */
function fakeTerminal() {
  let text = '';
  const stream = {
    isTTY: true,
    columns: 160,
    rows: 40,
    write(chunk: string | Buffer, cb?: () => void) {
      text += chunk.toString();
      if (typeof cb === 'function') cb();
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

async function cli(argv: string[], options: { isTTY?: boolean; stream?: NodeJS.WriteStream } = {}) {
  let stdout = '';
  let stderr = '';
  // Polls every 100 ms, and never longer than 90 s in all: a watch that does not end fails the test.
  const deadline = Date.now() + 90_000;
  const code = await runCli(argv, {
    env: { MAILFERRY_URL: api.url, MAILFERRY_TOKEN: api.adminToken, HOME: dir, MAILFERRY_DATA_DIR: dir },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    isTTY: options.isTTY,
    stdoutStream: options.stream,
    sleep: async (ms) => {
      if (Date.now() > deadline) throw new Error(`watch still polling after 90 s (interval ${ms} ms)`);
      await new Promise((r) => setTimeout(r, 100));
    },
  });
  return { code, stdout, stderr };
}

async function csvFile(name: string, rows: [email: string, password: string][]): Promise<string> {
  const file = path.join(dir, `${name}.csv`);
  await writeFile(file, ['EmailAddress,UserName,Password', ...rows.map(([e, p]) => `${e},${e},${p}`)].join('\n'));
  return file;
}

async function createBatch(name: string, rows: [string, string][]) {
  const created = await cli([
    'batches',
    'create',
    '--name',
    name,
    '--source',
    'Source',
    '--destination',
    'Destination',
    '--csv',
    await csvFile(name, rows),
  ]);
  expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining(`created batch "${name}"`) });
}

const row = (email: string): [string, string] => [email, PASSWORDS[email]!];

describe('mailferry batches watch', () => {
  it('follows a started batch to Synced, one line per poll, and exits 0', async () => {
    await createBatch('Watch wave', [row('alice@example.com'), row('bob@example.com')]);
    expect((await cli(['batches', 'start', 'Watch wave'])).code).toBe(0);
    const watched = await cli(['batches', 'watch', 'watch wave']);
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trimEnd().split('\n');
    const last = lines.pop()!;
    expect(last).toMatch(/^batch "Watch wave" is Synced: 2\/2 synced, 0 failed \(watched \S+\)$/);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(
        /^\d\d:\d\d:\d\d Watch wave \S+( with errors)?  synced \d\/2 \(\d+%\)  failed 0  running (0|[12]: \d+ items, \S+ \S+, \d+ items\/s)  ETA \S+/,
      );
    }
    expect(lines.at(-1)).toContain('Watch wave Synced  synced 2/2 (100%)');
    // While a mailbox synced, its line showed items of the total, bytes, rate and ETA.
    expect(watched.stdout).toMatch(/[a-z]+@example\.com \d+\/\d+ items \d+(\.\d)? (B|KB|MB) (\d+|-) items\/s ETA \S+/);
    const report = await cli(['batches', 'mailboxes', 'Watch wave', '--output', 'csv']);
    expect(report.stdout).toContain(`alice@example.com,Synced,${MESSAGES},0,`);
    // A settled batch: the watch ends at the first poll.
    const again = await cli(['batches', 'watch', 'Watch wave', '--json']);
    expect(again.code).toBe(0);
    const polls = again.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(polls).toHaveLength(1);
    expect(polls[0]).toMatchObject({ batch: { name: 'Watch wave', status: 'Synced' }, running: [] });
  });

  it('edits a synced batch (Set-MigrationBatch)', async () => {
    const edited = await cli([
      'batches',
      'edit',
      'Watch wave',
      '--bad-item-limit',
      '7',
      '--complete-after',
      '2030-01-01T00:00:00Z',
      '--folder-exclude',
      'Junk,Trash',
    ]);
    expect(edited).toMatchObject({ code: 0, stdout: 'edit: accepted; batch "Watch wave" is Synced\n' });
    const shown = await cli(['batches', 'show', 'Watch wave', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      badItemLimit: 7,
      completeAfter: '2030-01-01T00:00:00.000Z',
      folderExclude: ['Junk', 'Trash'],
    });
    const cleared = await cli(['batches', 'edit', 'Watch wave', '--complete-after', 'none']);
    expect(cleared.code).toBe(0);
    expect(JSON.parse((await cli(['batches', 'show', 'Watch wave', '--json'])).stdout).completeAfter).toBeNull();
    expect(await cli(['batches', 'edit', 'Watch wave'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('nothing to change'),
    });
  });

  it('draws progress bars on a terminal', async () => {
    await createBatch('Bars wave', [row('dave@example.com')]);
    expect((await cli(['batches', 'start', 'Bars wave'])).code).toBe(0);
    const terminal = fakeTerminal();
    const watched = await cli(['batches', 'watch', 'Bars wave'], { isTTY: true, stream: terminal.stream });
    expect(watched).toMatchObject({ code: 0, stderr: '' });
    expect(watched.stdout).toMatch(/^batch "Bars wave" is Synced: 1\/1 synced, 0 failed/);
    const drawn = terminal.text();
    // Coloured (a terminal), redrawn in place with cursor movements; without the escapes, the last frame:
    expect(drawn).toContain('\x1b[36m');
    const plain = drawn.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
    expect(plain).toMatch(/Bars wave \[(Queued|Starting|Syncing)\] +░{20} {3}0% 0\/1 synced/);
    expect(plain).toMatch(/Bars wave \[Synced\] +█{20} 100% 1\/1 synced {2}failed 0 {2}running 0/);
  });

  it('exits 1 when a mailbox fails, and says how the batch ended', async () => {
    await createBatch('Failing wave', [['carol@example.com', 'not-carols-password']]);
    expect((await cli(['batches', 'start', 'Failing wave'])).code).toBe(0);
    const watched = await cli(['batches', 'watch', 'Failing wave']);
    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(
      /^mailferry: batch "Failing wave" ended (Failed|Synced with errors): 0\/1 synced, 1 failed\n/,
    );
    expect(watched.stdout + watched.stderr).not.toContain('not-carols-password');
    const unknown = await cli(['batches', 'watch', 'No such wave']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('BATCH_NOT_FOUND') });
  });
});
