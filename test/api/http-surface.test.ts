import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONTENT_SECURITY_POLICY } from '../../api/security-headers';
import { insertToken } from '../../api/tokens-store';
import { selfSignedCertificate } from '../fixtures/tls';
import { startApi, type ApiHarness, type ApiResponse } from './harness';

/**
 * The HTTP surface as an operator exposes it: helmet's headers with the dashboard's Content-Security-Policy, HSTS
 * only over HTTPS (the API's own, or a trusted proxy's X-Forwarded-Proto), per-IP limits on failed
 * authentication and on connection tests, tokens that expire and record their last use, and HTTPS built in with a
 * self-signed certificate made here by `openssl`, reached by the CLI through NODE_EXTRA_CA_CERTS.
 */
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

let api: ApiHarness;
let proxied: ApiHarness;
let tlsDir: string;

beforeAll(async () => {
  [api, proxied] = await Promise.all([
    startApi(),
    startApi({ trustProxy: 'loopback', rateLimits: { authFailures: { limit: 5, windowMs: 60_000 } } }),
  ]);
  tlsDir = await mkdtemp(path.join(tmpdir(), 'mailferry-tls-'));
});
afterAll(async () => {
  await Promise.all([api?.close(), proxied?.close()]);
  if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
});

function expectErrorShape(res: { body: any }, code: string) {
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
}

