/**
 * The worker process (production): runs batch workflows and mailbox syncs against the PostgreSQL named by
 * DATABASE_URL and the Temporal frontend named by TEMPORAL_ADDRESS. `npm start` runs the same worker in-process.
 * It logs JSON lines on standard output (LOG_LEVEL, default info). Its metrics (the product's and the Temporal
 * SDK's) and a health check are on MAILFERRY_METRICS_PORT.
 */
import type { Settings } from '../config/settings';
import { createLogger } from '../observability/logger';
import { startMetricsServer, type MetricsExporter } from '../observability/metrics-http';
import {
  connectTemporal,
  installTemporalRuntime,
  loadSettingsOrExit,
  openFoundation,
  openMetrics,
  runWorker,
} from './services';

const settings = loadSettingsOrExit('worker');
const logger = createLogger({ level: settings.logLevel, base: { process: 'worker' } });

async function main(): Promise<void> {
  if (!settings.databaseUrl || !settings.temporalAddress) {
    throw new Error('the worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything embedded)');
  }
  const temporalSdkUrl = await installTemporalRuntime(logger, { sdkMetrics: true });
  const foundation = await openFoundation(settings, settings.databaseUrl);
  const metrics = openMetrics(settings, { worker: true, temporalSdkUrl });
  // Listening before the workflows are bundled: a port in use fails the start at once; /health says 503 till then.
  let running = () => false;
  const metricsServer = await listenForMetrics(settings, metrics.exporter, () => running());
  const temporal = await connectTemporal(settings.temporalAddress, settings, logger);
  const worker = await runWorker(settings, foundation, temporal, logger, { metrics: metrics.sync });
  running = () => worker.getState() === 'RUNNING';
  // The Temporal SDK shuts its workers down on SIGINT/SIGTERM; run() returns once this one has drained (its
  // running syncs end or are cancelled, and Temporal retries them elsewhere). Exiting earlier would cut them off.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => logger.info(`${signal} received, draining`, { signal }));
  }
  logger.info('worker started', {
    taskQueue: settings.taskQueue,
    namespace: settings.namespace,
    temporalAddress: settings.temporalAddress,
    maxConcurrentSyncs: settings.worker.maxConcurrentSyncs,
    identity: settings.worker.identity,
    metrics: `${metricsServer.url}/metrics`,
    health: `${metricsServer.url}/health`,
  });
  await worker.run();
  await metricsServer.close();
  await temporal.native.close();
  await temporal.client.close();
  await foundation.close();
  logger.info('worker stopped');
}

async function listenForMetrics(settings: Settings, exporter: MetricsExporter, healthy: () => boolean) {
  const { port } = settings.metrics;
  try {
    return await startMetricsServer({ exporter, port, host: settings.apiHost, healthy });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new Error(
      `MAILFERRY_METRICS_PORT ${port} is in use by another program; set MAILFERRY_METRICS_PORT to a free port ` +
        '(every worker on a host needs its own)',
      { cause: err },
    );
  }
}

main().catch((err: unknown) => {
  logger.error('worker failed', { err });
  process.exit(1);
});
