/**
 * The production-shaped deployment of the chaos tests, every part a separate OS process that a test can SIGKILL
 * and start again: its own PostgreSQL (embedded, persistent data dir), a Temporal dev server (persistent SQLite
 * file), the API (`entry/api.ts`, as in production), two workers (`test/e2e/worker-child.ts`: the real batch
 * worker with the prebuilt workflow bundle and a stable identity, so a restart gives its syncs back at once), and
 * the source and destination Dovecot.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startTemporalDevServer, type DevServerHandle } from '../../dev/temporal-dev-server';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startImapProxy } from '../fixtures/imap-proxy';
import { freePort } from '../fixtures/ports';
import { workflowBundle } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';
import { inheritedEnv, ROOT } from '../e2e/start-harness';
import { spawnWorker, type WorkerProcess } from '../e2e/worker-processes';

/** One part of the deployment: killed with SIGKILL (or the server's crash), started again on the same port/data. */
export interface Part {
  readonly name: string;
  kill(): Promise<void>;
  /** Starts it again and resolves once it serves. */
  start(): Promise<void>;
}

export interface Deployment {
  postgres: Part;
  temporal: Part;
  api: Part & { url: string; log(): string; logLines(): Array<Record<string, unknown>> };
  workers: Array<Part & { output(): string }>;
  source: DovecotServer;
  /** Where the endpoints reach the source: the server itself, or the slow link in front of it. */
  sourceAddress: { host: string; port: number };
  destination: DovecotServer;
  sourcePart: Part;
  destinationPart: Part;
  /** Every part, in a fixed order (the schedule's draw is over this list). */
  parts: Part[];
  /** An API call with the admin token; throws on a non-2xx answer. */
  call<T = any>(method: string, route: string, body?: unknown): Promise<T>;
  /** GET /health, whatever its status. */
  health(): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface DeploymentOptions {
  users: Array<{ user: string; password: string }>;
  masterUser: { user: string; password: string };
  /** Activities at once per worker. */
  slotsPerWorker: number;
  /**
   * A link of this many bytes per second per connection in front of the source (test/fixtures/imap-proxy.ts), so
   * the sync lasts long enough for the faults to hit it.
   */
  sourceBytesPerSecond?: number;
}

async function untilExited(child: { exitCode: number | null; signalCode: NodeJS.Signals | null }): Promise<void> {
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, 'the process exited', {
    timeoutMs: 10_000,
  });
}

