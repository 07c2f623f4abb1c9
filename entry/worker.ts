/**
 * The worker process (production): runs batch workflows and mailbox syncs against the PostgreSQL named by
 * DATABASE_URL and the Temporal frontend named by TEMPORAL_ADDRESS. `npm start` runs the same worker in-process.
 * It logs JSON lines on standard output (LOG_LEVEL, default info).
 */
import { createLogger } from '../observability/logger';
import { connectTemporal, installTemporalRuntime, loadSettingsOrExit, openFoundation, runWorker } from './services';

const settings = loadSettingsOrExit('worker');
const logger = createLogger({ level: settings.logLevel, base: { process: 'worker' } });

async function main(): Promise<void> {
  if (!settings.databaseUrl || !settings.temporalAddress) {
    throw new Error('the worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything embedded)');
  }
  installTemporalRuntime(logger);
  const foundation = await openFoundation(settings, settings.databaseUrl);
  const temporal = await connectTemporal(settings.temporalAddress, settings, logger);
  const worker = await runWorker(settings, foundation, temporal, logger);
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
  });
  await worker.run();
  await temporal.native.close();
  await temporal.client.close();
  await foundation.close();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  logger.error('worker failed', { err });
  process.exit(1);
});
