import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import {
  bootstrapAdminToken,
  createImapConnectionTester,
  createJsonLogger,
  loadOrCreateSecretKey,
  startApiServer,
  startAuditRetention,
  type RunningApi,
} from '../api';
import { createMailboxLocks, type MailboxLocks } from '../db/mailbox-locks';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { createSecretBox, type SecretBox } from '../secrets/secret-box';
import type { Settings } from '../config/settings';
import { createBatchWorker } from '../worker/create-worker';
import { reclaimSyncsOf } from '../worker/reclaim-syncs';

/**
 * The pieces every mailferry process shares: the database (migrated) and the secret key. The worker and the API
 * each get a pool of their own, opened on first use, so that inside `npm start` a worker busy with a hundred
 * syncs can never take the connections the API needs to answer (or the reverse).
 */
export interface Foundation {
  secretBox: SecretBox;
  /** The worker's pool and its mailbox locks (one dedicated connection). */
  worker(): { pool: Pool; locks: MailboxLocks };
  /** The API's pool. */
  api(): Pool;
  close(): Promise<void>;
}

export async function openFoundation(settings: Settings, databaseUrl: string): Promise<Foundation> {
  const migrator = createPool(databaseUrl, 'migrate', { size: 1 });
  try {
    await migrate(migrator);
  } finally {
    await migrator.end();
  }
  const { key } = await loadOrCreateSecretKey({ key: settings.secretKey, keyFile: settings.secretKeyFile });
  let worker: { pool: Pool; locks: MailboxLocks } | undefined;
  let api: Pool | undefined;
  return {
    secretBox: createSecretBox(key),
    worker: () =>
      (worker ??= {
        pool: createPool(databaseUrl, 'worker', { size: settings.worker.poolSize }),
        locks: createMailboxLocks(databaseUrl),
      }),
    api: () => (api ??= createPool(databaseUrl, 'api', { size: settings.apiPoolSize })),
    async close() {
      await Promise.all([worker?.locks.close(), worker?.pool.end(), api?.end()]);
    },
  };
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

/**
 * Creates the worker. With a stable `identity` (MAILFERRY_WORKER_IDENTITY, or the start command's host and data
 * directory), the syncs this worker's previous life left running are given back at once (worker/reclaim-syncs.ts)
 * rather than after their heartbeat timeout.
 */
export async function runWorker(
  settings: Settings,
  foundation: Foundation,
  temporal: { native: NativeConnection; client: Connection },
  options: { identity?: string; log?: (line: string) => void } = {},
): Promise<Worker> {
  const identity = settings.worker.identity ?? options.identity;
  const worker = await createBatchWorker({
    connection: temporal.native,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...foundation.worker(),
    secretBox: foundation.secretBox,
    maxConcurrentActivityTaskExecutions: settings.worker.activitySlots,
    identity,
  });
  if (identity) {
    const reclaimed = await reclaimSyncsOf(temporal.client, {
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      identity,
    });
    if (reclaimed > 0) options.log?.(`resumed ${reclaimed} mailbox sync(s) that the previous run of this worker left`);
  }
  return worker;
}

export interface StartedApi {
  api: RunningApi;
  /** Set on the first start: the file holding the initial admin token. */
  initialTokenFile?: string;
}

export async function runApi(settings: Settings, foundation: Foundation, connection: Connection): Promise<StartedApi> {
  const pool = foundation.api();
  const boot = await bootstrapAdminToken(pool, { dataDir: settings.dataDir });
  const deps = {
    pool,
    temporal: new Client({ connection, namespace: settings.namespace }),
    secretBox: foundation.secretBox,
    taskQueue: settings.taskQueue,
    temporalUiUrl: settings.temporalUiUrl,
    searchAttributes: settings.searchAttributes,
    batchPolicy: settings.batchPolicy,
    logger: createJsonLogger({ component: 'api' }),
    testConnection: createImapConnectionTester(),
    trustProxy: settings.trustProxy,
  };
  const api = await startApiServer(deps, {
    port: settings.apiPort,
    host: settings.apiHost,
    tls: settings.tls && (await readTlsFiles(settings.tls)),
  });
  const stopRetention = startAuditRetention(pool, settings.auditRetentionMs, deps.logger);
  const close = api.close.bind(api);
  const running: RunningApi = {
    ...api,
    close: async (graceMs) => {
      stopRetention();
      await close(graceMs);
    },
  };
  return { api: running, initialTokenFile: boot.created ? boot.tokenFile : undefined };
}

/** The API's certificate and key, read once at start; a missing file is named in the error. */
async function readTlsFiles(files: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (file: string, setting: string) =>
    readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${setting} ${file}: ${err.code ?? err.message}`, { cause: err });
    });
  const [cert, key] = await Promise.all([
    read(files.certFile, 'MAILFERRY_TLS_CERT'),
    read(files.keyFile, 'MAILFERRY_TLS_KEY'),
  ]);
  return { cert, key };
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
