import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/run';
import { freePort } from '../fixtures/ports';
import { startApi, type ApiHarness } from './harness';

/** The CLI over the public API: output, errors with their codes and line numbers, exit codes. */
let api: ApiHarness;
let dir: string;

beforeAll(async () => {
  api = await startApi();
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-cli-'));
});
afterAll(async () => {
  await api.close();
});

async function cli(argv: string[], env: Record<string, string | undefined> = {}, stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { MAILFERRY_URL: api.url, MAILFERRY_TOKEN: api.adminToken, ...env },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => stdin ?? '',
  });
  return { code, stdout, stderr };
}

describe('mailferry CLI', () => {
  it('prints usage for help, and exits 2 for unknown commands and bad flags', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('batches create --name NAME');
    const unknown = await cli(['batches', 'explode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command: batches explode');
    const badFlag = await cli(['batches', 'list', '--colour', 'red']);
    expect(badFlag.code).toBe(2);
    const missing = await cli(['batches', 'create', '--name', 'x']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('missing --csv FILE') });
  });

  it('uses the token from the environment or --token, and exits 1 with the API code when refused', async () => {
    const me = await cli(['me']);
    expect(me).toMatchObject({ code: 0, stdout: 'test-admin (admin@example.com), role admin\n' });
    const viewer = await cli(['me', '--token', api.viewerToken]);
    expect(viewer.stdout).toContain('role viewer');
    const none = await cli(['me'], { MAILFERRY_TOKEN: undefined });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('(UNAUTHENTICATED)');
    const forbidden = await cli(['tokens', 'list', '--token', api.viewerToken]);
    expect(forbidden).toMatchObject({ code: 1, stderr: expect.stringContaining('FORBIDDEN') });
  });

  it('exits 3 when the API cannot be reached', async () => {
    const res = await cli(['batches', 'list'], { MAILFERRY_URL: `http://127.0.0.1:${await freePort()}` });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('cannot reach the mailferry API');
  });

  it('creates, lists, tests and deletes endpoints, reading the admin password from a file or stdin', async () => {
    const pwFile = path.join(dir, 'pw');
    await writeFile(pwFile, 'Cli-Admin-Secret\n', { mode: 0o600 });
    const created = await cli([
      'endpoints',
      'create',
      '--name',
      'Old server',
      '--host',
      'imap.old.example',
      '--port',
      '993',
      '--security',
      'tls',
      '--admin-user',
      'admin',
      '--admin-password-file',
      pwFile,
    ]);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created endpoint "Old server"/) });
    const viaStdin = await cli(
      [
        'endpoints',
        'create',
        '--name',
        'New server',
        '--host',
        'imap.new.example',
        '--port',
        '143',
        '--security',
        'starttls',
        '--admin-user',
        'admin',
        '--admin-password-stdin',
        '--skip-test',
        '--json',
      ],
      {},
      'Cli-Stdin-Secret\n',
    );
    expect(viaStdin.code).toBe(0);
    expect(JSON.parse(viaStdin.stdout)).toMatchObject({ name: 'New server', hasAdminPassword: true });
    const list = await cli(['endpoints', 'list']);
    expect(list.stdout.split('\n')[0]).toMatch(/^name\s+host\s+port\s+security\s+adminUser\s+id$/);
    expect(list.stdout).toContain('imap.old.example');
    const tested = await cli(['endpoints', 'test', 'old server']);
    expect(tested).toMatchObject({ code: 0, stdout: 'ok: connected to imap.old.example:993 (OK)\n' });
    const shown = await cli(['endpoints', 'show', 'New server', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ port: 143, security: 'starttls' });
    expect((await cli(['endpoints', 'delete', 'New server'])).code).toBe(0);
    const gone = await cli(['endpoints', 'show', 'New server']);
    expect(gone).toMatchObject({ code: 1, stderr: expect.stringContaining('no endpoint named') });
    for (const out of [created, viaStdin, list, tested, shown]) {
      expect(out.stdout).not.toContain('Cli-Admin-Secret');
      expect(out.stdout).not.toContain('Cli-Stdin-Secret');
    }
  });

  it('reports every CSV problem with its line, and creates nothing', async () => {
    const csvFile = path.join(dir, 'bad.csv');
    await writeFile(csvFile, 'EmailAddress,UserName,Password\nnot-an-address,a,pw\nb@example.com,,pw\n');
    const res = await cli([
      'batches',
      'create',
      '--name',
      'cli-wave',
      '--source',
      'Old server',
      '--destination',
      'Old server',
      '--csv',
      csvFile,
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('(CSV_INVALID)');
    expect(res.stderr).toContain('  line 2: EmailAddress is not a valid email address (INVALID_EMAIL)');
    expect(res.stderr).toContain('  line 3: UserName is empty (MISSING_VALUE)');
    const { rows } = await api.db.pool.query('select count(*)::int as n from batches');
    expect(rows[0].n).toBe(0);
    const noFile = await cli([
      'batches',
      'create',
      '--name',
      'x',
      '--source',
      'a',
      '--destination',
      'b',
      '--csv',
      path.join(dir, 'missing.csv'),
    ]);
    expect(noFile).toMatchObject({ code: 2, stderr: expect.stringContaining('ENOENT') });
  });

  it('shows 409 refusals with the commands allowed now', async () => {
    const { rows } = await api.db.pool.query<{ id: string }>('select id from endpoints limit 1');
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ('77777777-7777-4777-8777-777777777777', 'Done wave', 'batch:Done wave', 'Completed', $1, $1, 'x')`,
      [rows[0]!.id],
    );
    const res = await cli(['batches', 'start', 'Done wave']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'mailferry: start is not allowed while the batch is Completed (COMMAND_NOT_ALLOWED)\n  allowed now: remove\n',
    );
    const list = await cli(['batches', 'list', '--status', 'Completed']);
    expect(list.stdout).toMatch(/Done wave\s+Completed\s+0\s+0/);
    const unknown = await cli(['batches', 'stop', 'no such wave']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('BATCH_NOT_FOUND') });
    await api.db.pool.query('delete from batches');
  });

  it('creates and revokes tokens, printing the value once', async () => {
    const created = await cli([
      'tokens',
      'create',
      '--name',
      'robot',
      '--owner',
      'ops@example.com',
      '--role',
      'viewer',
      '--json',
    ]);
    const token = JSON.parse(created.stdout);
    expect(token.token).toMatch(/^mf_/);
    expect((await cli(['me', '--token', token.token])).stdout).toContain('robot (ops@example.com), role viewer');
    const list = await cli(['tokens', 'list']);
    expect(list.stdout).not.toContain(token.token);
    expect((await cli(['tokens', 'revoke', token.id])).stdout).toBe('revoked token "robot"\n');
    expect((await cli(['me', '--token', token.token])).code).toBe(1);
    const badRole = await cli(['tokens', 'create', '--name', 'x', '--owner', 'y', '--role', 'root']);
    expect(badRole).toMatchObject({ code: 1, stderr: expect.stringContaining('VALIDATION_FAILED') });
  });

  it('runs as a process with `npm run cli` semantics and sets the exit code', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          path.resolve(__dirname, '../../node_modules/tsx/dist/cli.mjs'),
          path.resolve(__dirname, '../../cli/main.ts'),
          'me',
        ],
        { env: { ...process.env, MAILFERRY_URL: api.url, MAILFERRY_TOKEN: 'mf_wrong' } },
        (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('UNAUTHENTICATED');
  });
});
