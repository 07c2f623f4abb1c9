/**
 * A mailferry worker in its own process, for the kill -9 end-to-end test (worker-crash.test.ts): the real
 * `createBatchWorker` (workflows and activities) against the test's Temporal dev server and PostgreSQL, with the
 * prebuilt workflow bundle. Configuration comes as JSON in MAILFERRY_WORKER_CHILD. It prints `worker ready` once
 * it polls, and shuts down gracefully on SIGTERM; SIGKILL is the point of the test. It logs as the product's
 * worker does (JSON lines on standard output, the Temporal SDK's log included) at `logLevel`, `warn` by default.
 */
import { writeSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { createMailboxLocks } from '../../db/mailbox-locks';
import { installTemporalRuntime, watchWorkerComponents } from '../../entry/services';
import { createComponentMonitor } from '../../observability/component-status';
import { createLogger, type LogLevel } from '../../observability/logger';
import { createSecretBox } from '../../secrets/secret-box';
import { createBatchWorker } from '../../worker/create-worker';
import { reclaimSyncsOf } from '../../worker/reclaim-syncs';
import { workflowBundle } from '../fixtures/temporal';

export interface WorkerChildConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  /** The secret box key, base64 (32 bytes), the same the API sealed the passwords with. */
  secretKey: string;
  progressIntervalMs: number;
  /** A stable worker identity: with it, the worker gives back the syncs its dead predecessor held. */
  identity?: string;
  /** Activities at once (the product derives it from MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS); the SDK's default. */
  maxConcurrentActivityTaskExecutions?: number;
  logLevel?: LogLevel;
}

const config = JSON.parse(process.env.MAILFERRY_WORKER_CHILD ?? '{}') as WorkerChildConfig;

async function main(): Promise<void> {
  const logger = createLogger({ level: config.logLevel ?? 'warn', base: { process: 'worker', pid: process.pid } });
  await installTemporalRuntime(logger);
  const pool = new Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  const locks = createMailboxLocks(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const workerLogger = logger.child({ component: 'worker' });
  const components = createComponentMonitor(workerLogger);
  const worker = await createBatchWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: await workflowBundle(),
    pool,
    locks,
    secretBox: createSecretBox(Buffer.from(config.secretKey, 'base64')),
    logger: workerLogger,
    components,
    progressIntervalMs: config.progressIntervalMs,
    identity: config.identity,
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
  });
  if (config.identity) {
    const client = await Connection.connect({ address: config.temporalAddress });
    const reclaimed = await reclaimSyncsOf(client, {
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      identity: config.identity,
    });
    writeSync(1, `worker reclaimed ${reclaimed}\n`);
    await client.close();
  }
  watchWorkerComponents(components, worker, pool, connection);
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  writeSync(1, `worker ready ${process.pid}\n`);
  await running;
  await connection.close();
  await locks.close();
  await pool.end();
  writeSync(1, 'worker stopped\n');
}

main().catch((err: unknown) => {
  writeSync(2, `worker failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
