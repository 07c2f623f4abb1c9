/**
 * Drives the real start entry point (`entry/start.ts`, what `npm start` runs after setup) as a child process, on a
 * data directory and ports of the test's choosing, for the start-command and start-recovery tests.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { freePort } from '../fixtures/ports';
import { waitFor } from '../fixtures/wait-for';

export const ROOT = path.resolve(__dirname, '..', '..');
const DASHBOARD_INDEX = path.join(ROOT, 'dashboard', 'dist', 'index.html');

export interface Ports {
  api: number;
  postgres: number;
  temporal: number;
  temporalUi: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Product {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves once the "mailferry is running" block is printed; rejects if the process exits first. */
  running: Promise<void>;
  exited: Promise<Exit>;
}

/** Every start of this test file, for {@link killProducts}. */
const products: Product[] = [];

/** `npm test` builds the dashboard before jest; a lone `npx jest` of a start test builds it here if missing. */
export function ensureDashboardBuilt(): void {
  if (!existsSync(DASHBOARD_INDEX)) {
    execFileSync('npm', ['run', '--silent', 'build:dashboard'], { cwd: ROOT, stdio: 'pipe', timeout: 90_000 });
  }
}

/** Compiles the processes as `npm start` does (scripts/build.sh), for a `compiled` start. */
export function buildCompiled(): void {
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
}

/** Distinct free ports for the API, PostgreSQL, the Temporal frontend and its Web UI. */
export async function freePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return { api: await next(), postgres: await next(), temporal: await next(), temporalUi: await next() };
}

/** The parent's environment minus anything that points at external services or other settings, plus `extra`. */
export function inheritedEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    const binaries = key === 'TEMPORAL_CLI_PATH' || key === 'TEMPORAL_TEST_SERVER_PATH';
    if ((/^(MAILFERRY_|TEMPORAL_)/.test(key) && !binaries) || ['DATABASE_URL', 'PORT', 'HOST'].includes(key)) {
      delete env[key];
    }
  }
  return { ...env, ...extra };
}

/** The start's environment: {@link inheritedEnv} with the data directory and ports of the test's choosing. */
export function productEnv(dataDir: string, ports: Ports, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return inheritedEnv({
    MAILFERRY_DATA_DIR: dataDir,
    PORT: String(ports.api),
    MAILFERRY_POSTGRES_PORT: String(ports.postgres),
    MAILFERRY_TEMPORAL_PORT: String(ports.temporal),
    MAILFERRY_TEMPORAL_UI_PORT: String(ports.temporalUi),
    ...extra,
  });
}

/**
 * Starts the product: its source through tsx, or with `compiled` what `npm start` runs, the executable
 * dist/start.js (built by scripts/build.sh beforehand).
 */
export function startProduct(
  dataDir: string,
  ports: Ports,
  extraEnv: NodeJS.ProcessEnv = {},
  options: { compiled?: boolean; nodeFlags?: string[] } = {},
): Product {
  // Its own process group, so that killProducts can kill whatever a failed test leaves behind.
  const [program, ...args] = options.compiled
    ? options.nodeFlags?.length
      ? [process.execPath, ...options.nodeFlags, 'dist/start.js']
      : ['dist/start.js']
    : [process.execPath, ...(options.nodeFlags ?? []), '--import', 'tsx', 'entry/start.ts'];
  const child = spawn(program!, args, {
    cwd: ROOT,
    env: productEnv(dataDir, ports, extraEnv),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "mailferry is running" within 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (/mailferry is running\n[\s\S]*\n {2}admin token [^\n]*\n/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the start exited (${exit.code ?? exit.signal}) before it was running:\n${output}`));
    });
  });
  running.catch(() => undefined);
  const product = { child, output: () => output, running, exited };
  products.push(product);
  return product;
}

/** SIGKILL to the process group of every start still running (afterAll: what a failed test left). */
export async function killProducts(): Promise<void> {
  for (const product of products) {
    if (product.child.exitCode === null && product.child.signalCode === null) {
      try {
        process.kill(-product.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await product.exited;
    }
  }
}

/** Resolves once the output contains `text`; rejects if the process exits first or after `ms`. */
export async function outputContains(product: Product, text: string, ms = 60_000): Promise<void> {
  const absent = () => new Error(`no "${text}" in the output:\n${product.output()}`);
  try {
    await waitFor(
      () => {
        if (product.output().includes(text)) return true;
        if (product.child.exitCode !== null || product.child.signalCode !== null) throw absent();
        return false;
      },
      `"${text}" in the output`,
      { timeoutMs: ms, failFast: true },
    );
  } catch (err) {
    if ((err as Error).message.startsWith('timed out waiting')) throw absent();
    throw err;
  }
}

/** Waits up to `ms` for the process to exit. */
export async function exitWithin(product: Product, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    product.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${product.output()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** SIGTERM to the start process only (as `kill <pid>` or a service manager sends it); waits up to `ms`. */
export async function stopProduct(product: Product, ms = 20_000): Promise<Exit> {
  product.child.kill('SIGTERM');
  return exitWithin(product, ms);
}

/** Nothing the start ran is left: no process names the data directory, and every port is free again. */
export async function expectNothingLeft(dataDir: string, ports: Ports): Promise<void> {
  expect(await processesUsing(dataDir)).toEqual([]);
  for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
}

/** Processes whose command line names the data directory: the postmaster (-D) and the dev server (--db-filename). */
export async function processesUsing(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
