/**
 * `npm start`: the whole product on one machine. Embedded PostgreSQL (unless DATABASE_URL is set), a Temporal
 * dev server with its Web UI (unless TEMPORAL_ADDRESS is set), the worker and the API with the dashboard.
 *
 * Before it runs anything it checks what can be checked (the data directory, the secret key, the ports) and
 * clears what an earlier start of the same data directory left (dev/leftovers.ts); a watchdog stops the servers
 * if this process dies (dev/watchdog.ts); a stop ends within MAILFERRY_STOP_TIMEOUT (default 30s), by force if
 * need be. Every failure prints its cause and a fix (dev/start-error.ts).
 *
 * What it says about itself (the servers it starts, the running block, the stop) is written for a person; the
 * worker and the API log through the product's logger, human-readable on a terminal and JSON lines otherwise.
 */
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type Settings } from '../config/settings';
import { ensureDatabase } from '../db/create-database';
import { createLogger } from '../observability/logger';
import {
  connectTemporal,
  installTemporalRuntime,
  onShutdown,
  openFoundation,
  openMetrics,
  runApi,
  runWorker,
} from './services';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { claimDataDir, clearPostgresLeftovers, clearTemporalLeftovers, TEMPORAL_PID_FILE } from '../dev/leftovers';
import { checkDataDir, checkPorts, checkSecretKey, type PlannedPort } from '../dev/preflight';
import { terminate } from '../dev/processes';
import { describeError, failureReport, StartError } from '../dev/start-error';
import { startTemporalDevServer } from '../dev/temporal-dev-server';
import { startWatchdog } from '../dev/watchdog';

const APP_DATABASE = 'mailferry';
/** How long a stop may take before the servers are stopped by force: MAILFERRY_STOP_TIMEOUT. */
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** Between a forced stop's first signal to a server and SIGKILL. */
const FORCE_GRACE_MS = 5_000;

interface Started {
  /** Settles when the worker stops: on shutdown, or when it fails. */
  workerRun: Promise<void>;
}

/** A server process this start runs, for a forced stop. */
interface Server {
  name: string;
  pid: number;
  /** Its orderly stop signal: SIGINT is PostgreSQL's fast shutdown. */
  signal: NodeJS.Signals;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const stopTimeoutMs = readStopTimeout(process.env.MAILFERRY_STOP_TIMEOUT);
  await checkDataDir(settings.dataDir);
  const releaseDataDir = await claimDataDir(settings.dataDir);
  await checkSecretKey({ key: settings.secretKey, keyFile: settings.secretKeyFile });
  const pgData = path.join(settings.dataDir, 'postgres');
  const temporalDb = path.join(settings.dataDir, 'temporal.db');
  const say = (line: string) => console.log(line);
  const logger = createLogger({ level: settings.logLevel, pretty: process.stdout.isTTY === true });
  const temporalSdkUrl = await installTemporalRuntime(logger, { sdkMetrics: true });
  if (!settings.databaseUrl) await clearPostgresLeftovers(pgData, settings.embeddedPostgresPort, say);
  if (!settings.temporalAddress) await clearTemporalLeftovers(settings.dataDir, temporalDb, say);
  await checkPorts(plannedPorts(settings));

