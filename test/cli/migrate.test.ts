import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/run';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import { startProduct, type RunningProduct } from '../fixtures/product';

/**
 * The imapsync-style commands end to end, against the real product (API, Temporal dev server, worker, PostgreSQL)
 * and two Dovecots: `mailferry analyze` (and `migrate --dry-run`) count and size every folder on both sides, show
 * the sync's own folder mapping and what the limits skip, and change nothing on either server; `mailferry migrate`
 * moves a real mailbox and exits with the batch's outcome; wrong and command-line passwords are refused.
 */

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;
let dir: string;

const USER = 'alice@example.com';
const SOURCE_PASSWORD = 'Alice-Source-7c1d';
const DEST_PASSWORD = 'Alice-Dest-9e2f';
const MOVER = 'bob@example.com';
const MOVER_SOURCE_PASSWORD = 'Bob-Source-31aa';
const MOVER_DEST_PASSWORD = 'Bob-Dest-42bb';
/** The analysis's large item limit: the one big message of the INBOX is over it. */
const LARGE = 100_000;

const files: Record<string, string> = {};

beforeAll(async () => {
  [product, source, destination] = await Promise.all([
    startProduct(),
    startDovecot(),
    // Sent under another name: the mapping goes by the special-use role, as the sync's does.
    startDovecot({ specialUse: { Sent: 'Sent Items', Trash: 'Deleted Items' } }),
  ]);
  for (const [user, sourcePassword, destPassword] of [
    [USER, SOURCE_PASSWORD, DEST_PASSWORD],
    [MOVER, MOVER_SOURCE_PASSWORD, MOVER_DEST_PASSWORD],
  ] as const) {
    await source.addUser(user, sourcePassword);
    await destination.addUser(user, destPassword);
    await source.seed(user, [
      { folder: 'INBOX', raw: buildMessage({ subject: `unread 1 ${user}`, size: 2_000 }) },
      { folder: 'INBOX', raw: buildMessage({ subject: `read 2 ${user}`, size: 3_000 }), flags: ['\\Seen'] },
      { folder: 'INBOX', raw: buildMessage({ subject: `unread 3 ${user}`, size: 4_000 }) },
      { folder: 'INBOX', raw: buildMessage({ subject: `big 4 ${user}`, size: 300_000 }) },
      { folder: 'Sent', raw: buildMessage({ subject: `sent 5 ${user}`, size: 1_500 }), flags: ['\\Seen'] },
      { folder: 'Work/Projects', raw: buildMessage({ subject: `project 6 ${user}`, size: 5_000 }) },
      { folder: 'Work/Projects', raw: buildMessage({ subject: `project 7 ${user}`, size: 6_000 }) },
      { folder: 'Spam', raw: buildMessage({ subject: `spam 8 ${user}`, size: 2_500 }) },
    ]);
  }
  // The destination has mail of its own already.
  await destination.seed(USER, [{ folder: 'INBOX', raw: buildMessage({ subject: 'already there', size: 1_000 }) }]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-migrate-'));
  for (const [name, text] of Object.entries({
    'source-pw': `${SOURCE_PASSWORD}\n`,
    'dest-pw': DEST_PASSWORD,
    'wrong-pw': 'not-the-password\n',
    'mover-source-pw': MOVER_SOURCE_PASSWORD,
    'mover-dest-pw': MOVER_DEST_PASSWORD,
  })) {
    files[name] = path.join(dir, name);
    await writeFile(files[name], text, { mode: 0o600 });
  }
}, 180_000);

afterAll(async () => {
  await product?.stop();
  await source?.close();
  await destination?.close();
});

async function cli(argv: string[], options: { stdin?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: {
      MAILFERRY_URL: product.api.url,
      MAILFERRY_TOKEN: product.api.adminToken,
      HOME: dir,
      MAILFERRY_DATA_DIR: dir,
    },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => options.stdin ?? '',
    // The watch polls every 100 ms rather than every second.
    sleep: () => new Promise((r) => setTimeout(r, 100)),
  });
  return { code, stdout, stderr };
}

const url = (server: DovecotServer, user: string) => `imap://${user}@${server.host}:${server.port}`;

