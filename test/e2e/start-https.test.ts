/**
 * `npm start` (entry/start.ts) with MAILFERRY_TLS_CERT/MAILFERRY_TLS_KEY: the whole product serves its API and
 * dashboard over HTTPS with the operator's certificate (self-signed here, by `openssl`), prints https URLs,
 * sends HSTS, and plain HTTP on that port gets no answer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { selfSignedCertificate, type SelfSigned } from '../fixtures/tls';
import {
  ensureDashboardBuilt,
  freePorts,
  killProducts,
  startProduct,
  stopProduct,
  type Ports,
  type Product,
} from './start-harness';

let dataDir: string;
let ports: Ports;
let tls: SelfSigned;
let product: Product;

beforeAll(async () => {
  ensureDashboardBuilt();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-start-https-'));
  [ports, tls] = await Promise.all([freePorts(), selfSignedCertificate(dataDir)]);
  product = startProduct(dataDir, ports, { MAILFERRY_TLS_CERT: tls.certFile, MAILFERRY_TLS_KEY: tls.keyFile });
  await product.running;
}, 120_000);

afterAll(async () => {
  await killProducts();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A GET trusting the test's certificate only. */
function get(urlPath: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`https://127.0.0.1:${ports.api}${urlPath}`, { ca: tls.cert }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('npm start with a TLS certificate', () => {
  it('prints https URLs and serves the API and the dashboard over HTTPS with HSTS', async () => {
    const base = `https://127.0.0.1:${ports.api}`;
    expect(product.output()).toContain(`  dashboard        ${base}/`);
    expect(product.output()).toContain(`  API              ${base}/api/v1`);

    const health = await get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', checks: { postgres: { ok: true } } });
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");

    await expect(fetch(`http://127.0.0.1:${ports.api}/api/v1/health`)).rejects.toThrow();
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await stopProduct(product)).toEqual({ code: 0, signal: null });
  });
});
