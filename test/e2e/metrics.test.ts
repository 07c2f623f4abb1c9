/**
 * Prometheus metrics end to end. `npm start` (entry/start.ts, one process: API and worker) moves real mail
 * between two Dovecots; its /metrics must then count exactly the messages and bytes the destination received,
 * its status gauges must say what the API says, the Temporal SDK's series must be there, and nothing in the
 * scrape may name a mailbox. A worker process (entry/worker.ts) on the same servers serves the same kinds of
 * series on its own metrics port, with a health check.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import { waitFor } from '../fixtures/wait-for';
import { ROOT, freePorts, killProducts, startProduct, stopProduct, type Ports, type Product } from './start-harness';

const USERS = ['erin@fabrikam.example', 'frank@fabrikam.example'];
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-Metr1cs!`;
const METRICS_TOKEN = 'metrics-token-3f9c2a7e81d4';
/** Messages over this are left behind as large items (the batch allows a few). */
const LARGE_ITEM_MAX_BYTES = 50_000;
const BATCH = 'Fabrikam metrics wave';

let dataDir: string;
let ports: Ports;
let product: Product;
let source: DovecotServer;
let destination: DovecotServer;
let adminToken: string;

beforeAll(async () => {
  [dataDir, ports, source, destination] = await Promise.all([
    mkdtemp(path.join(os.tmpdir(), 'mf-metrics-')),
    freePorts(),
    startDovecot({ users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
  ]);
  product = startProduct(dataDir, ports, { MAILFERRY_METRICS_TOKEN: METRICS_TOKEN });
  for (const [i, user] of USERS.entries()) {
    await source.seed(user, [
      ...Array.from({ length: 4 + i }, (_, n) => ({
        folder: n % 2 === 0 ? 'INBOX' : 'Projects',
        raw: buildMessage({ subject: `${user} message ${n}`, size: 2_000 + n * 3_000 }),
      })),
      // One message per mailbox too large for the batch: skipped, never appended.
      { folder: 'INBOX', raw: buildMessage({ subject: `${user} large`, size: LARGE_ITEM_MAX_BYTES + 10_000 }) },
    ]);
  }
  await product.running;
  adminToken = (await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).trim();
}, 120_000);

afterAll(async () => {
  if (product) await stopProduct(product).catch(() => undefined);
  await killProducts();
  await Promise.allSettled([source?.close(), destination?.close()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, urlPath: string, json?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1${urlPath}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: json !== undefined ? JSON.stringify(json) : undefined,
  });
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and HELP/TYPE lines skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The one sample of `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string, token?: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/;

test('after a real sync the scrape counts what the destination received, and its gauges agree with the API', async () => {
  const sourceEndpoint = await api('POST', '/endpoints', {
    name: 'Old IMAP',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const destinationEndpoint = await api('POST', '/endpoints', {
    name: 'New IMAP',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    maxConcurrentMigrations: 7,
    maxConcurrentIncrementalSyncs: 3,
  });
  const csv = [
    'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
    ...USERS.map((u) => `${u},${u},${PASSWORD(u)},${u},${PASSWORD(u)}`),
  ].join('\n');
  const batch = await api('POST', '/batches', {
    name: BATCH,
    sourceEndpointId: sourceEndpoint.id,
    destinationEndpointId: destinationEndpoint.id,
    largeItemLimit: 5,
    csv,
  });
  await waitFor(async () => (await api('GET', `/batches/${batch.id}`)).status === 'Created', 'the batch Created', {
    timeoutMs: 30_000,
  });
  await api('PATCH', `/batches/${batch.id}`, { largeItemMaxBytes: LARGE_ITEM_MAX_BYTES });
  await api('POST', `/batches/${batch.id}/start`);
  await waitFor(async () => (await api('GET', `/batches/${batch.id}`)).status === 'Synced', 'the batch Synced', {
    timeoutMs: 90_000,
    describe: () => api('GET', `/batches/${batch.id}`),
  });

  // What the destination holds, counted on the destination.
  let messages = 0;
  let bytes = 0;
  for (const user of USERS) {
    for (const m of await destination.readMailbox(user)) {
      messages++;
      bytes += m.size;
    }
  }
  expect(messages).toBe(4 + 5); // every message but the two large ones

  const refused = await scrape(`http://127.0.0.1:${ports.api}/metrics`);
  expect(refused.status).toBe(401);
  expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

  const scraped = await scrape(`http://127.0.0.1:${ports.api}/metrics`, METRICS_TOKEN);
  expect(scraped.status).toBe(200);
  expect(scraped.type).toBe('text/plain; version=0.0.4; charset=utf-8');
  const samples = parseExposition(scraped.text);

  expect({
    copied: valueOf(samples, 'mailferry_messages_copied_total'),
    bytes: valueOf(samples, 'mailferry_bytes_copied_total'),
    skippedLarge: valueOf(samples, 'mailferry_messages_skipped_total', { reason: 'large' }),
    skippedBad: valueOf(samples, 'mailferry_messages_skipped_total', { reason: 'bad' }),
    synced: valueOf(samples, 'mailferry_sync_duration_seconds_count', { pass: 'initial', outcome: 'synced' }),
    running: valueOf(samples, 'mailferry_syncs_running', { pass: 'initial' }),
  }).toEqual({ copied: messages, bytes, skippedLarge: 2, skippedBad: 0, synced: 2, running: 0 });
  expect(valueOf(samples, 'mailferry_sync_attempts_total', { pass: 'initial' })).toBeGreaterThanOrEqual(2);

  // The status gauges say what the API says.
  const batches: any[] = (await api('GET', '/batches')).items;
  const mailboxes: any[] = (await api('GET', `/batches/${batch.id}/mailboxes`)).items;
  const byStatus = (items: any[]) =>
    items.reduce<Record<string, number>>((n, x) => ({ ...n, [x.status]: (n[x.status] ?? 0) + 1 }), {});
  const gauges = (name: string, labels: Record<string, string> = {}) =>
    Object.fromEntries(
      samples
        .filter((s) => s.name === name && s.value > 0)
        .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .map((s) => [s.labels.status, s.value]),
    );
  expect(gauges('mailferry_batches')).toEqual(byStatus(batches));
  expect(gauges('mailferry_mailboxes', { batch: BATCH })).toEqual(byStatus(mailboxes));
  expect(byStatus(mailboxes)).toEqual({ Synced: 2 });
  expect(valueOf(samples, 'mailferry_batches', { status: 'Failed' })).toBe(0);
  expect(valueOf(samples, 'mailferry_endpoint_lease_limit', { endpoint: 'New IMAP', kind: 'migration' })).toBe(7);
  expect(valueOf(samples, 'mailferry_endpoint_lease_limit', { endpoint: 'New IMAP', kind: 'incremental' })).toBe(3);
  expect(valueOf(samples, 'mailferry_endpoint_leases', { endpoint: 'New IMAP', kind: 'migration' })).toBe(0);
  expect(valueOf(samples, 'mailferry_passes_running', { pass: 'initial' })).toBe(0);

  // The Temporal SDK's runtime metrics, in the same scrape.
  expect(samples.some((s) => s.name.startsWith('temporal_worker_task_slots_available'))).toBe(true);
  expect(samples.some((s) => s.name.startsWith('temporal_activity_execution_latency_seconds'))).toBe(true);

  // No mailbox address, and no secret.
  for (const user of USERS) expect(scraped.text).not.toContain(user);
  expect(scraped.text).not.toMatch(EMAIL);
  for (const secret of [adminToken, METRICS_TOKEN, ...USERS.map(PASSWORD)]) expect(scraped.text).not.toContain(secret);
}, 240_000);

/** `entry/worker.ts` on the start's PostgreSQL and Temporal, metrics on `metricsPort`. */
function spawnWorker(metricsPort: number, dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'entry/worker.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: `postgres://postgres:mailferry@127.0.0.1:${ports.postgres}/mailferry`,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      // A queue of its own: the batches of the start above stay with the start's worker.
      TEMPORAL_TASK_QUEUE: `metrics-worker-${randomUUID()}`,
      MAILFERRY_SECRET_KEY: randomBytes(32).toString('base64'),
      MAILFERRY_DATA_DIR: dataDir,
      MAILFERRY_METRICS_PORT: String(metricsPort),
      MAILFERRY_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test('a worker process serves its own and the Temporal SDK metrics and its health on MAILFERRY_METRICS_PORT', async () => {
  const metricsPort = await freePort();
  const workerDir = await mkdtemp(path.join(os.tmpdir(), 'mf-metrics-worker-'));
  const { child, exited, output } = spawnWorker(metricsPort, workerDir);
  const base = `http://127.0.0.1:${metricsPort}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the worker exited:\n${output()}`);
        return (await fetch(`${base}/health`).catch(() => undefined))?.status === 200;
      },
      'the worker to report healthy',
      { timeoutMs: 90_000, intervalMs: 250, failFast: true, describe: output },
    );
    const started = output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'worker started');
    expect(started).toMatchObject({ metrics: `${base}/metrics`, health: `${base}/health` });
    expect((await scrape(`${base}/metrics`)).status).toBe(401);
    const scraped = await scrape(`${base}/metrics`, METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    const samples = parseExposition(scraped.text);
    expect(valueOf(samples, 'mailferry_messages_copied_total')).toBe(0);
    expect(valueOf(samples, 'mailferry_sync_attempts_total', { pass: 'initial' })).toBe(0);
    expect(samples.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
    // The worker polls: the SDK reports its slots and its long polls.
    expect(samples.some((s) => s.name.startsWith('temporal_worker_task_slots_available'))).toBe(true);
    expect(samples.some((s) => s.name.startsWith('temporal_long_request'))).toBe(true);
    // The read model's gauges are the API's to report, once per installation.
    expect(samples.some((s) => s.name === 'mailferry_batches')).toBe(false);
    expect(scraped.text).not.toMatch(EMAIL);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
    await rm(workerDir, { recursive: true, force: true });
  }
}, 150_000);

test('a worker whose metrics port is taken stops at once and names the setting', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const workerDir = await mkdtemp(path.join(os.tmpdir(), 'mf-metrics-worker-'));
  const { child, exited, output } = spawnWorker((taken.address() as AddressInfo).port, workerDir);
  try {
    expect(await exited).toBe(1);
    expect(output()).toMatch(/MAILFERRY_METRICS_PORT \d+ is in use by another program; set MAILFERRY_METRICS_PORT/);
  } finally {
    child.kill('SIGKILL');
    taken.close();
    await rm(workerDir, { recursive: true, force: true });
  }
}, 60_000);