/** Both Dovecots cleartext (the fixture's `ssl = no`). */
function pair(user: string, sourceServer = source) {
  return [
    '--source',
    url(sourceServer, user),
    '--source-security',
    'none',
    '--dest',
    url(destination, user),
    '--dest-security',
    'none',
  ];
}

/**
 * What a server shows of a mailbox: its folders (with roles and subscriptions) and every message with its flags.
 * Without the volatile LIST attributes \Marked and \UnMarked (RFC 3501): Dovecot adds them once one of its `auto`
 * folders, listed all along, has been opened by anyone, the analysis included.
 */
async function snapshot(server: DovecotServer, user: string) {
  const folders = (await server.listFolders(user)).map((f) => ({
    ...f,
    flags: f.flags.filter((x) => !/^\\(Un)?Marked$/i.test(x)),
  }));
  return { folders, messages: await server.readMailbox(user) };
}

const sizeOf = (messages: { folder: string; size: number }[], folder: string) =>
  messages.filter((m) => m.folder === folder).reduce((n, m) => n + m.size, 0);

describe('mailferry analyze', () => {
  it('prints every folder with its mapping, counts, sizes and skipped items, and changes neither server', async () => {
    const before = { source: await snapshot(source, USER), destination: await snapshot(destination, USER) };
    const limits = ['--large-item-max-bytes', String(LARGE), '--folder-exclude', 'Spam'];
    const json = await cli([
      'analyze',
      ...pair(USER),
      '--source-password-file',
      files['source-pw']!,
      '--dest-password-file',
      files['dest-pw']!,
      ...limits,
      '--json',
    ]);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const analysis = JSON.parse(json.stdout);
    const byFolder = Object.fromEntries(analysis.folders.map((f: { sourceFolder: string }) => [f.sourceFolder, f]));
    const src = before.source.messages;
    const inboxBig = src.find((m) => m.folder === 'INBOX' && m.size > LARGE)!;
    expect(byFolder.INBOX).toEqual({
      sourceFolder: 'INBOX',
      role: null,
      action: 'sync',
      destinationFolder: 'INBOX',
      destinationExists: true,
      sourceMessages: 4,
      sourceBytes: sizeOf(src, 'INBOX'),
      destinationMessages: 1,
      destinationBytes: sizeOf(before.destination.messages, 'INBOX'),
      largeMessages: 1,
      largeBytes: inboxBig.size,
      oversizeMessages: 0,
      oversizeBytes: 0,
    });
    expect(byFolder.Sent).toMatchObject({
      role: 'Sent',
      action: 'sync',
      destinationFolder: 'Sent Items',
      destinationExists: true,
      sourceMessages: 1,
      sourceBytes: sizeOf(src, 'Sent'),
      destinationMessages: 0,
      largeMessages: 0,
    });
    expect(byFolder['Work/Projects']).toMatchObject({
      action: 'sync',
      destinationFolder: 'Work/Projects',
      destinationExists: false,
      sourceMessages: 2,
      sourceBytes: sizeOf(src, 'Work/Projects'),
    });
    expect(byFolder.Spam).toMatchObject({
      action: 'excluded',
      destinationFolder: null,
      sourceMessages: 1,
      sourceBytes: sizeOf(src, 'Spam'),
    });
    expect(analysis.totals).toMatchObject({
      sourceMessages: 8,
      sourceBytes: src.reduce((n, m) => n + m.size, 0),
      destinationMessages: 1,
      largeMessages: 1,
      largeBytes: inboxBig.size,
      excludedFolders: 1,
      excludedMessages: 1,
      excludedBytes: sizeOf(src, 'Spam'),
    });
    expect(analysis.source).toEqual({ host: source.host, port: source.port, security: 'none', userName: USER });

    // The table, with the passwords on standard input this time (source first), and the CSV.
    const text = await cli(['analyze', ...pair(USER), ...limits], { stdin: `${SOURCE_PASSWORD}\n${DEST_PASSWORD}\n` });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(
      `source ${USER}@${source.host}:${source.port} (none) -> destination ${USER}@${destination.host}:${destination.port} (none)`,
    );
    expect(lines[1]).toMatch(
      /^Source folder +Destination folder +Messages +Size +On destination +Size there +Would skip$/,
    );
    expect(text.stdout).toMatch(/\nINBOX +INBOX +4 +[\d.]+ KB +1 +[\d.]+ KB +1 large \([\d.]+ KB\)\n/);
    expect(text.stdout).toMatch(/\nSent +Sent Items +1 /);
    expect(text.stdout).toMatch(/\nWork\/Projects +Work\/Projects \(new\) +2 /);
    expect(text.stdout).toMatch(/\nSpam +- \(excluded\) +1 +[\d.]+ KB +1 excluded \([\d.]+ KB\)\n/);
    expect(text.stdout).toContain('would skip: 1 large item(s) over 98 KB');
    expect(text.stdout).toContain('nothing was changed on either server');
    const csv = await cli(['analyze', ...pair(USER), ...limits, '--output', 'csv'], {
      stdin: `${SOURCE_PASSWORD}\n${DEST_PASSWORD}\n`,
    });
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'sourceFolder,role,action,destinationFolder,destinationExists,sourceMessages,sourceBytes,destinationMessages,destinationBytes,largeMessages,largeBytes,oversizeMessages,oversizeBytes',
    );
    expect(csv.stdout).toContain(`\r\nINBOX,,sync,INBOX,true,4,${sizeOf(src, 'INBOX')},1,`);

    // migrate --dry-run is the same analysis.
    const dry = await cli(['migrate', '--dry-run', ...pair(USER), ...limits, '--json'], {
      stdin: `${SOURCE_PASSWORD}\n${DEST_PASSWORD}\n`,
    });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual(analysis);

    // Nothing changed: the same folders (no folder created on the destination), messages and flags (no \Seen).
    expect(await snapshot(source, USER)).toEqual(before.source);
    expect(await snapshot(destination, USER)).toEqual(before.destination);
    expect(product.api.logger.text()).not.toContain(SOURCE_PASSWORD);
  });

  it('names the side of a refused login (AUTH_FAILED) and the host:port it could not reach (CONNECTION_FAILED)', async () => {
    const wrong = await cli([
      'analyze',
      ...pair(USER),
      '--source-password-file',
      files['source-pw']!,
      '--dest-password-file',
      files['wrong-pw']!,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      new RegExp(
        `^mailferry: destination server ${destination.host}:${destination.port} refused the login: .*\\(AUTH_FAILED\\)\\n`,
      ),
    );
    expect(wrong.stdout).toBe('');

    const closed = await freePort();
    const unreachable = await cli(
      [
        'analyze',
        '--source',
        `imap://${USER}@127.0.0.1:${closed}`,
        '--source-security',
        'none',
        '--dest',
        url(destination, USER),
        '--dest-security',
        'none',
      ],
      { stdin: `${SOURCE_PASSWORD}\n${DEST_PASSWORD}\n` },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`source server 127.0.0.1:${closed} unreachable: ECONNREFUSED`);
    expect(unreachable.stderr).toContain('(CONNECTION_FAILED)');
  });

  it('refuses viewers (the analysis logs in with passwords it is given)', async () => {
    const res = await product.api.request('POST', '/analyze', {
      token: product.api.viewerToken,
      json: {
        source: { endpoint: { host: source.host, port: source.port, security: 'none' }, userName: USER, password: 'x' },
        destination: {
          endpoint: { host: destination.host, port: destination.port, security: 'none' },
          userName: USER,
          password: 'x',
        },
      },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });
});

describe('mailferry migrate', () => {
  it('refuses a password on the command line (usage error, exit 2), without echoing it', async () => {
    const inUrl = await cli([
      'migrate',
      '--source',
      `imap://${MOVER}:${MOVER_SOURCE_PASSWORD}@${source.host}:${source.port}`,
      '--dest',
      url(destination, MOVER),
    ]);
    expect(inUrl.code).toBe(2);
    expect(inUrl.stderr).toContain('a password on the command line is refused');
    expect(inUrl.stderr).not.toContain(MOVER_SOURCE_PASSWORD);
    const asOption = await cli(['migrate', ...pair(MOVER), '--source-password', MOVER_SOURCE_PASSWORD]);
    expect(asOption.code).toBe(2);
    expect(asOption.stderr).toContain("unknown option '--source-password'");
    expect(asOption.stderr).not.toContain(MOVER_SOURCE_PASSWORD);
  });

  it('stops at a wrong password with AUTH_FAILED (exit 1) before it creates a batch', async () => {
    const res = await cli([
      'migrate',
      ...pair(MOVER),
      '--source-password-file',
      files['wrong-pw']!,
      '--dest-password-file',
      files['mover-dest-pw']!,
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^mailferry: source bob@example\.com@127\.0\.0\.1:\d+ \(none\): .*\(AUTH_FAILED\)\n/);
    const batches = await product.api.call('GET', '/batches');
    expect(batches.items).toEqual([]);
  });

  it('migrates a real mailbox: the batch reaches Synced, exit 0, every message on the destination', async () => {
    const res = await cli([
      'migrate',
      ...pair(MOVER),
      '--source-password-file',
      files['mover-source-pw']!,
      '--dest-password-file',
      files['mover-dest-pw']!,
      '--name',
      'bob move',
    ]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toContain(`migrating ${MOVER}@${source.host}:${source.port} (none) -> `);
    expect(res.stdout).toMatch(/batch "bob move" is Synced: 1\/1 synced, 0 failed/);
    const sent = (parts: string[]) => (parts.join('/') === 'Sent' ? 'Sent Items' : parts.join('/'));
    expect(comparableMessages(await destination.readMailbox(MOVER), destination)).toEqual(
      comparableMessages(await source.readMailbox(MOVER), source, sent),
    );
    // The endpoints were created once, by host, port and security, and a second migrate reuses them.
    const endpoints = await product.api.call('GET', '/endpoints');
    expect(endpoints.items.map((e: { name: string }) => e.name).sort()).toEqual(
      [`${source.host}:${source.port} none`, `${destination.host}:${destination.port} none`].sort(),
    );
    const batch = await product.api.call('GET', '/batches/bob move');
    expect(batch).toMatchObject({ status: 'Synced', total: 1, synced: 1 });
  });

  it("exits 1 with the mailbox's error when the batch does not sync (too many large items)", async () => {
    // The INBOX's big message is over the limit, and the batch allows no large item (LargeItemLimit 0).
    const res = await cli([
      'migrate',
      ...pair(USER),
      '--source-password-file',
      files['source-pw']!,
      '--dest-password-file',
      files['dest-pw']!,
      '--large-item-max-bytes',
      String(LARGE),
      '--name',
      'alice too large',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^mailferry: batch "alice too large" ended .*: .*\(LARGE_ITEM_LIMIT_EXCEEDED\)\n/);
    const batch = await product.api.call('GET', '/batches/alice too large');
    expect(batch).toMatchObject({ largeItemMaxBytes: LARGE, failed: 1 });
  });
});

describe('POST /analyze', () => {
  it('takes saved endpoints by id, and refuses a side with neither a password nor an admin login', async () => {
    const { items } = await product.api.call('GET', '/endpoints');
    const idOf = (server: DovecotServer) => items.find((e: { port: number }) => e.port === server.port).id;
    const body = {
      source: { endpoint: idOf(source), userName: MOVER, password: MOVER_SOURCE_PASSWORD },
      destination: { endpoint: idOf(destination), userName: MOVER, password: MOVER_DEST_PASSWORD },
    };
    const res = await product.api.request('POST', '/analyze', { json: body });
    expect(res.status).toBe(200);
    // After the migration above, the destination holds what the source has, folder by folder.
    for (const f of res.body.folders.filter((x: { action: string }) => x.action === 'sync')) {
      expect({ folder: f.sourceFolder, messages: f.destinationMessages, bytes: f.destinationBytes }).toEqual({
        folder: f.sourceFolder,
        messages: f.sourceMessages,
        bytes: f.sourceBytes,
      });
    }
    expect(res.text).not.toContain(MOVER_SOURCE_PASSWORD);
    const missing = await product.api.request('POST', '/analyze', {
      json: { ...body, destination: { endpoint: idOf(destination), userName: MOVER } },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'CREDENTIALS_MISSING', details: { side: 'destination' } });
  });
});
