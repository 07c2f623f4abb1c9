/**
 * The API process (production): serves /api/v1 and the dashboard against the PostgreSQL named by DATABASE_URL
 * and the Temporal frontend named by TEMPORAL_ADDRESS. `npm start` runs the same API in-process. It logs JSON
 * lines on standard output (LOG_LEVEL, default info).
 */
import { createLogger } from '../observability/logger';
import {
  connectTemporal,
  installTemporalRuntime,
  loadSettingsOrExit,
  onShutdown,
  openMetrics,
  openFoundation,
  runApi,
} from './services';

const settings = loadSettingsOrExit('API');
const logger = createLogger({ level: settings.logLevel, base: { process: 'api' } });

async function main(): Promise<void> {
  if (!settings.databaseUrl || !settings.temporalAddress) {
    throw new Error('the API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything embedded)');
  }
  await installTemporalRuntime(logger);
  const foundation = await openFoundation(settings, settings.databaseUrl);
  const metrics = openMetrics(settings, { readModel: foundation.api() });
  const temporal = await connectTemporal(settings.temporalAddress, settings, logger);
  const { api, initialTokenFile } = await runApi(settings, foundation, temporal.client, logger, metrics.exporter);
  logger.info('API started', { url: api.url, metrics: `${api.url}/metrics` });
  if (initialTokenFile)
    logger.info('initial admin token written (cat the file; it is shown nowhere else)', { initialTokenFile });
  onShutdown(async () => {
    await api.close();
    await temporal.native.close();
    await temporal.client.close();
    await foundation.close();
  }, logger);
}

main().catch((err: unknown) => {
  logger.error('API failed', { err });
  process.exit(1);
});
