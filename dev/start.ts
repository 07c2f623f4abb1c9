/**
 * `npm start`: the whole product on one machine. Embedded PostgreSQL (unless DATABASE_URL is set), a Temporal
 * dev server with its Web UI (unless TEMPORAL_ADDRESS is set), the worker and the API with the dashboard.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Pool } from 'pg';
import { loadSettings } from '../config/settings';
import { connectTemporal, onShutdown, openFoundation, runApi, runWorker } from '../runtime/services';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startTemporalDevServer } from './temporal-dev-server';

const APP_DATABASE = 'mailferry';

interface Started {
  /** Settles when the worker stops: on shutdown, or when it fails. */
  workerRun: Promise<void>;
}

async function main(): Promise<void> {
  const settings = loadSettings();
  await mkdir(settings.dataDir, { recursive: true });
  const cleanups: Array<() => Promise<void>> = [];
  // Each step runs once, whether the shutdown handler or a failed start gets to it first.
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  let stopping = false;
  let starting: Promise<Started | undefined> = Promise.resolve(undefined);
  // Registered before anything starts: a signal during start-up lets the step under way finish (so its process
  // is known), skips the rest, and stops what runs; it never leaves PostgreSQL or the dev server behind.
  onShutdown(async () => {
    stopping = true;
    await starting.catch(() => undefined);
    await cleanup();
  });

  /** Starts everything; resolves to nothing when a signal came during start-up. */
  const start = async (): Promise<Started | undefined> => {
    let databaseUrl = settings.databaseUrl;
    if (!databaseUrl) {
      console.log('mailferry: starting embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(settings.dataDir, 'postgres'),
        port: settings.embeddedPostgresPort,
        callerHandlesSignals: true, // onShutdown below stops it last
      });
      cleanups.push(() => pg.stop());
      if (stopping) return undefined;
      databaseUrl = await ensureDatabase(pg.url, APP_DATABASE);
    }

    let temporalAddress = settings.temporalAddress;
    if (!temporalAddress) {
      if (stopping) return undefined;
      console.log('mailferry: starting the Temporal dev server');
      const dev = startTemporalDevServer({
        port: settings.devTemporalPort,
        uiPort: settings.devTemporalUiPort,
        dbFile: path.join(settings.dataDir, 'temporal.db'),
        logFile: path.join(settings.dataDir, 'temporal.log'),
      });
      cleanups.push(() => dev.stop());
      temporalAddress = dev.address;
      settings.temporalUiUrl ??= dev.uiUrl;
    }

    if (stopping) return undefined;
    const foundation = await openFoundation(settings, databaseUrl);
    cleanups.push(() => foundation.close());
    if (stopping) return undefined;
    const temporal = await connectTemporal(temporalAddress);
    cleanups.push(async () => {
      await temporal.native.close();
      await temporal.client.close();
    });
    if (stopping) return undefined;
    const worker = await runWorker(settings, foundation, temporal.native);
    const workerRun = worker.run();
    workerRun.catch(() => undefined); // awaited below; a failure during the rest of the start is not unhandled
    cleanups.push(async () => {
      // The Temporal SDK's own signal handler may have begun the shutdown already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
    });
    if (stopping) return { workerRun };
    const { api, initialTokenFile } = await runApi(settings, foundation, temporal.client);
    cleanups.push(() => api.close());
    if (stopping) return { workerRun };

    console.log(
      [
        '',
        `mailferry is running`,
        `  dashboard        ${api.url}/`,
        `  API              ${api.url}/api/v1  (OpenAPI: ${api.url}/api/v1/openapi.json)`,
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
    await cleanup();
    throw err;
  }
}

/** The application's database on the embedded server, created on first start. */
async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new Pool({ connectionString: serverUrl, max: 1 });
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

main().catch((err: unknown) => {
  console.error(`mailferry: ${(err as Error).message}`);
  process.exit(1);
});
