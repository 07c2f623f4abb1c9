/**
 * The real entry point (`entry/start.ts`) after starts that did not end cleanly, and when it cannot start: the
 * watchdog stops PostgreSQL and the Temporal dev server when the start process is killed, the next start clears
 * what was left (servers still running, a stale postmaster.pid) and says so, a stuck stop ends by force within
 * MAILFERRY_STOP_TIMEOUT (and the watchdog's deadline kills a start whose event loop is blocked), and each
 * start-up failure names its cause and a fix. Each test is bounded to a minute.
 */
import { spawn } from 'node:child_process';
import { appendFile, copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  ensureDashboardBuilt,
  exitWithin,
  expectNothingLeft,
  freePorts,
  killProducts,
  processesUsing,
  startProduct,
  stopProduct,
  type Ports,
  type Product,
} from './start-harness';
import { waitFor } from '../fixtures/wait-for';

const tempDirs: string[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-recovery-'));
  tempDirs.push(dir);
  return dir;
}

/** True while the pid exists and has not ended (a zombie has). */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Waits up to `ms` for every pid to end; returns how long that took. */
async function allEndWithin(pids: number[], ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const alive = [];
    for (const pid of pids) if (await isAlive(pid)) alive.push(pid);
    if (alive.length === 0) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`still running after ${ms} ms: ${alive.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function firstLineNumber(file: string): Promise<number> {
  return Number((await readFile(file, 'utf8')).split('\n')[0]);
}

/** The pids of the running start's PostgreSQL postmaster and Temporal dev server, from their pid files. */
async function serverPids(dataDir: string): Promise<{ postgres: number; temporal: number }> {
  return {
    postgres: await firstLineNumber(path.join(dataDir, 'postgres', 'postmaster.pid')),
    temporal: await firstLineNumber(path.join(dataDir, 'temporal.pid')),
  };
}

/** The watchdog: the start's child whose command line names it. */
async function watchdogOf(startPid: number): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== startPid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('mailferry watchdog')) return Number(entry);
  }
  throw new Error(`no watchdog among the children of ${startPid}`);
}

async function healthOk(ports: Ports): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/health`);
  return res.status === 200;
}

/** A start that fails: waits for its exit (it must come within 30 s) and returns the exit and the output. */
async function failedStart(dataDir: string, ports: Ports, env: NodeJS.ProcessEnv = {}) {
  const product = startProduct(dataDir, ports, env);
  const exit = await exitWithin(product, 30_000);
  await new Promise((r) => setTimeout(r, 100)); // the last output after the exit event
  return { exit, output: product.output() };
}

beforeAll(() => ensureDashboardBuilt(), 120_000);

