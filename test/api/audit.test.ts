import { randomUUID } from 'node:crypto';
import { startAuditRetention } from '../../api/audit-retention';
import { deleteAuditOlderThan, insertAuditEntries, type AuditRecord } from '../../db/audit';
import { deleteBatchRows, insertBatchRow } from '../../db/batches';
import { silentLogger } from '../../observability/logger';
import { waitFor } from '../fixtures/wait-for';
import { createEndpoint, startApi, type ApiHarness } from './harness';

/** GET /audit: the audit log, filtered and paged, newest first; entries outlive their batch; retention. */
let api: ApiHarness;
const PASSWORD = 'Audit-Secret-5d2e';
let batchId: string;

const entry = (over: Partial<AuditRecord>): AuditRecord => ({
  batchId,
  batchName: 'Wave A',
  actor: 'alice@example.com',
  command: 'start',
  outcome: 'accepted',
  detail: {},
  ...over,
});

beforeAll(async () => {
  api = await startApi();
  const source = await createEndpoint(api, 'Audit source', { adminUser: 'migrator', adminPassword: PASSWORD });
  const destination = await createEndpoint(api, 'Audit destination', {
    adminUser: 'migrator',
    adminPassword: PASSWORD,
  });
  batchId = randomUUID();
  await insertBatchRow(api.db.pool, {
    id: batchId,
    name: 'Wave A',
    workflowId: `batch-${batchId}`,
    sourceEndpointId: source,
    destinationEndpointId: destination,
    createdBy: 'alice@example.com',
    startAfter: null,
    completeAfter: null,
    autoStart: false,
    autoComplete: false,
    badItemLimit: 10,
    largeItemLimit: 0,
    folderInclude: [],
    folderExclude: [],
  });
  await insertAuditEntries(api.db.pool, [
    entry({ command: 'create', at: '2026-01-01T10:00:00Z', detail: { source: 'api', mailboxes: 2 } }),
    entry({ command: 'start', at: '2026-01-02T10:00:00Z' }),
    entry({ command: 'stop', actor: 'bob@example.com', at: '2026-01-03T10:00:00Z' }),
    entry({
      command: 'complete',
      actor: 'bob@example.com',
      outcome: 'rejected',
      at: '2026-01-04T10:00:00Z',
      detail: { source: 'api', status: 'Stopped', reason: 'status' },
    }),
    entry({ batchId: null, batchName: 'Nowhere', command: 'start', outcome: 'rejected', at: '2026-01-05T10:00:00Z' }),
  ]);
});
afterAll(async () => {
  await api?.close();
});

const commands = (body: { items: { command: string }[] }) => body.items.map((i) => i.command);

describe('GET /audit', () => {
  it('lists every entry newest first, with the documented fields', async () => {
    const res = await api.request('GET', '/audit');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 5, page: 1, pageSize: 50 });
    expect(commands(res.body)).toEqual(['start', 'complete', 'stop', 'start', 'create']);
    expect(res.body.items[1]).toEqual({
      id: expect.any(String),
      at: '2026-01-04T10:00:00.000Z',
      batchId,
      batchName: 'Wave A',
      actor: 'bob@example.com',
      command: 'complete',
      outcome: 'rejected',
      detail: { source: 'api', status: 'Stopped', reason: 'status' },
    });
  });

  it('filters by batch id or name, actor, command, outcome and time range', async () => {
    const get = async (q: string) => {
      const res = await api.request('GET', `/audit?${q}`);
      expect(res.status).toBe(200);
      return commands(res.body);
    };
    expect(await get(`batch=${batchId}`)).toEqual(['complete', 'stop', 'start', 'create']);
    expect(await get('batch=wave%20a')).toEqual(['complete', 'stop', 'start', 'create']);
    expect(await get('batch=Nowhere')).toEqual(['start']);
    expect(await get('actor=bob@example.com')).toEqual(['complete', 'stop']);
    expect(await get('command=start')).toEqual(['start', 'start']);
    expect(await get('outcome=rejected')).toEqual(['start', 'complete']);
    expect(await get('since=2026-01-02T10:00:00Z&until=2026-01-04T10:00:00Z')).toEqual(['stop', 'start']);
    expect(await get('actor=bob@example.com&outcome=accepted')).toEqual(['stop']);
    expect(await get('actor=nobody')).toEqual([]);
  });

  it('pages like the other lists', async () => {
    const first = await api.request('GET', '/audit?pageSize=2');
    expect(first.body).toMatchObject({ total: 5, page: 1, pageSize: 2 });
    expect(commands(first.body)).toEqual(['start', 'complete']);
    const third = await api.request('GET', '/audit?pageSize=2&page=3');
    expect(commands(third.body)).toEqual(['create']);
    const beyond = await api.request('GET', '/audit?pageSize=2&page=9');
    expect(beyond.body).toMatchObject({ items: [], total: 5, page: 9 });
  });

  it('a viewer may read it; without a token it is 401', async () => {
    const res = await api.request('GET', '/audit', { token: api.viewerToken });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(5);
    expect((await api.request('GET', '/audit', { token: null })).status).toBe(401);
  });

  it('refuses a bad since, outcome, page or an unknown parameter with 400 VALIDATION_FAILED', async () => {
    for (const q of [
      'since=yesterday',
      'until=2026-01-01',
      'outcome=failed',
      'page=0',
      'pageSize=501',
      'colour=red',
      'actor=a%0Ab',
    ]) {
      const res = await api.request('GET', `/audit?${q}`);
      expect(`${q}: ${res.status} ${res.body.error?.code}`).toBe(`${q}: 400 VALIDATION_FAILED`);
    }
  });
});

