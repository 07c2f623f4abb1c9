import { createImapConnectionTester } from '../../api/imap-tester';
import type { ConnectionTestSettings } from '../../api/deps';
import { secretContext } from '../../secrets/secret-box';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startApi, type ApiHarness } from './harness';

/** Endpoints: CRUD, connection tests against a real Dovecot, the "in use by a running batch" rule, secrets. */
let api: ApiHarness;
let dovecot: DovecotServer;
const ADMIN_PASSWORD = 'Master-Secret-7f3a';
const USER_PASSWORD = 'Alice-Secret-91bc';
const tested: ConnectionTestSettings[] = [];

beforeAll(async () => {
  dovecot = await startDovecot({ masterUser: { user: 'migrator', password: ADMIN_PASSWORD } });
  await dovecot.addUser('alice@example.com', USER_PASSWORD);
  const real = createImapConnectionTester({ timeoutMs: 5000 });
  api = await startApi({
    testConnection: async (settings) => {
      tested.push(settings);
      return real(settings);
    },
  });
});
afterAll(async () => {
  await api?.close();
  await dovecot?.close();
});

const dovecotSettings = () => ({
  host: dovecot.host,
  port: dovecot.port,
  security: 'none' as const,
  provider: 'dovecot' as const,
  adminUser: 'migrator',
  adminPassword: ADMIN_PASSWORD,
});

