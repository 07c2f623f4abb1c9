import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEndpoint, startApi, type ApiHarness } from './harness';

/**
 * Hostile and malformed requests get the right 4xx in the one error shape; health; the dashboard's files.
 * Temporal is deliberately unreachable here: health must say so, and a batch whose workflow cannot be started
 * must leave nothing behind. Batch creation against a real Temporal is in csv.test.ts and batches.test.ts.
 */
let api: ApiHarness;
let dashboard: ApiHarness;
let dashboardDir: string;

beforeAll(async () => {
  dashboardDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-dash-'));
  await mkdir(path.join(dashboardDir, 'assets'));
  await writeFile(path.join(dashboardDir, 'index.html'), '<!doctype html><title>mailferry</title>');
  await writeFile(path.join(dashboardDir, 'assets', 'app.js'), 'console.log(1)');
  [api, dashboard] = await Promise.all([startApi(), startApi({ dashboardDir })]);
});
afterAll(async () => {
  await Promise.all([api.close(), dashboard.close()]);
});

function expectErrorShape(res: { body: any; text: string }, code: string) {
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+/);
}

describe('bad input never makes a 500', () => {
  it('answers unknown routes with 404 ROUTE_NOT_FOUND, and a wrong method on a known path with 405', async () => {
    const res = await api.request('GET', '/nothing-here');
    expect(res.status).toBe(404);
    expectErrorShape(res, 'ROUTE_NOT_FOUND');
    // A known path with a method it does not have is 405, with the methods it does have.
    const put = await api.request('PUT', '/batches');
    expect([put.status, put.body.error.code, put.headers.get('allow')]).toEqual([
      405,
      'METHOD_NOT_ALLOWED',
      'GET, HEAD, POST',
    ]);
  });

  it('refuses hostile path parameters', async () => {
    const cases: [string, number, string][] = [
      ['/batches/..%2F..%2Fetc%2Fpasswd', 404, 'BATCH_NOT_FOUND'],
      ["/batches/1'%20or%20'1'='1", 404, 'BATCH_NOT_FOUND'],
      ['/batches/%E2%80%AE', 404, 'BATCH_NOT_FOUND'],
      [`/batches/${'a'.repeat(5000)}`, 400, 'VALIDATION_FAILED'],
      ['/endpoints/..%2F..', 400, 'VALIDATION_FAILED'],
      ['/endpoints/1%20union%20select', 400, 'VALIDATION_FAILED'],
      ['/batches/x/mailboxes/1;drop/skipped-items', 400, 'VALIDATION_FAILED'],
    ];
    for (const [p, status, code] of cases) {
      const res = await api.request('GET', p);
      expect([p.slice(0, 60), res.status, res.body.error?.code]).toEqual([p.slice(0, 60), status, code]);
    }
    const nul = await api.request('GET', '/batches/%00');
    expect(nul.status).toBeLessThan(500);
  });

  it('refuses malformed query strings: repeated keys, out-of-range pages, unknown parameters', async () => {
    for (const q of [
      'page=1&page=2',
      'pageSize=100000',
      'page=0',
      'page=-1',
      'page=1e3',
      'order=sideways',
      'colour=red',
      'search=' + 'x'.repeat(300),
    ]) {
      const res = await api.request('GET', `/batches?${q}`);
      expect([q.slice(0, 30), res.status]).toEqual([q.slice(0, 30), 400]);
      expectErrorShape(res, 'VALIDATION_FAILED');
    }
  });

  it('treats search text literally (SQL and LIKE wildcards)', async () => {
    for (const search of ["' or 1=1 --", '%', '_', '\\']) {
      const res = await api.request('GET', `/batches?search=${encodeURIComponent(search)}`);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(0);
    }
  });

  it('refuses non-object JSON bodies and prototype tricks', async () => {
    for (const body of [
      '[]',
      '"text"',
      '42',
      'null',
      '{"__proto__":{"role":"admin"},"name":"x","owner":"o","role":"viewer"}',
    ]) {
      const res = await api.request('POST', '/tokens', { body, contentType: 'application/json' });
      expect([body.slice(0, 20), res.status]).toEqual([body.slice(0, 20), 400]);
    }
  });

  it('answers a command on an unknown batch with 404 BATCH_NOT_FOUND', async () => {
    const res = await api.request('POST', '/batches/no-such-batch/start');
    expect(res.status).toBe(404);
    expectErrorShape(res, 'BATCH_NOT_FOUND');
  });
});

describe('health', () => {
  it('reports 503 UNHEALTHY naming Temporal when it is unreachable, and PostgreSQL as fine', async () => {
    const res = await api.request('GET', '/health', { token: null });
    expect(res.status).toBe(503);
    expectErrorShape(res, 'UNHEALTHY');
    expect(res.body.error.message).toBe('Temporal not reachable');
    expect(res.body.error.details.checks.postgres.ok).toBe(true);
    expect(res.body.error.details.checks.temporal.ok).toBe(false);
  });
});

