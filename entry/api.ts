/**
 * The API process (production): serves /api/v1 and the dashboard against the PostgreSQL named by DATABASE_URL
 * and the Temporal frontend named by TEMPORAL_ADDRESS. `npm start` runs the same API in-process.
 */
import { loadSettings } from '../config/settings';
import { connectTemporal, onShutdown, openFoundation, openMetrics, runApi } from './services';

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.databaseUrl || !settings.temporalAddress) {
    throw new Error('the API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start runs everything embedded)');
  }
  const foundation = await openFoundation(settings, settings.databaseUrl);
  const metrics = await openMetrics(settings, { readModel: foundation.api() });
  const temporal = await connectTemporal(settings.temporalAddress);
  const { api, initialTokenFile } = await runApi(settings, foundation, temporal.client, metrics.exporter);
  console.log(`mailferry API: ${api.url} (metrics: ${api.url}/metrics)`);
  if (initialTokenFile) console.log(`mailferry API: initial admin token written to ${initialTokenFile}`);
  onShutdown(async () => {
    await api.close();
    await temporal.native.close();
    await temporal.client.close();
    await foundation.close();
  });
}

main().catch((err: unknown) => {
  console.error(`mailferry API: ${(err as Error).message}`);
  process.exit(1);
});