  const watchdog = startWatchdog();
  const servers: Server[] = [];
  const serve = (name: string, signal: NodeJS.Signals) => (pid: number) => {
    servers.push({ name, pid, signal });
    watchdog.watch(pid, name, signal);
  };
  const cleanups: Array<{ what: string; run: () => Promise<void> }> = [
    { what: 'the data directory claim', run: releaseDataDir },
  ];
  /** What the stop is doing, for the message of a stop that overran. */
  let stuckAt = 'waiting for the start-up step under way';
  // Each step runs once, whether the shutdown handler or a failed start gets to it first.
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) {
      stuckAt = `stopping ${step.what}`;
      await step.run().catch((err: unknown) => {
        console.error(`mailferry: stopping ${step.what} failed: ${describeError(err)}`);
      });
    }
  };

  let forcing = false;
  /** Stops every server still running (its own signal, SIGKILL after 5 s), says which, and exits with code 1. */
  const forceStop = async (why: string): Promise<never> => {
    forcing = true;
    console.error(`mailferry: ${why}; stopping the servers by force`);
    const ended: string[] = [];
    await Promise.all(
      servers.map(async (server) => {
        const how = await terminate(server.pid, server.signal, FORCE_GRACE_MS);
        if (how === 'stopped') ended.push(`${server.name} (pid ${server.pid}, ended on ${server.signal})`);
        if (how === 'killed') ended.push(`${server.name} (pid ${server.pid}, killed with SIGKILL)`);
      }),
    );
    console.error(`mailferry: stopped by force: ${ended.length > 0 ? ended.join(', ') : 'no server was left running'}`);
    process.exit(1);
  };
  /** Runs `stop` within the stop timeout, else stops by force. The watchdog's deadline backs this one up. */
  const stopWithin = async (stop: () => Promise<void>): Promise<void> => {
    watchdog.armDeadline(stopTimeoutMs + FORCE_GRACE_MS + 10_000);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), stopTimeoutMs);
    });
    const outcome = await Promise.race([stop().then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late' && !forcing) {
      await forceStop(`the stop did not finish within ${stopTimeoutMs / 1000} s (stuck at: ${stuckAt})`);
    }
  };

  let stopping = false;
  let starting: Promise<Started | undefined> = Promise.resolve(undefined);
  // Registered before anything starts: a signal during start-up lets the step under way finish (so its process
  // is known), skips the rest, and stops what runs; it never leaves PostgreSQL or the dev server behind.
  onShutdown(
    async () => {
      stopping = true;
      await stopWithin(async () => {
        await starting.catch(() => undefined);
        await cleanup();
      });
    },
    {
      info: (message) => console.log(`mailferry: ${message}`),
      error: (message, fields) => console.error(`mailferry: ${message}: ${describeError(fields?.err)}`),
    },
  );

  /** Starts everything; resolves to nothing when a signal came during start-up. */
  const start = async (): Promise<Started | undefined> => {
    let databaseUrl = settings.databaseUrl;
    if (!databaseUrl) {
      console.log('mailferry: starting embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({
        dataDir: pgData,
        port: settings.embeddedPostgresPort,
        callerHandlesSignals: true, // onShutdown below stops it last
        logFile: path.join(settings.dataDir, 'postgres.log'),
        onSpawn: serve('PostgreSQL', 'SIGINT'),
      });
      cleanups.push({
        what: `PostgreSQL (pid ${pg.pid})`,
        run: async () => {
          await pg.stop();
          if (pg.pid !== undefined) watchdog.forget(pg.pid);
        },
      });
      if (stopping) return undefined;
      databaseUrl = await ensureDatabase(pg.url, APP_DATABASE);
    }

    let temporalAddress = settings.temporalAddress;
    let devServerFailed = new Promise<never>(() => undefined);
    if (!temporalAddress) {
      if (stopping) return undefined;
      console.log('mailferry: starting the Temporal dev server');
      const dev = startTemporalDevServer({
        port: settings.devTemporalPort,
        uiPort: settings.devTemporalUiPort,
        dbFile: temporalDb,
        logFile: path.join(settings.dataDir, 'temporal.log'),
        pidFile: path.join(settings.dataDir, TEMPORAL_PID_FILE),
        onSpawn: serve('the Temporal dev server', 'SIGTERM'),
      });
      cleanups.push({
        what: `the Temporal dev server (pid ${dev.pid})`,
        run: async () => {
          await dev.stop();
          if (dev.pid !== undefined) watchdog.forget(dev.pid);
        },
      });
      temporalAddress = dev.address;
      settings.temporalUiUrl ??= dev.uiUrl;
      devServerFailed = dev.failed;
    }

    if (stopping) return undefined;
    const foundation = await openFoundation(settings, databaseUrl);
    cleanups.push({ what: 'the database pool', run: () => foundation.close() });
    // One process, one scrape target: the worker's counters, the SDK's metrics and the gauges on PORT's /metrics.
    const { exporter, sync } = openMetrics(settings, { worker: true, readModel: foundation.api(), temporalSdkUrl });
    if (stopping) return undefined;
    // A dev server that exits (a port taken meanwhile, a broken SQLite file) ends the wait at once, with its log.
    const temporal = await Promise.race([connectTemporal(temporalAddress, settings, logger), devServerFailed]);
    cleanups.push({
      what: 'the Temporal connections',
      run: async () => {
        await temporal.native.close();
        await temporal.client.close();
      },
    });
    if (stopping) return undefined;
    // One start per data directory runs at a time (dev/leftovers.ts), so host and data directory name this worker
    // for good: a start after a crash gives its predecessor's syncs back at once.
    const worker = await runWorker(settings, foundation, temporal, logger, {
      identity: `mailferry@${os.hostname()}:${settings.dataDir}`,
      metrics: sync,
    });
    const workerRun = worker.run();
    workerRun.catch(() => undefined); // awaited below; a failure during the rest of the start is not unhandled
    cleanups.push({
      what: 'the worker',
      run: async () => {
        // The Temporal SDK's own signal handler may have begun the shutdown already.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
      },
    });
    if (stopping) return { workerRun };
    const { api, initialTokenFile } = await runApi(settings, foundation, temporal.client, logger, exporter).catch(
      (err: unknown) => {
        // Free at the check before start-up, taken since.
        if ((err as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') throw err;
        throw new StartError(
          `PORT ${settings.apiPort} is in use by another program (taken during start-up)`,
          'stop that program, or set PORT=<a free port>',
          { cause: err },
        );
      },
    );
    cleanups.push({ what: 'the API', run: () => api.close() });
    if (stopping) return { workerRun };

    console.log(
      [
        '',
        `mailferry is running`,
        `  dashboard        ${api.url}/`,
        `  API              ${api.url}/api/v1  (OpenAPI: ${api.url}/api/v1/openapi.json)`,
        `  metrics          ${api.url}/metrics  (Prometheus)`,
        `  Temporal Web UI  ${settings.temporalUiUrl ?? '(external)'}`,
        initialTokenFile
          ? `  admin token      first start: cat ${initialTokenFile}`
          : `  admin token      created on the first start (${path.join(settings.dataDir, 'initial-admin-token')})`,
        '',
      ].join('\n'),
    );
    return { workerRun };
  };

  try {
    starting = start();
    await (
      await starting
    )?.workerRun;
  } catch (err) {
    if (stopping) return; // the shutdown handler stops what runs and exits
    // The cause first: a clean-up that overruns ends the process.
    for (const line of failureReport(err)) console.error(line);
    await stopWithin(cleanup);
    process.exit(1);
  }
}