describe('Temporal unreachable at batch creation', () => {
  it('deletes the rows again when the workflow cannot be started: 503 WORKFLOW_START_FAILED', async () => {
    const src = await createEndpoint(api, 'rollback-src');
    const res = await api.request(
      'POST',
      `/batches?name=csv-wave&sourceEndpointId=${src}&destinationEndpointId=${src}&autoStart=true&folderExclude=Junk,Trash`,
      {
        body: 'EmailAddress,UserName,Password\na@example.com,a,secret-pw-1\n',
        contentType: 'text/csv',
      },
    );
    expect([res.status, res.body.error.code]).toEqual([503, 'WORKFLOW_START_FAILED']);
    expectErrorShape(res, 'WORKFLOW_START_FAILED');
    const { rows } = await api.db.pool.query(
      `select (select count(*)::int from batches) as b, (select count(*)::int from mailboxes) as m,
              (select count(*)::int from audit_log where command = 'create') as a`,
    );
    expect(rows[0]).toEqual({ b: 0, m: 0, a: 0 });
    expect(res.text).not.toContain('secret-pw-1');
    expect(api.logger.text()).not.toContain('secret-pw-1');
  });
});

describe('dashboard files', () => {
  it('serves index.html at / and for client-side routes, assets as files, and keeps /api JSON', async () => {
    const root = await fetch(`${dashboard.url}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<title>mailferry</title>');
    const deep = await fetch(`${dashboard.url}/batches/Wave%201`);
    expect(await deep.text()).toContain('<title>mailferry</title>');
    const asset = await fetch(`${dashboard.url}/assets/app.js`);
    expect(await asset.text()).toBe('console.log(1)');
    const apiMiss = await dashboard.request('GET', '/api/v1/nope');
    expect(apiMiss.status).toBe(404);
    expectErrorShape(apiMiss, 'ROUTE_NOT_FOUND');
    const traversal = await fetch(`${dashboard.url}/..%2F..%2F..%2Fetc%2Fpasswd`);
    expect(await traversal.text()).not.toContain('root:');
  });

  it('answers / with 404 JSON when no dashboard is built', async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(404);
  });
});

describe('batch list', () => {
  it('sorts by name, time and counts, filters, searches and pages, with the seed columns', async () => {
    const src = await createEndpoint(api, 'list-src');
    const batches: [string, string, string[]][] = [
      ['Alpha', 'Synced', ['Synced', 'Synced', 'Failed']],
      ['beta', 'SyncedWithErrors', ['Synced', 'Failed', 'Failed', 'Queued']],
      ['Gamma_1', 'Completed', ['Completed']],
    ];
    let minute = 0;
    for (const [name, status, mailboxes] of batches) {
      const { rows } = await api.db.pool.query<{ id: string }>(
        `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by, created_at)
         values (gen_random_uuid(), $1, $2, $3, $4, $4, 'ops', now() + make_interval(mins => $5)) returning id`,
        [name, `batch:${name}`, status, src, minute++],
      );
      for (const [i, s] of mailboxes.entries()) {
        await api.db.pool.query(
          `insert into mailboxes (batch_id, email, source_user, status) values ($1, $2, 'u', $3)`,
          [rows[0]!.id, `${name}${i}@example.com`, s],
        );
      }
    }
    const names = async (q: string) => {
      const res = await api.request('GET', `/batches${q}`);
      expect(res.status).toBe(200);
      return res.body.items.map((b: { name: string }) => b.name);
    };
    expect(await names('')).toEqual(['Gamma_1', 'beta', 'Alpha']); // newest first
    expect(await names('?sort=name')).toEqual(['Alpha', 'beta', 'Gamma_1']);
    expect(await names('?sort=failed&order=desc')).toEqual(['beta', 'Alpha', 'Gamma_1']);
    expect(await names('?sort=percentageSynced&order=desc')).toEqual(['Gamma_1', 'Alpha', 'beta']);
    expect(await names('?sort=total')).toEqual(['Gamma_1', 'Alpha', 'beta']);
    expect(await names('?status=Synced,Completed&sort=name')).toEqual(['Alpha', 'Gamma_1']);
    expect(await names('?search=amm')).toEqual(['Gamma_1']);
    expect(await names('?search=_')).toEqual(['Gamma_1']);
    const page2 = await api.request('GET', '/batches?sort=name&page=2&pageSize=1');
    expect(page2.body).toMatchObject({ total: 3, page: 2, pageSize: 1, items: [{ name: 'beta' }] });
    const beyond = await api.request('GET', '/batches?page=9&pageSize=1');
    expect(beyond.body).toMatchObject({ total: 3, items: [] });
    expect(page2.body.items[0]).toEqual({
      id: expect.any(String),
      name: 'beta',
      status: 'SyncedWithErrors',
      statusLabel: 'Synced with errors',
      percentageSynced: 25,
      total: 4,
      synced: 1,
      finalized: 0,
      failed: 2,
      allowedCommands: ['stop', 'resume', 'complete', 'edit', 'remove', 'syncNow', 'verify'],
      createdAt: expect.any(String),
      createdBy: 'ops',
    });
    const stats = await api.request('GET', '/statistics');
    expect(stats.body).toEqual({
      totalMailboxes: 8,
      syncedMailboxes: 4,
      finalizedMailboxes: 1,
      failedMailboxes: 3,
      batches: 3,
    });
    await api.db.pool.query('delete from batches');
  });
});
