import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type State, type Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import {
  bootstrapAdminToken,
  createImapConnectionTester,
  loadOrCreateSecretKey,
  startApiServer,
  startAuditRetention,
  type RunningApi,
} from '../api';
import { createSmtpMailer } from '../mail/smtp';
import { createMailboxLocks, type MailboxLocks } from '../db/mailbox-locks';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { listEndpointRows } from '../db/endpoints';
import { pingDatabase } from '../db/health';
import { tcpReachable } from '../imap/reachability';
import {
  createComponentMonitor,
  imapComponent,
  type ComponentMonitor,
  POSTGRES_COMPONENT,
  TEMPORAL_COMPONENT,
  watchComponents,
  type Probe,
} from '../observability/component-status';
import { temporalLogger, type Logger } from '../observability/logger';
import { createRegistry, createSyncMetrics, type SyncMetrics } from '../observability/metrics';
import { registerReadModelGauges } from '../observability/metrics-gauges';
import { createMetricsExporter, type MetricsExporter } from '../observability/metrics-http';
import { sdkPrometheusTelemetry } from '../observability/metrics-temporal';
import { createSecretBox, type SecretBox } from '../secrets/secret-box';
import { loadSettings, type Settings } from '../config/settings';
import { createMessageBuffers } from '../imap/message-buffers';
import { createBatchWorker } from '../worker/create-worker';
import { reclaimSyncsOf } from '../worker/reclaim-syncs';
import { describeTemporalSecurity, temporalConnectionOptions } from './temporal-connection';

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

/** The settings, or the problem with them on standard error and exit code 1 (before there is a logger). */
export function loadSettingsOrExit(processName: string): Settings {
  try {
    return loadSettings();
  } catch (err) {
    console.error(`mailferry ${processName}: ${(err as Error).message}`);
    process.exit(1);
  }
}

/**
 * Sends the Temporal SDK's own log (the worker's, the activities' `log`, and the Rust core's warnings) through
 * the product's logger and, in a process that runs a worker (`sdkMetrics`), turns on the SDK's metrics. Once per
 * process (the SDK's runtime is created once), before the first connection. Returns the SDK metrics' URL.
 */
export async function installTemporalRuntime(
  logger: Logger,
  options: { sdkMetrics?: boolean } = {},
): Promise<string | undefined> {
  const sdk = options.sdkMetrics ? await sdkPrometheusTelemetry() : undefined;
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(sdk ? { metrics: sdk.metrics } : {}),
    },
  });
  return sdk?.url;
}

/** The Prometheus metrics of one process: what it serves, and what its worker's activities count into. */
export interface ProcessMetrics {
  exporter: MetricsExporter;
  /** Set when the process runs a worker. */
  sync?: SyncMetrics;
}

/**
 * Sets up this process's metrics (docs/deployment.md, "Metrics"). A process that runs a `worker` gets the sync
 * counters, and its scrape carries the Temporal SDK's metrics from `temporalSdkUrl` (what
 * {@link installTemporalRuntime} returned). A process that runs the API passes its pool as `readModel` for the
 * gauges read from PostgreSQL (only there, so that several workers do not report them again).
 */
export function openMetrics(
  settings: Settings,
  roles: { worker?: boolean; readModel?: Pool; temporalSdkUrl?: string },
): ProcessMetrics {
  const registry = createRegistry();
  if (roles.readModel) registerReadModelGauges(registry, roles.readModel);
  return {
    exporter: createMetricsExporter({ registry, temporalSdkUrl: roles.temporalSdkUrl, token: settings.metrics.token }),
    ...(roles.worker ? { sync: createSyncMetrics(registry) } : {}),
  };
}

/**
 * Connects to Temporal (TLS, mTLS and an API key as the settings say, the same for the API's client and the
 * worker), retrying while a server that is still starting refuses connections.
 */