describe('security headers', () => {
  it("sends helmet's headers and the dashboard's CSP, with no inline scripts allowed, and no HSTS over HTTP", async () => {
    const res = await api.request('GET', '/me');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp.split(';').length).toBe(Object.keys(CONTENT_SECURITY_POLICY).length);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('sends HSTS when a trusted proxy says the request came over HTTPS, and not when an untrusted client says so', async () => {
    const forwarded = { 'x-forwarded-proto': 'https' };
    const viaProxy = await proxied.request('GET', '/me', { headers: forwarded });
    expect(viaProxy.headers.get('strict-transport-security')).toMatch(/^max-age=31536000; includeSubDomains$/);
    const direct = await api.request('GET', '/me', { headers: forwarded });
    expect(direct.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('rate limits', () => {
  it('answers a brute-force burst of bad tokens with 429 TOO_MANY_AUTH_FAILURES after 30 failures', async () => {
    const statuses: number[] = [];
    let last: ApiResponse | undefined;
    for (let i = 0; i < 35; i++) {
      last = await api.request('GET', '/batches', { token: `mf_guess${i}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(30).fill(401), ...Array(5).fill(429)]);
    expectErrorShape(last!, 'TOO_MANY_AUTH_FAILURES');
    expect(last!.body.error.details).toMatchObject({ limit: 30, windowSeconds: 300 });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // The address stays locked out for the window, whatever token it sends; public routes stay open.
    expect((await api.request('GET', '/me')).status).toBe(429);
    expect((await api.request('GET', '/openapi.json', { token: null })).status).toBe(200);
  });

  it('counts only refused tokens, per client address as a trusted proxy tells it', async () => {
    for (let i = 0; i < 20; i++) expect((await proxied.request('GET', '/me')).status).toBe(200);
    const from = (ip: string) => ({ token: 'mf_wrong', headers: { 'x-forwarded-for': ip } });
    const attacker: number[] = [];
    for (let i = 0; i < 6; i++) attacker.push((await proxied.request('GET', '/me', from('203.0.113.7'))).status);
    expect(attacker).toEqual([401, 401, 401, 401, 401, 429]);
    // Another client behind the same proxy is not locked out, and neither is the proxy's own address.
    expect((await proxied.request('GET', '/me', from('198.51.100.20'))).status).toBe(401);
    expect((await proxied.request('GET', '/me')).status).toBe(200);
  });

  it('limits connection tests to 20 a minute per address with 429 TOO_MANY_CONNECTION_TESTS; skipTest is not a test', async () => {
    const settings = { host: 'imap.example.com', port: 993, security: 'tls' };
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await proxied.request('POST', '/endpoints/test', { json: settings })).status);
    }
    expect(statuses).toEqual([...Array(20).fill(200), 429]);
    const refused = await proxied.request('POST', '/endpoints', { json: { name: 'tested', ...settings } });
    expectErrorShape(refused, 'TOO_MANY_CONNECTION_TESTS');
    const skipped = await proxied.request('POST', '/endpoints?skipTest=true', {
      json: { name: 'untested', ...settings },
    });
    expect(skipped.status).toBe(201);
  });
});

describe('token expiry and last use', () => {
  async function tokenRow(harness: ApiHarness, id: string) {
    const list = await harness.call('GET', '/tokens');
    return list.items.find((t: { id: string }) => t.id === id);
  }

  it('creates a token with an expiry, lists it, and refuses it with 401 TOKEN_EXPIRED once past', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    // `api` has locked 127.0.0.1 out above (the brute-force test); `proxied` has not.
    const target = proxied;
    const res = await target.request('POST', '/tokens', {
      json: { name: 'temp', owner: 'contractor@example.com', role: 'viewer', expiresAt },
    });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe(expiresAt);
    expect((await target.request('GET', '/me', { token: res.body.token })).status).toBe(200);
    expect(await tokenRow(target, res.body.id)).toMatchObject({ expiresAt, lastUsedAt: expect.any(String) });

    await target.db.pool.query(`update api_tokens set expires_at = now() - interval '1 second' where id = $1`, [
      res.body.id,
    ]);
    const refused = await target.request('GET', '/me', { token: res.body.token });
    expect(refused.status).toBe(401);
    expectErrorShape(refused, 'TOKEN_EXPIRED');
    expect(refused.body.error.details.expiredAt).toEqual(expect.any(String));
    expect((await tokenRow(target, res.body.id)).expiresAt).toBe(refused.body.error.details.expiredAt);
  });

  it('refuses an expiry in the past or without a time zone', async () => {
    for (const expiresAt of ['2020-01-01T00:00:00Z', '2999-01-01T00:00:00']) {
      const res = await proxied.request('POST', '/tokens', {
        json: { name: 'bad', owner: 'x@example.com', role: 'viewer', expiresAt },
      });
      expect([expiresAt, res.status, res.body.error.code]).toEqual([expiresAt, 400, 'VALIDATION_FAILED']);
    }
  });

  it('records the last use at most once a minute', async () => {
    const { row, token } = await insertToken(proxied.db.pool, {
      name: 'busy',
      owner: 'ci@example.com',
      role: 'viewer',
    });
    expect(row.last_used_at).toBeNull();
    const lastUsed = async () =>
      (await proxied.db.pool.query('select last_used_at from api_tokens where id = $1', [row.id])).rows[0].last_used_at;
    await proxied.request('GET', '/me', { token });
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    for (let i = 0; i < 5; i++) await proxied.request('GET', '/me', { token });
    expect(await lastUsed()).toEqual(first);
    await proxied.db.pool.query(`update api_tokens set last_used_at = now() - interval '2 minutes' where id = $1`, [
      row.id,
    ]);
    const stale = await lastUsed();
    await proxied.request('GET', '/me', { token });
    expect((await lastUsed()).getTime()).toBeGreaterThan(stale.getTime());
  });
});

/** A GET over HTTPS trusting `ca`, which global fetch cannot be told to. */
function httpsGet(
  url: string,
  ca: Buffer,
  token: string,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS built in', () => {
  it('serves the API over HTTPS with HSTS, and the CLI reaches it through NODE_EXTRA_CA_CERTS', async () => {
    const { cert, key, certFile } = await selfSignedCertificate(tlsDir);
    const secure = await startApi({ tls: { cert, key } });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsGet(`${secure.url}/api/v1/me`, cert, secure.adminToken);
      expect(res.status).toBe(200);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      // Plain HTTP on the HTTPS port gets no answer from the API.
      await expect(fetch(secure.url.replace('https:', 'http:') + '/api/v1/me')).rejects.toThrow();

      const cli = (env: Record<string, string>) =>
        run(process.execPath, [path.join(ROOT, 'cli', 'mailferry.cjs'), 'me', '--json'], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            HOME: tlsDir,
            MAILFERRY_URL: secure.url,
            MAILFERRY_TOKEN: secure.adminToken,
            ...env,
          },
        });
      const trusted = await cli({ NODE_EXTRA_CA_CERTS: certFile });
      expect(JSON.parse(trusted.stdout)).toMatchObject({ owner: 'admin@example.com', role: 'admin' });
      const untrusted = await cli({}).catch((err: { code: number; stderr: string }) => err);
      expect((untrusted as { code: number }).code).toBe(3);
      expect((untrusted as { stderr: string }).stderr).toContain('NODE_EXTRA_CA_CERTS');
      expect((untrusted as { stderr: string }).stderr).not.toContain(secure.adminToken);
    } finally {
      await secure.close();
    }
  });
});
