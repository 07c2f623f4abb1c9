import { createServer } from 'node:net';
import type { MetricsExporterConfig } from '@temporalio/worker';

/**
 * Turns on the Temporal SDK's own metrics (`temporal_…`: task slots, poll latency, schedule-to-start, activity
 * and workflow task failures) through its Prometheus exporter, bound on a free loopback port that only this
 * process reads: `createMetricsExporter` (metrics-http.ts) appends that scrape to the product's, so each process stays one
 * scrape target. Names follow Prometheus' conventions (`_total` counters, durations in `_seconds`).
 *
 * The options go into the process's one `Runtime.install` (entry/services.ts installTemporalRuntime), before its
 * first Temporal connection. Also returns the exporter's URL.
 */
export async function sdkPrometheusTelemetry(): Promise<{ metrics: MetricsExporterConfig; url: string }> {
  const port = await freeLoopbackPort();
  return {
    metrics: {
      prometheus: {
        bindAddress: `127.0.0.1:${port}`,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
    url: `http://127.0.0.1:${port}/metrics`,
  };
}

/** A port free now on 127.0.0.1 (the SDK binds it a moment later; nothing else is meant to take it between). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