function readSettings(): Settings {
  try {
    return loadSettings();
  } catch (err) {
    throw new StartError(describeError(err), 'correct the setting named above (README, "Configuration")');
  }
}

/** MAILFERRY_STOP_TIMEOUT: `30s`, `2m`, `5000ms`; at least 1 s. */
function readStopTimeout(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_STOP_TIMEOUT_MS;
  const match = /^(\d+)(ms|s|m)$/.exec(text);
  const ms = match ? Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'] : NaN;
  if (!(ms >= 1000)) {
    throw new StartError(`invalid configuration: MAILFERRY_STOP_TIMEOUT: ${text}`, 'set a duration such as 30s or 2m');
  }
  return ms;
}

/** The ports this start listens on, by the setting that chooses each. */
function plannedPorts(settings: Settings): PlannedPort[] {
  const ports: PlannedPort[] = [{ setting: 'PORT', port: settings.apiPort, host: settings.apiHost }];
  if (!settings.databaseUrl) {
    ports.push({ setting: 'MAILFERRY_POSTGRES_PORT', port: settings.embeddedPostgresPort, host: '127.0.0.1' });
  }
  if (!settings.temporalAddress) {
    ports.push({ setting: 'MAILFERRY_TEMPORAL_PORT', port: settings.devTemporalPort, host: '127.0.0.1' });
    ports.push({ setting: 'MAILFERRY_TEMPORAL_UI_PORT', port: settings.devTemporalUiPort, host: '127.0.0.1' });
  }
  return ports;
}

main().catch((err: unknown) => {
  // Whatever was thrown: embedded-postgres, for one, rejects with undefined.
  for (const line of failureReport(err)) console.error(line);
  process.exit(1);
});