async function killPid(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  await waitFor(
    async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
    },
    `pid ${pid} ended`,
    { timeoutMs: 10_000 },
  );
}

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-chaos-'));
  const ports = { postgres: await freePort(), temporal: await freePort(), ui: await freePort(), api: await freePort() };
  const secretKey = randomBytes(32).toString('base64');
  const taskQueue = 'mailferry-chaos';

  // PostgreSQL: persistent; each start first clears what a killed postmaster left (see postgres-server.ts).
  const pgEnv = inheritedEnv({
    MAILFERRY_CHAOS_PG_DIR: path.join(dir, 'postgres'),
    MAILFERRY_CHAOS_PG_PORT: String(ports.postgres),
  });
  let pg: { child: ChildProcessWithoutNullStreams; postmaster: number; url: string } | undefined;
  const startPostgres = async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'postgres-server.ts')], {
      cwd: ROOT,
      env: pgEnv,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const ready = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`PostgreSQL did not start:\n${out}`);
        return /postgres ready (\d+) (\S+)\n/.exec(out);
      },
      'PostgreSQL started',
      { timeoutMs: 60_000, failFast: true },
    );
    pg = { child, postmaster: Number(ready[1]), url: ready[2]! };
  };
  await startPostgres();
  const postgres: Part = {
    name: 'PostgreSQL',
    async kill() {
      await killPid(pg?.postmaster);
      pg?.child.kill('SIGKILL');
      if (pg) await untilExited(pg.child);
    },
    start: startPostgres,
  };

  // Temporal: the dev server on a SQLite file, so that a restart keeps every workflow.
  const devServerOptions = {
    port: ports.temporal,
    uiPort: ports.ui,
    dbFile: path.join(dir, 'temporal.db'),
    logFile: path.join(dir, 'temporal.log'),
  };
  let dev: DevServerHandle = startTemporalDevServer(devServerOptions);
  const temporalReady = async () => {
    const connection = await waitFor(
      () => Connection.connect({ address: dev.address, connectTimeout: 1000 }),
      'the Temporal dev server answers',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await connection.close();
  };
  const temporal: Part = {
    name: 'Temporal',
    kill: () => killPid(dev.pid),
    async start() {
      dev = startTemporalDevServer(devServerOptions);
      await temporalReady();
    },
  };
  const [source, destination] = await Promise.all([
    startDovecot({ users: options.users }),
    startDovecot({ masterUser: options.masterUser, users: options.users.map((u) => ({ ...u, password: 'unused' })) }),
    temporalReady(),
    workflowBundle(), // built once here, so each worker (and its restarts) only reads it from the cache
  ]);

  const link = options.sourceBytesPerSecond
    ? await startImapProxy(source, { bytesPerSecond: options.sourceBytesPerSecond })
    : undefined;

  // The API, as production runs it.
  const databaseUrl = pg!.url;
  let apiChild: ChildProcessWithoutNullStreams | undefined;
  let apiLog = '';
  const apiEnv = inheritedEnv({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: dev.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: String(ports.api),
    HOST: '127.0.0.1',
    MAILFERRY_SECRET_KEY: secretKey,
    MAILFERRY_DATA_DIR: path.join(dir, 'api'),
    MAILFERRY_SEARCH_ATTRIBUTES: 'true',
    LOG_LEVEL: 'info',
  });
  const api = {
    name: 'API',
    url: `http://127.0.0.1:${ports.api}/api/v1`,
    log: () => apiLog,
    logLines: () =>
      apiLog
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async kill() {
      if (!apiChild) return;
      apiChild.kill('SIGKILL');
      await untilExited(apiChild);
    },
    async start() {
      const child = spawn(process.execPath, ['--import', 'tsx', 'entry/api.ts'], { cwd: ROOT, env: apiEnv });
      apiChild = child;
      child.stdout.on('data', (d: Buffer) => (apiLog += d.toString()));
      child.stderr.on('data', (d: Buffer) => (apiLog += d.toString()));
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`the API exited:\n${apiLog.slice(-3000)}`);
          return apiLog.includes('"msg":"API started"');
        },
        'the API started',
        { timeoutMs: 60_000, failFast: true },
      );
    },
  };

  const workerProcesses: WorkerProcess[] = [];
  const workers = [1, 2].map((n) => {
    const identity = `chaos-worker-${n}@host-${n}`;
    const part = {
      name: `worker ${n}`,
      output: () => workerProcesses[n - 1]?.output() ?? '',
      async kill() {
        const w = workerProcesses[n - 1];
        if (!w) return;
        w.child.kill('SIGKILL');
        await w.exited;
      },
      async start() {
        const w = spawnWorker({
          temporalAddress: dev.address,
          namespace: 'default',
          taskQueue,
          databaseUrl,
          secretKey,
          progressIntervalMs: 500,
          identity,
          maxConcurrentActivityTaskExecutions: options.slotsPerWorker,
          logLevel: 'info',
        });
        workerProcesses[n - 1] = w;
        await w.ready;
      },
    };
    return part;
  });

  const dovecotPart = (name: string, server: DovecotServer): Part => ({
    name,
    kill: () => server.crash(),
    start: () => server.start(),
  });
  const sourcePart = dovecotPart('source IMAP server', source);
  const destinationPart = dovecotPart('destination IMAP server', destination);

  await api.start();
  await Promise.all(workers.map((w) => w.start()));
  const token = (await readFile(path.join(dir, 'api', 'initial-admin-token'), 'utf8')).trim();

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${api.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  return {
    postgres,
    temporal,
    api,
    workers,
    source,
    sourceAddress: link ?? source,
    destination,
    sourcePart,
    destinationPart,
    parts: [postgres, temporal, api, ...workers, sourcePart, destinationPart],
    call,
    async health() {
      const res = await fetch(`${api.url}/health`);
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await Promise.allSettled(workerProcesses.map((w) => w.stop()));
      apiChild?.kill('SIGTERM');
      if (apiChild) await untilExited(apiChild).catch(() => apiChild?.kill('SIGKILL'));
      await Promise.allSettled([link?.close(), source.close(), destination.close(), dev.stop()]);
      pg?.child.kill('SIGTERM');
      if (pg) await untilExited(pg.child).catch(() => pg?.child.kill('SIGKILL'));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
