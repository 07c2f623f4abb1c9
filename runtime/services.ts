import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import {
  bootstrapAdminToken,
  createImapConnectionTester,
  createJsonLogger,
  loadOrCreateSecretKey,
  startApiServer,
  type RunningApi,
} from '../api';
import { migrate } from '../db/migrate';
import { createSecretBox, type SecretBox } from '../secrets/secret-box';
import type { Settings } from '../config/settings';
import { createBatchWorker } from '../worker/create-worker';

/** The pieces every mailferry process shares: the database (migrated) and the secret box. */
export interface Foundation {
  pool: Pool;
  secretBox: SecretBox;
  close(): Promise<void>;
}

export async function openFoundation(settings: Settings, databaseUrl: string): Promise<Foundation> {
  const pool = new Pool({ connectionString: databaseUrl, max: 20 });
  pool.on('error', () => undefined); // an idle client's lost connection is replaced on next use
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const { key } = await loadOrCreateSecretKey({ key: settings.secretKey, keyFile: settings.secretKeyFile });
  return { pool, secretBox: createSecretBox(key), close: () => pool.end() };
}

/** Connects to Temporal, retrying while a server that is still starting refuses connections. */
export async function connectTemporal(
  address: string,
  attempts = 60,
): Promise<{ native: NativeConnection; client: Connection }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const native = await NativeConnection.connect({ address });
      const client = await Connection.connect({ address });
      return { native, client };
    } catch (err) {
      if (attempt >= attempts) {
        throw new Error(`cannot reach Temporal at ${address}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function runWorker(
  settings: Settings,
  foundation: Foundation,
  connection: NativeConnection,
): Promise<Worker> {
  return createBatchWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    pool: foundation.pool,
    secretBox: foundation.secretBox,
  });
}

export interface StartedApi {
  api: RunningApi;
  /** Set on the first start: the file holding the initial admin token. */
  initialTokenFile?: string;
}

export async function runApi(settings: Settings, foundation: Foundation, connection: Connection): Promise<StartedApi> {
  const boot = await bootstrapAdminToken(foundation.pool, { dataDir: settings.dataDir });
  const deps = {
    pool: foundation.pool,
    temporal: new Client({ connection, namespace: settings.namespace }),
    secretBox: foundation.secretBox,
    taskQueue: settings.taskQueue,
    temporalUiUrl: settings.temporalUiUrl,
    searchAttributes: settings.searchAttributes,
    batchPolicy: settings.batchPolicy,
    logger: createJsonLogger({ component: 'api' }),
    testConnection: createImapConnectionTester(),
  };
  const api = await startApiServer(deps, { port: settings.apiPort, host: settings.apiHost });
  return { api, initialTokenFile: boot.created ? boot.tokenFile : undefined };
}

/** Runs `stop` once on SIGINT/SIGTERM. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`mailferry: ${signal} received, shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('mailferry: shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
