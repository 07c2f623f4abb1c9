/**
 * The metrics' parts on real PostgreSQL and real HTTP: the gauges read the read model as documented (statuses,
 * live leases only, pass kinds), and a worker's metrics port guards, fails and reports health as it says.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { createRegistry, createSyncMetrics } from '../../observability/metrics';
import { registerReadModelGauges } from '../../observability/metrics-gauges';
import { createMetricsExporter, startMetricsServer, type RunningMetricsServer } from '../../observability/metrics-http';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** `name{labels} value` of every sample of the registry's metric `name`, sorted. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`no metric ${name}`);
  return metric.values.map((v) => `${JSON.stringify(v.labels)} ${v.value}`).sort((a, b) => a.localeCompare(b));
}

test('the read-model gauges count batches and mailboxes by status, live leases only, and passes by kind', async () => {
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security, max_concurrent_migrations, max_concurrent_incremental_syncs)
     values ('Old IMAP', 'imap.old.example', 143, 'none', 5, 2), ('New IMAP', 'imap.new.example', 143, 'none', 8, 3)
     returning id`,
  );
  const [source, destination] = rows.map((r) => r.id) as [string, string];
  const batch = async (name: string, status: string, initialSyncAt: Date | null) => {
    const id = randomUUID();
    await db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by,
                            initial_sync_at)
       values ($1, $2, $3, $4, $5, $6, 'test', $7)`,
      [id, name, `batch:${name}`, status, source, destination, initialSyncAt],
    );
    return id;
  };
  const first = await batch('Wave 1', 'Syncing', null);
  await batch('Wave 2', 'Syncing', new Date());
  await batch('Wave 3', 'Completing', new Date());
  await batch('Wave 4', 'Failed', null);
  const mailboxes = await db.pool.query<{ id: string }>(
    `insert into mailboxes (batch_id, email, source_user, status)
     select $1, 'user' || i || '@contoso.example', 'user' || i, (array['Queued', 'Syncing', 'Syncing', 'Failed'])[i]
       from generate_series(1, 4) i returning id`,
    [first],
  );
  const [a, b, c] = mailboxes.rows.map((r) => r.id);
  await db.pool.query(
    `insert into endpoint_leases (endpoint_id, mailbox_id, kind, expires_at) values
       ($1, $3, 'migration', now() + interval '1 minute'), ($2, $3, 'migration', now() + interval '1 minute'),
       ($1, $4, 'incremental', now() + interval '1 minute'),
       ($1, $5, 'migration', now() - interval '1 minute')`,
    [source, destination, a, b, c],
  );

  const registry = new Registry();
  registerReadModelGauges(registry, db.pool);
  expect((await samples(registry, 'mailferry_batches')).filter((s) => !s.endsWith(' 0'))).toEqual([
    '{"status":"Completing"} 1',
    '{"status":"Failed"} 1',
    '{"status":"Syncing"} 2',
  ]);
  expect(await samples(registry, 'mailferry_batches')).toHaveLength(12); // every status, zeros included
  expect(await samples(registry, 'mailferry_mailboxes')).toEqual([
    '{"batch":"Wave 1","status":"Failed"} 1',
    '{"batch":"Wave 1","status":"Queued"} 1',
    '{"batch":"Wave 1","status":"Syncing"} 2',
  ]);
  // The expired lease does not count.
  expect(await samples(registry, 'mailferry_endpoint_leases')).toEqual([
    '{"endpoint":"New IMAP","kind":"incremental"} 0',
    '{"endpoint":"New IMAP","kind":"migration"} 1',
    '{"endpoint":"Old IMAP","kind":"incremental"} 1',
    '{"endpoint":"Old IMAP","kind":"migration"} 2',
  ]);
  expect(await samples(registry, 'mailferry_endpoint_lease_limit')).toEqual([
    '{"endpoint":"New IMAP","kind":"incremental"} 3',
    '{"endpoint":"New IMAP","kind":"migration"} 8',
    '{"endpoint":"Old IMAP","kind":"incremental"} 2',
    '{"endpoint":"Old IMAP","kind":"migration"} 5',
  ]);
  expect(await samples(registry, 'mailferry_passes_running')).toEqual([
    '{"pass":"final"} 1',
    '{"pass":"incremental"} 1',
    '{"pass":"initial"} 1',
  ]);
  // A removed batch leaves the next scrape.
  await db.pool.query('delete from batches where id = $1', [first]);
  expect(await samples(registry, 'mailferry_mailboxes')).toEqual([]);
  expect(await registry.metrics()).not.toMatch(/@contoso\.example|imap\.(old|new)\.example/);
});

describe('a worker metrics port', () => {
  const TOKEN = 'worker-metrics-token-0123';
  let server: RunningMetricsServer;
  let healthy = false;
  let sdk: Server;
  let unreachable: Pool;
  beforeAll(async () => {
    // Stands in for the Temporal SDK's loopback exporter: one counter in the text format.
    sdk = createServer((_req, res) =>
      res.end('# TYPE temporal_worker_start_total counter\ntemporal_worker_start_total 1\n'),
    );
    await new Promise<void>((resolve) => sdk.listen(0, '127.0.0.1', resolve));
    const registry = createRegistry();
    createSyncMetrics(registry);
    server = await startMetricsServer({
      exporter: createMetricsExporter({
        registry,
        temporalSdkUrl: `http://127.0.0.1:${(sdk.address() as AddressInfo).port}/metrics`,
        token: TOKEN,
      }),
      port: 0,
      host: '127.0.0.1',
      healthy: () => healthy,
    });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => sdk?.close(resolve));
    await unreachable?.end();
  });

  const get = (path: string, token?: string) =>
    fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  test('serves the product metrics and then the SDK scrape, only with the token', async () => {
    expect((await get('/metrics')).status).toBe(401);
    const wrong = await get('/metrics', `${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await wrong.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const ok = await get('/metrics', TOKEN);
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain('mailferry_messages_copied_total 0');
    expect(text).toContain('process_cpu_seconds_total');
    expect(text.indexOf('temporal_worker_start_total 1')).toBeGreaterThan(text.indexOf('mailferry_'));
  });

  test('reports health from the worker state, without the token', async () => {
    healthy = false;
    const down = await get('/health');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 'WORKER_NOT_RUNNING' } });
    healthy = true;
    expect((await get('/health')).status).toBe(200);
  });

  test('answers other paths and methods with the error shape', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  test('answers 503 METRICS_UNAVAILABLE when PostgreSQL cannot be read, and a comment when the SDK cannot', async () => {
    unreachable = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    unreachable.on('error', () => undefined);
    const registry = new Registry();
    registerReadModelGauges(registry, unreachable);
    const local = await startMetricsServer({
      exporter: createMetricsExporter({ registry }),
      port: 0,
      host: '127.0.0.1',
      healthy: () => true,
    });
    try {
      const res = await fetch(`${local.url}/metrics`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'METRICS_UNAVAILABLE' } });
    } finally {
      await local.close();
    }
    const withoutSdk = createMetricsExporter({
      registry: new Registry(),
      temporalSdkUrl: 'http://127.0.0.1:1/metrics',
    });
    expect(await withoutSdk.scrape()).toMatch(/^# Temporal SDK metrics unavailable: /m);
  });
});
