import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * One scrape target per process: `GET /metrics` answers the product's registry followed by the Temporal SDK's
 * own metrics (when this process runs a worker; observability/metrics-temporal.ts), in the Prometheus text
 * format. The API mounts {@link serveMetrics} on its port; a worker process listens with
 * {@link startMetricsServer} on MAILFERRY_METRICS_PORT.
 */
export interface MetricsExporter {
  /** The exposition text of every source, the product's first. */
  scrape(): Promise<string>;
  contentType: string;
  /** MAILFERRY_METRICS_TOKEN: when set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string;
}

export interface MetricsExporterOptions {
  registry: Registry;
  /** The Temporal SDK exporter's loopback URL (`http://127.0.0.1:<port>/metrics`), in worker processes. */
  temporalSdkUrl?: string;
  token?: string;
}

export function createMetricsExporter(options: MetricsExporterOptions): MetricsExporter {
  const { registry, temporalSdkUrl } = options;
  return {
    contentType: registry.contentType,
    ...(options.token ? { token: options.token } : {}),
    async scrape() {
      const own = await registry.metrics();
      if (!temporalSdkUrl) return own;
      return `${withNewline(own)}${withNewline(await temporalSdkText(temporalSdkUrl))}`;
    },
  };
}

const withNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);

/**
 * The SDK's scrape. When it cannot be read the product's metrics are still served, with a comment saying why
 * (Prometheus ignores comments), rather than failing the whole target.
 */
async function temporalSdkText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return `# Temporal SDK metrics unavailable: HTTP ${res.status}\n`;
    return await res.text();
  } catch (err) {
    return `# Temporal SDK metrics unavailable: ${(err as Error).message.replace(/\s+/g, ' ')}\n`;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so neither the token's length nor its bytes leak through the time a refusal takes. */
function authorized(exporter: MetricsExporter, header: string | undefined): boolean {
  if (!exporter.token) return true;
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  return !!match && timingSafeEqual(digest(match[1]!), digest(exporter.token));
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message, details: {} } });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...(status === 401 ? { 'WWW-Authenticate': 'Bearer realm="metrics"' } : {}),
  });
  res.end(body);
}

/**
 * Answers one scrape: 401 UNAUTHENTICATED without the token (when one is set), 503 METRICS_UNAVAILABLE when
 * PostgreSQL cannot be read for the gauges (Prometheus then records the target as down), else the text.
 */
export async function serveMetrics(
  exporter: MetricsExporter,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!authorized(exporter, req.headers.authorization)) {
    sendError(res, 401, 'UNAUTHENTICATED', 'the metrics need Authorization: Bearer <MAILFERRY_METRICS_TOKEN>');
    return;
  }
  let text: string;
  try {
    text = await exporter.scrape();
  } catch (err) {
    // A database error names the server at most, never a password.
    sendError(res, 503, 'METRICS_UNAVAILABLE', `the metrics could not be collected: ${(err as Error).message}`);
    return;
  }
  res.writeHead(200, {
    'Content-Type': exporter.contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export interface RunningMetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The metrics port of a worker process: `GET /metrics`, and `GET /health` (no token: for container
 * healthchecks), 200 while `healthy()` says so, else 503 WORKER_NOT_RUNNING.
 */
export async function startMetricsServer(options: {
  exporter: MetricsExporter;
  port: number;
  host: string;
  healthy: () => boolean;
}): Promise<RunningMetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'METHOD_NOT_ALLOWED', 'the metrics port answers GET only');
    } else if (path === '/metrics') {
      void serveMetrics(options.exporter, req, res);
    } else if (path === '/health') {
      if (options.healthy()) {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify({ ok: true }));
      } else {
        sendError(res, 503, 'WORKER_NOT_RUNNING', 'the worker is not polling its task queue');
      }
    } else {
      sendError(res, 404, 'ROUTE_NOT_FOUND', 'the metrics port serves /metrics and /health');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