describe('endpoints against a real Dovecot', () => {
  let id: string;

  it('creates an endpoint after a successful connection test (master user on behalf of a mailbox)', async () => {
    const res = await api.request('POST', '/endpoints', {
      json: { name: 'Dovecot source', ...dovecotSettings(), testMailbox: { userName: 'alice@example.com' } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Dovecot source',
      type: 'imap',
      host: dovecot.host,
      port: dovecot.port,
      adminUser: 'migrator',
      hasAdminPassword: true,
      maxConcurrentMigrations: 100,
      maxConcurrentIncrementalSyncs: 20,
    });
    expect(res.body).not.toHaveProperty('adminPassword');
    id = res.body.id;
    // Stored sealed, bound to the endpoint's id.
    const { rows } = await api.db.pool.query<{ admin_secret: Buffer }>(
      'select admin_secret from endpoints where id = $1',
      [id],
    );
    expect(rows[0]!.admin_secret.toString('latin1')).not.toContain(ADMIN_PASSWORD);
    expect(api.secretBox.open(rows[0]!.admin_secret, secretContext.endpointAdmin(id))).toBe(ADMIN_PASSWORD);
  });

  it('refuses to create an endpoint whose test fails, with the test result, and creates nothing', async () => {
    const res = await api.request('POST', '/endpoints', {
      json: {
        name: 'Wrong password',
        ...dovecotSettings(),
        adminPassword: 'wrong',
        testMailbox: { userName: 'alice@example.com' },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ENDPOINT_TEST_FAILED');
    expect(res.body.error.details.test).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    const { rows } = await api.db.pool.query("select 1 from endpoints where name = 'Wrong password'");
    expect(rows).toHaveLength(0);
  });

  it("shows a Gmail endpoint's published per-user quotas as its limits, with its own overrides on top", async () => {
    const res = await api.request('POST', '/endpoints?skipTest=true', {
      json: {
        name: 'Gmail',
        provider: 'gmail',
        host: 'imap.gmail.com',
        port: 993,
        security: 'tls',
        rateLimits: { download: { messagesPerSecond: 50 } },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.effectiveRateLimits).toEqual({
      download: { messagesPerSecond: 50, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: 2_500_000_000 },
      upload: { messagesPerSecond: null, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: 500_000_000 },
    });
    expect((await api.request('DELETE', `/endpoints/${res.body.id}`)).status).toBe(204);
  });

  it('creates without a test when told to skip it', async () => {
    const res = await api.request('POST', '/endpoints?skipTest=true', {
      json: { name: 'Nowhere', host: '127.0.0.1', port: 1, security: 'tls' },
    });
    expect(res.status).toBe(201);
    expect(res.body.hasAdminPassword).toBe(false);
  });

  it('tests a saved endpoint and unsaved settings', async () => {
    const saved = await api.request('POST', `/endpoints/${id}/test`, {
      json: { testMailbox: { userName: 'alice@example.com' } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ ok: true, code: 'OK' });
    const noBody = await api.request('POST', `/endpoints/${id}/test`);
    expect(noBody.status).toBe(200);
    const unsaved = await api.request('POST', '/endpoints/test', {
      json: {
        host: dovecot.host,
        port: dovecot.port,
        security: 'none',
        testMailbox: { userName: 'alice@example.com', password: USER_PASSWORD },
      },
    });
    expect(unsaved.body).toMatchObject({ ok: true, code: 'OK' });
    const refused = await api.request('POST', '/endpoints/test', {
      json: { host: '127.0.0.1', port: 1, security: 'none' },
    });
    expect(refused.status).toBe(200);
    expect(refused.body.ok).toBe(false);
  });

  it('lists and gets endpoints without any secret', async () => {
    const list = await api.request('GET', '/endpoints', { token: api.viewerToken });
    expect(list.status).toBe(200);
    expect(list.body.items.map((e: { name: string }) => e.name)).toEqual(['Dovecot source', 'Nowhere']);
    const one = await api.request('GET', `/endpoints/${id}`, { token: api.viewerToken });
    expect(one.body).toMatchObject({ id, batches: [] });
    const missing = await api.request('GET', '/endpoints/00000000-0000-4000-8000-000000000000');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ENDPOINT_NOT_FOUND']);
  });

  it('edits an endpoint, re-testing when the connection changes', async () => {
    const before = tested.length;
    const renamed = await api.request('PATCH', `/endpoints/${id}`, {
      json: { name: 'Dovecot primary', maxConcurrentMigrations: 5 },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Dovecot primary', maxConcurrentMigrations: 5, hasAdminPassword: true });
    expect(tested.length).toBe(before); // nothing about the connection changed
    const badPort = await api.request('PATCH', `/endpoints/${id}`, { json: { port: 1 } });
    expect(badPort.status).toBe(422);
    expect(badPort.body.error.code).toBe('ENDPOINT_TEST_FAILED');
    const unchanged = await api.request('GET', `/endpoints/${id}`);
    expect(unchanged.body.port).toBe(dovecot.port);
    const dup = await api.request('PATCH', `/endpoints/${id}`, { json: { name: 'nowhere' } });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'ENDPOINT_NAME_TAKEN']);
  });

  it('refuses to edit or delete an endpoint a running batch uses, naming the batches', async () => {
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ('55555555-5555-4555-8555-555555555555', 'Wave A', 'batch:Wave A', 'Syncing', $1, $1, 'x')`,
      [id],
    );
    const edit = await api.request('PATCH', `/endpoints/${id}`, { json: { maxConcurrentMigrations: 7 } });
    expect(edit.status).toBe(409);
    expect(edit.body.error).toMatchObject({
      code: 'ENDPOINT_IN_USE',
      details: { batches: [{ id: '55555555-5555-4555-8555-555555555555', name: 'Wave A', status: 'Syncing' }] },
    });
    expect(edit.body.error.message).toContain('Wave A');
    // Its rate limits alone may change: the running syncs read them at every reservation.
    const limited = await api.request('PATCH', `/endpoints/${id}`, {
      json: { rateLimits: { upload: { bytesPerSecond: 1_000_000, mailboxBytesPerDay: null } } },
    });
    expect(limited.status).toBe(200);
    expect(limited.body.rateLimits).toEqual({ upload: { bytesPerSecond: 1_000_000, mailboxBytesPerDay: null } });
    expect(limited.body.effectiveRateLimits.upload).toEqual({
      messagesPerSecond: null,
      bytesPerSecond: 1_000_000,
      bytesPerDay: null,
      mailboxBytesPerDay: null,
    });
    const negative = await api.request('PATCH', `/endpoints/${id}`, {
      json: { rateLimits: { upload: { bytesPerSecond: -1 } } },
    });
    expect(negative.status).toBe(400);
    const del = await api.request('DELETE', `/endpoints/${id}`);
    expect([del.status, del.body.error.code]).toEqual([409, 'ENDPOINT_IN_USE']);
    // A stopped batch frees the endpoint for edits, but it still cannot be deleted while the batch exists.
    await api.db.pool.query("update batches set status = 'Stopped'");
    expect((await api.request('PATCH', `/endpoints/${id}`, { json: { maxConcurrentMigrations: 7 } })).status).toBe(200);
    expect((await api.request('DELETE', `/endpoints/${id}`)).status).toBe(409);
    await api.db.pool.query('delete from batches');
    expect((await api.request('DELETE', `/endpoints/${id}`)).status).toBe(204);
    expect((await api.request('GET', `/endpoints/${id}`)).status).toBe(404);
  });

  it('refuses hostile endpoint settings with 400', async () => {
    const bad: Record<string, unknown>[] = [
      { name: 'x', host: 'imap.example.com/../../etc', port: 993, security: 'tls' },
      { name: 'x', host: 'http://imap.example.com', port: 993, security: 'tls' },
      { name: 'x', host: 'imap.example.com', port: 70000, security: 'tls' },
      { name: 'x', host: 'imap.example.com', port: 993, security: 'ssl3' },
      { name: 'x\r\ninjected', host: 'imap.example.com', port: 993, security: 'tls' },
      { name: 'x', host: 'imap.example.com', port: 993, security: 'tls', adminPassword: 'a\r\nLOGOUT' },
      { name: 'x', host: 'imap.example.com', port: 993, security: 'tls', maxConcurrentMigrations: 0 },
      { name: 'x', host: 'imap.example.com', port: '993', security: 'tls' },
      { name: 'x', host: 'imap.example.com', port: 993, security: 'tls', id: 'chosen' },
    ];
    for (const json of bad) {
      const res = await api.request('POST', '/endpoints?skipTest=true', { json });
      expect([json, res.status, res.body.error?.code]).toEqual([json, 400, 'VALIDATION_FAILED']);
    }
    const badQuery = await api.request('POST', '/endpoints?skipTest=perhaps', {
      json: { name: 'q', host: 'h', port: 1, security: 'tls' },
    });
    expect(badQuery.status).toBe(400);
  });

  it("keeps a minting method's secret sealed and write-only across edits, and drops it when the method changes kind", async () => {
    const SECRET = 'Client-Secret-Never-Shown-4d1e';
    const created = await api.request('POST', '/endpoints?skipTest=true', {
      json: {
        name: 'Exchange app',
        ...dovecotSettings(),
        adminPassword: undefined,
        adminUser: undefined,
        provider: 'm365',
        authMethod: 'm365-client-credentials',
        tenantId: 'contoso.example',
        clientId: 'app-1',
        clientSecret: SECRET,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: 'contoso.example', clientId: 'app-1', hasAdminPassword: true });
    const sealed = async () =>
      (
        await api.db.pool.query<{ admin_secret: Buffer | null }>('select admin_secret from endpoints where id = $1', [
          created.body.id,
        ])
      ).rows[0]!.admin_secret;
    expect(api.secretBox.open((await sealed())!, secretContext.endpointAdmin(created.body.id))).toBe(SECRET);
    // An edit that leaves the secret out keeps it.
    const renamed = await api.request('PATCH', `/endpoints/${created.body.id}?skipTest=true`, {
      json: { clientId: 'app-2' },
    });
    expect(renamed.body).toMatchObject({ clientId: 'app-2', hasAdminPassword: true });
    expect(api.secretBox.open((await sealed())!, secretContext.endpointAdmin(created.body.id))).toBe(SECRET);
    // Removing the tenant is refused, naming what is missing.
    const incomplete = await api.request('PATCH', `/endpoints/${created.body.id}?skipTest=true`, {
      json: { tenantId: null },
    });
    expect(incomplete.status).toBe(422);
    expect(incomplete.body.error).toMatchObject({
      code: 'ENDPOINT_CREDENTIALS_INCOMPLETE',
      details: { missing: ['tenantId'] },
    });
    // Back to a password method: the client secret is not carried over as a password.
    const plain = await api.request('PATCH', `/endpoints/${created.body.id}?skipTest=true`, {
      json: { authMethod: 'plain' },
    });
    expect(plain.body).toMatchObject({ authMethod: 'plain', hasAdminPassword: false });
    expect(await sealed()).toBeNull();
    for (const body of api.responses) expect(body).not.toContain(SECRET);
    expect(api.logger.text()).not.toContain(SECRET);
  });

  it('never returns or logs a password', () => {
    for (const secret of [ADMIN_PASSWORD, USER_PASSWORD]) {
      for (const body of api.responses) expect(body).not.toContain(secret);
      expect(api.logger.text()).not.toContain(secret);
    }
  });
});