export async function connectTemporal(
  address: string,
  settings: Pick<Settings, 'temporalSecurity'>,
  logger: Logger,
  attempts = 60,
): Promise<{ native: NativeConnection; client: Connection }> {
  const options = await temporalConnectionOptions(address, settings.temporalSecurity);
  logger.info('connecting to Temporal', { address, ...describeTemporalSecurity(settings.temporalSecurity) });
  for (let attempt = 1; ; attempt++) {
    try {
      const native = await NativeConnection.connect(options);
      const client = await Connection.connect(options);
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
  logger: Logger,
  options: { identity?: string; metrics?: SyncMetrics } = {},
): Promise<Worker> {
  const identity = settings.worker.identity ?? options.identity;
  const workerLogger = logger.child({ component: 'worker' });
  const components = createComponentMonitor(workerLogger);
  const worker = await createBatchWorker({
    logger: workerLogger,
    components,
    connection: temporal.native,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...foundation.worker(),
    secretBox: foundation.secretBox,
    ...(settings.smtp ? { mailer: createSmtpMailer(settings.smtp) } : {}),
    maxConcurrentActivityTaskExecutions: settings.worker.activitySlots,
    messageBuffers: createMessageBuffers(settings.worker.messageBufferBytes),
    identity,
    metrics: options.metrics,
  });
  if (identity) {
    const reclaimed = await reclaimSyncsOf(temporal.client, {
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      identity,
    });
    if (reclaimed > 0) {
      logger.info('resumed the mailbox syncs that the previous run of this worker left', { reclaimed, identity });
    }
  }
  watchWorkerComponents(components, worker, foundation.worker().pool, temporal.native);
  return worker;
}

/** How often each process (the API, each worker) checks PostgreSQL, Temporal and the endpoints' IMAP servers. */
const COMPONENT_WATCH_INTERVAL_MS = 2000;
/** How long one check may take before its part counts as down. */
const COMPONENT_PROBE_TIMEOUT_MS = 3000;

const WORKER_ENDED: ReadonlySet<State> = new Set(['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED']);

/** The one call of Temporal's WorkflowService the checks make (the client's and the worker's connection have it). */
interface TemporalSystemInfo {
  getSystemInfo(request: object): Promise<unknown>;
}

/** What each process checks: PostgreSQL, Temporal and every endpoint's IMAP server (a TCP connection, no login). */
function componentProbes(pool: Pool, temporal: TemporalSystemInfo): () => Promise<Record<string, Probe>> {
  return async () => {
    const endpoints = await listEndpointRows(pool).catch(() => []);
    return {
      [POSTGRES_COMPONENT]: () => pingDatabase(pool),
      [TEMPORAL_COMPONENT]: () => temporal.getSystemInfo({}),
      ...Object.fromEntries(
        endpoints.map((e) => [imapComponent(e), () => tcpReachable(e.host, e.port, COMPONENT_WATCH_INTERVAL_MS)]),
      ),
    };
  };
}

/**
 * A worker's watch of PostgreSQL, Temporal and the IMAP servers, until the worker stops: a loss and a return logged
 * once each way (its syncs tell the same monitor what they meet in between).
 */
export function watchWorkerComponents(
  components: ComponentMonitor,
  worker: Worker,
  pool: Pool,
  native: NativeConnection,
): void {
  const probes = componentProbes(pool, native.workflowService);
  watchComponents(components, async () => (WORKER_ENDED.has(worker.getState()) ? null : probes()), {
    intervalMs: COMPONENT_WATCH_INTERVAL_MS,
  });
}

export interface StartedApi {
  api: RunningApi;
  /** Set on the first start: the file holding the initial admin token. */
  initialTokenFile?: string;
}

export async function runApi(
  settings: Settings,
  foundation: Foundation,
  connection: Connection,
  logger: Logger,
  metrics?: MetricsExporter,
): Promise<StartedApi> {
  const pool = foundation.api();
  const boot = await bootstrapAdminToken(pool, { dataDir: settings.dataDir });
  const apiLogger = logger.child({ component: 'api' });
  const temporal = new Client({ connection, namespace: settings.namespace });
  const components = createComponentMonitor(apiLogger);
  // A deadline on the probe's call, so that its retries end with the probe's timeout: the Temporal client retries
  // a call on a timer, and a retry that fires after its connection closed throws out of the process.
  const probeTemporal: TemporalSystemInfo = {
    getSystemInfo: (request) =>
      connection.withDeadline(Date.now() + COMPONENT_PROBE_TIMEOUT_MS, () =>
        temporal.workflowService.getSystemInfo(request),
      ),
  };
  const stopWatching = watchComponents(components, componentProbes(pool, probeTemporal), {
    intervalMs: COMPONENT_WATCH_INTERVAL_MS,
    timeoutMs: COMPONENT_PROBE_TIMEOUT_MS,
  });
  const deps = {
    pool,
    temporal,
    components,
    secretBox: foundation.secretBox,
    taskQueue: settings.taskQueue,
    temporalUiUrl: settings.temporalUiUrl,
    searchAttributes: settings.searchAttributes,
    batchPolicy: settings.batchPolicy,
    logger: apiLogger,
    testConnection: createImapConnectionTester(),
    metrics,
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
      // Its Temporal probe ends before the caller closes the connection.
      await Promise.all([stopWatching(), close(graceMs)]);
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
export function onShutdown(stop: () => Promise<void>, logger: Pick<Logger, 'info' | 'error'>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`, { signal });
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
