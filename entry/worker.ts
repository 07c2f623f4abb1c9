/**
 * The worker process (production): runs batch workflows and mailbox syncs against the PostgreSQL named by
 * DATABASE_URL and the Temporal frontend named by TEMPORAL_ADDRESS. `npm start` runs the same worker in-process.
 * Its metrics (the product's and the Temporal SDK's) and a health check are on MAILFERRY_METRICS_PORT.
 */
import { loadSettings, type Settings } from '../config/settings';
import { startMetricsServer, type MetricsExporter } from '../observability/metrics-http';
import { connectTemporal, openFoundation, openMetrics, runWorker } from './services';

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.databaseUrl || !settings.temporalAddress) {
    throw new Error('the worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything embedded)');
  }
  const foundation = await openFoundation(settings, settings.databaseUrl);
  const metrics = await openMetrics(settings, { worker: true });
  // Listening before the workflows are bundled: a port in use fails the start at once; /health says 503 till then.
  let running = () => false;
  const metricsServer = await listenForMetrics(settings, metrics.exporter, () => running());
  const temporal = await connectTemporal(settings.temporalAddress);
  const worker = await runWorker(settings, foundation, temporal, {
    log: (line) => console.log(`mailferry worker: ${line}`),
    metrics: metrics.sync,
  });
  running = () => worker.getState() === 'RUNNING';
  // The Temporal SDK shuts its workers down on SIGINT/SIGTERM; run() returns once this one has drained (its
  // running syncs end or are cancelled, and Temporal retries them elsewhere). Exiting earlier would cut them off.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => console.log(`mailferry worker: ${signal} received, draining`));
  }
  console.log(`mailferry worker: metrics on ${metricsServer.url}/metrics, health on ${metricsServer.url}/health`);
  console.log(`mailferry worker: task queue ${settings.taskQueue} on ${settings.temporalAddress}`);
  await worker.run();
  await metricsServer.close();
  await temporal.native.close();
  await temporal.client.close();
  await foundation.close();
  console.log('mailferry worker: stopped');
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
  console.error(`mailferry worker: ${(err as Error).message}`);
  process.exit(1);
});