afterAll(async () => {
  await killProducts();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

/**
 * Longer than the harness's own wait for "mailferry is running" (60 s), so a start that hangs fails with what it
 * printed rather than with jest's bare timeout.
 */
const START_TEST_TIMEOUT_MS = 90_000;

describe('npm start after a start that did not stop cleanly', () => {
  let dataDir: string;
  let ports: Ports;
  let token: string;

  beforeAll(async () => {
    dataDir = await freshDataDir();
    ports = await freePorts();
  });

  it(
    'SIGKILL of the start process alone: the watchdog stops PostgreSQL and the dev server within seconds, and the next start reuses the data',
    async () => {
      const first = startProduct(dataDir, ports);
      await first.running;
      const tokenFile = path.join(dataDir, 'initial-admin-token');
      token = await readFile(tokenFile, 'utf8');
      const pids = await serverPids(dataDir);
      expect(await isAlive(pids.postgres)).toBe(true);
      expect(await isAlive(pids.temporal)).toBe(true);

      first.child.kill('SIGKILL');
      const took = await allEndWithin([pids.postgres, pids.temporal], 10_000);
      console.log(`orphans ended ${took} ms after the SIGKILL of the start process`);
      expect(took).toBeLessThan(7_000);
      expect(await processesUsing(dataDir)).toEqual([]);
      expect(first.output()).toContain(
        `the start process (pid ${first.child.pid}) ended; stopping what it left running: ` +
          `PostgreSQL (pid ${pids.postgres}), the Temporal dev server (pid ${pids.temporal})`,
      );

      const second = startProduct(dataDir, ports);
      await second.running;
      expect(second.output()).not.toMatch(/left running|stale/);
      expect(second.output()).toContain(`  admin token      created on the first start (${tokenFile})`);
      expect(await readFile(tokenFile, 'utf8')).toBe(token);
      const me = await fetch(`http://127.0.0.1:${ports.api}/api/v1/me`, {
        headers: { authorization: `Bearer ${token.trim()}` },
      });
      expect(me.status).toBe(200);
      const secondWatchdog = await watchdogOf(second.child.pid!);
      expect(await stopProduct(second)).toMatchObject({ code: 0, signal: null });
      await expectNothingLeft(dataDir, ports);
      await allEndWithin([secondWatchdog], 2_000); // a clean stop leaves no watchdog either
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'SIGKILL of the start process and its watchdog: the next start stops the PostgreSQL and the dev server left running, and says so',
    async () => {
      const first = startProduct(dataDir, ports);
      await first.running;
      const pids = await serverPids(dataDir);
      process.kill(await watchdogOf(first.child.pid!), 'SIGKILL');
      first.child.kill('SIGKILL');
      await exitWithin(first, 5_000);
      await new Promise((r) => setTimeout(r, 500));
      // Orphans, as every start left them before the watchdog.
      expect(await isAlive(pids.postgres)).toBe(true);
      expect(await isAlive(pids.temporal)).toBe(true);

      const second = startProduct(dataDir, ports);
      await second.running;
      expect(second.output()).toContain(
        `mailferry: stopped a PostgreSQL left running by an earlier start (pid ${pids.postgres})\n`,
      );
      expect(second.output()).toContain(
        `mailferry: stopped a Temporal dev server left running by an earlier start (pid ${pids.temporal})\n`,
      );
      // The postmaster stopped on SIGINT removed its own lock files: nothing stale to report.
      expect(second.output()).not.toContain('stale');
      expect(await isAlive(pids.postgres)).toBe(false);
      expect(await isAlive(pids.temporal)).toBe(false);
      expect(await healthOk(ports)).toBe(true);
      expect(await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).toBe(token);
      expect(await stopProduct(second)).toMatchObject({ code: 0, signal: null });
      await expectNothingLeft(dataDir, ports);
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'SIGKILL of the whole process group, with a postmaster.pid whose pid now belongs to another program: the next start removes it and says so',
    async () => {
      const first = startProduct(dataDir, ports);
      await first.running;
      process.kill(-first.child.pid!, 'SIGKILL');
      await exitWithin(first, 5_000);
      const lockFile = path.join(dataDir, 'postgres', 'postmaster.pid');
      // The pid was reused, as after a reboot or in a container: PostgreSQL alone refuses to start beside it.
      const other = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const lines = (await readFile(lockFile, 'utf8')).split('\n');
        await writeFile(lockFile, [String(other.pid), ...lines.slice(1)].join('\n'));

        const second = startProduct(dataDir, ports);
        await second.running;
        expect(second.output()).toMatch(
          /mailferry: removed (a stale|stale lock files) postmaster.pid(, \S+)? left by an earlier start that did not stop cleanly \(/,
        );
        expect(second.output()).toContain(`pid ${other.pid} now belongs to another program`);
        expect(await isAlive(other.pid!)).toBe(true); // not ours: left alone
        expect(await healthOk(ports)).toBe(true);
        expect(await stopProduct(second)).toMatchObject({ code: 0, signal: null });
        await expectNothingLeft(dataDir, ports);
      } finally {
        other.kill('SIGKILL');
      }
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'a stop stuck behind a frozen dev server ends within MAILFERRY_STOP_TIMEOUT and the forced stop, with code 1 and what it killed',
    async () => {
      const product = startProduct(dataDir, ports, { MAILFERRY_STOP_TIMEOUT: '5s' });
      await product.running;
      const pids = await serverPids(dataDir);
      process.kill(pids.temporal, 'SIGSTOP'); // the worker's shutdown now waits for ever, and so would SIGTERM
      const stopped = Date.now();
      product.child.kill('SIGTERM');
      const exit = await exitWithin(product, 20_000);
      const took = Date.now() - stopped;
      console.log(`the stuck stop ended after ${took} ms (timeout 5 s, then up to 5 s per server before SIGKILL)`);
      expect(exit).toMatchObject({ code: 1, signal: null });
      expect(took).toBeLessThan(15_000);
      const output = product.output();
      expect(output).toMatch(/mailferry: the stop did not finish within 5 s \(stuck at: stopping [^)]+\)/);
      expect(output).toContain(`the Temporal dev server (pid ${pids.temporal}, killed with SIGKILL)`);
      expect(output).toMatch(/mailferry: stopped by force: /);
      await allEndWithin([pids.postgres, pids.temporal], 5_000);
      await expectNothingLeft(dataDir, ports);
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'PostgreSQL failing to start: its log lines and exit code',
    async () => {
      const conf = path.join(dataDir, 'postgres', 'postgresql.conf');
      await copyFile(conf, `${conf}.good`);
      await appendFile(conf, '\nshared_buffers = plenty\n');
      try {
        const { exit, output } = await failedStart(dataDir, ports);
        expect(exit.code).toBe(1);
        expect(output).toContain('mailferry: PostgreSQL stopped during start-up (exit 1)');
        expect(output).toContain(`last lines of its log (${path.join(dataDir, 'postgres.log')})`);
        expect(output).toContain('invalid value for parameter "shared_buffers": "plenty"');
        expect(output).toMatch(/\n {2}fix: /);
        expect(output).not.toMatch(/TypeError|Cannot read properties/);
        await expectNothingLeft(dataDir, ports);
      } finally {
        await copyFile(`${conf}.good`, conf);
      }
    },
    START_TEST_TIMEOUT_MS,
  );
});

describe('the watchdog (dev/watchdog.ts)', () => {
  it('kills a start process whose event loop is blocked past the deadline of its stop, then its servers', async () => {
    // The part of a start that matters here: a watchdog, a server it watches, a stop that never ends.
    const script = [
      "const { spawn } = require('node:child_process');",
      "const { startWatchdog } = require('./dev/watchdog.ts');",
      'const watchdog = startWatchdog();',
      "const server = spawn('sleep', ['60'], { stdio: 'ignore' });",
      "watchdog.watch(server.pid, 'sleeper', 'SIGTERM');",
      'console.log(`server ${server.pid}`);',
      'watchdog.armDeadline(1000);',
      'setTimeout(() => { for (;;); }, 100);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const started = Date.now();
    const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, sig) => resolve(sig)),
    );
    expect(exit).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(10_000);
    const server = Number(/server (\d+)/.exec(output)?.[1]);
    await allEndWithin([server], 5_000);
    // The watchdog says so after its kills, through the pipe it shares with the killed process: wait for the line.
    const said =
      `mailferry watchdog: the start process (pid ${child.pid}) did not stop within 1 s and was killed (SIGKILL); ` +
      `stopping what it left running: sleeper (pid ${server})`;
    await waitFor(() => output.includes(said), "the watchdog's line", { timeoutMs: 5_000, describe: () => output });
  }, 30_000);
});

describe('npm start that cannot start names the cause and the fix', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it.each([
    ['PORT', 'api'],
    ['MAILFERRY_POSTGRES_PORT', 'postgres'],
    ['MAILFERRY_TEMPORAL_UI_PORT', 'temporalUi'],
  ] as const)(
    '%s taken by another program',
    async (setting, which) => {
      const dataDir = await freshDataDir();
      const ports = await freePorts();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker!.listen(ports[which], '127.0.0.1', resolve));
      const { exit, output } = await failedStart(dataDir, ports);
      expect(exit.code).toBe(1);
      expect(output).toContain(
        `mailferry: ${setting} ${ports[which]} is in use by another program (pid ${process.pid}: `,
      );
      expect(output).toContain(`  fix: stop that program, or set ${setting}=<a free port>`);
      expect(output).not.toContain('starting embedded PostgreSQL'); // found before anything ran
      expect(await processesUsing(dataDir)).toEqual([]);
    },
    60_000,
  );

  it(
    'a corrupt secret key file: named, and left as it is',
    async () => {
      const dataDir = await freshDataDir();
      const keyFile = path.join(dataDir, 'secret.key');
      await writeFile(keyFile, 'this is not a key\n', { mode: 0o600 });
      const { exit, output } = await failedStart(dataDir, await freePorts());
      expect(exit.code).toBe(1);
      expect(output).toContain(
        `mailferry: the secret key file ${keyFile} is not a usable key: the secret key must be 32`,
      );
      expect(output).toContain('  fix: restore the file from your backup');
      expect(await readFile(keyFile, 'utf8')).toBe('this is not a key\n');
      expect(await processesUsing(dataDir)).toEqual([]);
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'a data directory that cannot be created',
    async () => {
      const parent = await freshDataDir();
      const inTheWay = path.join(parent, 'a-file');
      await writeFile(inTheWay, '');
      const dataDir = path.join(inTheWay, 'data');
      const { exit, output } = await failedStart(dataDir, await freePorts());
      expect(exit.code).toBe(1);
      expect(output).toContain(
        `mailferry: cannot write to the data directory ${dataDir} (MAILFERRY_DATA_DIR): ENOTDIR`,
      );
      expect(output).toContain('  fix: a file is in the way: set MAILFERRY_DATA_DIR to a directory');
    },
    START_TEST_TIMEOUT_MS,
  );

  it(
    'another start running on the same data directory: refused, and its servers left alone',
    async () => {
      const dataDir = await freshDataDir();
      const ports = await freePorts();
      const running: Product = startProduct(dataDir, ports);
      await running.running;
      const pids = await serverPids(dataDir);
      const { exit, output } = await failedStart(dataDir, await freePorts());
      expect(exit.code).toBe(1);
      expect(output).toContain(
        `mailferry: mailferry is already running on the data directory ${dataDir} (pid ${running.child.pid})`,
      );
      expect(await isAlive(pids.postgres)).toBe(true);
      expect(await isAlive(pids.temporal)).toBe(true);
      expect(await stopProduct(running)).toMatchObject({ code: 0, signal: null });
      await expectNothingLeft(dataDir, ports);
    },
    START_TEST_TIMEOUT_MS,
  );
});