describe('audit entries and the batch they name', () => {
  it('outlive a removed batch, the removal included', async () => {
    await insertAuditEntries(api.db.pool, [entry({ command: 'remove', at: '2026-01-06T10:00:00Z' })]);
    await deleteBatchRows(api.db.pool, batchId);
    const { rows } = await api.db.pool.query('select count(*)::int as n from batches where id = $1', [batchId]);
    expect(rows[0].n).toBe(0);
    const res = await api.request('GET', '/audit?batch=Wave%20A');
    expect(commands(res.body)).toEqual(['remove', 'complete', 'stop', 'start', 'create']);
    expect(res.body.items[0]).toMatchObject({ batchId, batchName: 'Wave A', outcome: 'accepted' });
  });

  it('go with the batch only when a creation is undone (withAudit)', async () => {
    const other = randomUUID();
    await insertAuditEntries(api.db.pool, [entry({ batchId: other, batchName: 'Never', command: 'create' })]);
    await deleteBatchRows(api.db.pool, other, { withAudit: true });
    expect((await api.request('GET', '/audit?batch=Never')).body.total).toBe(0);
  });
});

describe('retention', () => {
  it('deletes entries older than the retention and keeps the rest', async () => {
    const fresh = new Date(Date.now() - 60_000).toISOString();
    await insertAuditEntries(api.db.pool, [
      entry({ batchName: 'Retained', command: 'start', at: fresh }),
      entry({ batchName: 'Retained', command: 'stop', at: new Date(Date.now() - 400 * 86_400_000).toISOString() }),
    ]);
    const before = (await api.request('GET', '/audit')).body.total;
    // Everything from January 2026 and the 400-day-old entry are past a 30-day retention; the fresh one is not.
    const deleted = await deleteAuditOlderThan(api.db.pool, 30 * 86_400_000);
    expect(deleted).toBe(before - 1);
    const res = await api.request('GET', '/audit');
    expect(res.body.total).toBe(1);
    expect(res.body.items[0]).toMatchObject({ batchName: 'Retained', command: 'start' });
    expect(await deleteAuditOlderThan(api.db.pool, 30 * 86_400_000)).toBe(0);
  });

  it('runs as soon as the API starts it, and logs what it deleted', async () => {
    await insertAuditEntries(api.db.pool, [
      entry({ batchName: 'Expired', at: new Date(Date.now() - 2 * 86_400_000).toISOString() }),
    ]);
    const logged: string[] = [];
    const stop = startAuditRetention(api.db.pool, 86_400_000, {
      ...silentLogger,
      info: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
      warn: (message) => logged.push(message),
      error: (message) => logged.push(message),
    });
    try {
      await waitFor(
        async () => (await api.request('GET', '/audit?batch=Expired')).body.total === 0,
        'the expired entry to be deleted',
      );
      await waitFor(() => logged.length > 0, 'the log line');
      expect(logged).toEqual(['old audit entries deleted {"deleted":1,"retentionMs":86400000}']);
    } finally {
      stop();
    }
  });
});

test('no secret appears in any reply', () => {
  // Runs last: every reply above is in api.responses, the endpoint creations' included.
  expect(api.responses.length).toBeGreaterThan(20);
  for (const text of api.responses) expect(text).not.toContain(PASSWORD);
});
