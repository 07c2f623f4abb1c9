import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bootstrapAdminToken } from '../../api/bootstrap';
import { loadOrCreateSecretKey } from '../../secrets/key-file';
import { apiRoutes } from '../../api/app';
import type { AnyRoute } from '../../api/route';
import { createEndpoint, okTester, startApi, type ApiHarness } from './harness';

let api: ApiHarness;
/** Connection tests the API ran (a viewer must not be able to make the server connect anywhere). */
let connectionTests = 0;
beforeAll(async () => {
  api = await startApi({
    testConnection: async (settings) => {
      connectionTests++;
      return okTester(settings);
    },
  });
});
afterAll(async () => {
  await api.close();
});

describe('authentication', () => {
  it('refuses a request without a token with 401 UNAUTHENTICATED', async () => {
    const res = await api.request('GET', '/batches', { token: null });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String), details: {} } });
  });

  it('refuses an unknown token, a malformed header and a Basic header', async () => {
    expect((await api.request('GET', '/me', { token: 'mf_nottherightone' })).status).toBe(401);
    const malformed = await api.request('GET', '/me', { token: null, headers: { authorization: 'Bearer' } });
    expect(malformed.status).toBe(401);
    const basic = await api.request('GET', '/me', {
      token: null,
      headers: { authorization: 'Basic YWRtaW46YWRtaW4=' },
    });
    expect(basic.status).toBe(401);
    expect(basic.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('answers /me with the token owner and role', async () => {
    const me = await api.request('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: 'test-admin', owner: 'admin@example.com', role: 'admin' });
    const viewer = await api.request('GET', '/me', { token: api.viewerToken });
    expect(viewer.body).toMatchObject({ owner: 'viewer@example.com', role: 'viewer' });
  });

  it('lets a viewer read', async () => {
    for (const p of ['/batches', '/endpoints', '/statistics', '/me']) {
      const res = await api.request('GET', p, { token: api.viewerToken });
      expect([p, res.status]).toEqual([p, 200]);
    }
  });

  it('refuses a viewer every admin route of the route table with 403 FORBIDDEN, and nothing changes', async () => {
    const routes = apiRoutes();
    // Every write is an admin route; the only admin read is the token list.
    const writes = routes.filter((r) => r.method !== 'get');
    expect(writes.filter((r) => r.access !== 'admin').map((r) => r.operationId)).toEqual([]);
    const adminRoutes = routes.filter((r) => r.access === 'admin');
    expect(adminRoutes.filter((r) => r.method === 'get').map((r) => r.operationId)).toEqual(['listTokens']);
    expect(adminRoutes.length).toBeGreaterThanOrEqual(16);

    // Real targets, so that a route that skipped the role check would change something visible.
    const endpointId = await createEndpoint(api, 'viewer-target', { adminUser: 'migrator', adminPassword: 'pw-1' });
    const batchId = randomUUID();
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ($1, 'viewer-target', 'batch:viewer-target', 'Created', $2, $2, 'admin@example.com')`,
      [batchId, endpointId],
    );
    const { rows: mb } = await api.db.pool.query<{ id: string }>(
      `insert into mailboxes (batch_id, email, source_user) values ($1, 'target@example.com', 'target') returning id`,
      [batchId],
    );
    const spare = await api.request('POST', '/tokens', {
      json: { name: 'spare', owner: 'o@example.com', role: 'admin' },
    });
    expect(spare.status).toBe(201);
    // An endpoint no batch uses, so that deleting it would succeed.
    const unusedEndpointId = await createEndpoint(api, 'viewer-unused');
    const ids: Record<string, string> = {
      batch: batchId,
      endpoint: endpointId,
      token: spare.body.id,
      mailbox: mb[0]!.id,
    };
    const pathFor = (route: AnyRoute) =>
      route.path
        .replace(/^\/(batches|endpoints|tokens|mailboxes)\/\{id\}/, (_, kind: string) => {
          if (route.operationId === 'deleteEndpoint') return `/endpoints/${unusedEndpointId}`;
          return `/${kind}/${ids[kind.replace(/e?s$/, '')]}`;
        })
        .replace('{mailboxId}', ids.mailbox!);
    const csv = 'EmailAddress,UserName,Password\nnew@example.com,new,pw-new\n';
    const endpoint = { name: 'by-viewer', host: 'imap.example.com', port: 993, security: 'tls' };
    // A body each route would act on; a new admin route needs one here.
    const bodies: Record<string, unknown> = {
      createToken: { name: 'by-viewer', owner: 'viewer@example.com', role: 'admin' },
      revokeToken: undefined,
      createEndpoint: endpoint,
      testUnsavedEndpoint: { host: 'imap.example.com', port: 993, security: 'tls' },
      updateEndpoint: { name: 'renamed-by-viewer' },
      deleteEndpoint: undefined,
      testEndpoint: {},
      analyzeMailbox: {
        source: { endpoint: endpointId, userName: 'alice', password: 'pw-a' },
        destination: { endpoint: endpointId, userName: 'alice', password: 'pw-b' },
      },
      createBatch: { name: 'by-viewer', sourceEndpointId: endpointId, destinationEndpointId: endpointId, csv },
      editBatch: { autoComplete: true, badItemLimit: 99 },
      deleteBatch: undefined,
      startBatch: undefined,
      stopBatch: undefined,
      resumeBatch: undefined,
      completeBatch: undefined,
      syncNowBatch: undefined,
      verifyBatch: { deep: true },
      addMailboxes: { csv },
      stopMailbox: undefined,
      startMailbox: undefined,
      resumeMailbox: undefined,
      removeMailbox: undefined,
      moveMailbox: { targetBatch: 'elsewhere' },
      setMailbox: { badItemLimit: 1 },
      setMailboxPassword: { password: 'by-viewer' },
      verifyMailbox: {},
      approveSkippedItems: undefined,
      listTokens: undefined,
    };

    const snapshot = async () => {
      const tables: Record<string, string> = {
        batches: 'select * from batches order by id',
        mailboxes: 'select * from mailboxes order by id',
        endpoints: 'select * from endpoints order by id',
        tokens: 'select id, name, owner, role, token_hash, created_at, revoked_at from api_tokens order by id',
        audit: 'select * from audit_log order by id',
      };
      const out: Record<string, unknown[]> = {};
      for (const [name, sql] of Object.entries(tables)) out[name] = (await api.db.pool.query(sql)).rows;
      return out;
    };
    const before = await snapshot();
    const testsBefore = connectionTests;
    const results: string[] = [];
    for (const route of adminRoutes) {
      expect([route.operationId, route.operationId in bodies]).toEqual([route.operationId, true]);
      const body = bodies[route.operationId];
      const p = pathFor(route);
      expect(p).not.toMatch(/[{}]/);
      const res = await api.request(route.method.toUpperCase(), p, {
        token: api.viewerToken,
        ...(body !== undefined ? { json: body } : {}),
      });
      results.push(`${route.method.toUpperCase()} ${route.path}: ${res.status} ${res.body.error?.code}`);
    }
    expect(results).toEqual(adminRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}: 403 FORBIDDEN`));
    // The same CSV routes refused as text/csv too.
    for (const p of [
      `/batches?name=by-viewer&sourceEndpointId=${endpointId}&destinationEndpointId=${endpointId}`,
      `/batches/${batchId}/mailboxes`,
    ]) {
      const res = await api.request('POST', p, { token: api.viewerToken, body: csv, contentType: 'text/csv' });
      expect([p, res.status, res.body.error?.code]).toEqual([p, 403, 'FORBIDDEN']);
    }
    expect(await snapshot()).toEqual(before);
    expect(connectionTests).toBe(testsBefore);
    // The admin token does reach these rows (the refusals above were not for want of a target).
    expect((await api.request('GET', `/batches/${batchId}`)).body.name).toBe('viewer-target');
    expect((await api.request('GET', `/endpoints/${endpointId}`)).body.name).toBe('viewer-target');
    await api.request('DELETE', `/tokens/${spare.body.id}`);
    await api.db.pool.query('delete from batches where id = $1', [batchId]);
    await api.db.pool.query('delete from endpoints where id = any($1::uuid[])', [[endpointId, unusedEndpointId]]);
  });

  it('creates a token, shows its value once, stores only its hash, and revokes it', async () => {
    const created = await api.request('POST', '/tokens', {
      json: { name: 'ci', owner: 'ci@example.com', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    const token: string = created.body.token;
    expect(token).toMatch(/^mf_[A-Za-z0-9_-]{43}$/);
    const list = await api.request('GET', '/tokens');
    expect(list.text).not.toContain(token);
    expect(list.body.items.map((t: { name: string }) => t.name)).toContain('ci');
    const stored = await api.db.pool.query<{ token_hash: Buffer }>('select token_hash from api_tokens where id = $1', [
      created.body.id,
    ]);
    expect(stored.rows[0]!.token_hash.toString('utf8')).not.toContain(token);
    expect(stored.rows[0]!.token_hash).toHaveLength(32);

    expect((await api.request('GET', '/me', { token })).status).toBe(200);
    const revoked = await api.request('DELETE', `/tokens/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const after = await api.request('GET', '/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
    // Revoking again is harmless.
    expect((await api.request('DELETE', `/tokens/${created.body.id}`)).status).toBe(200);
  });

  it('refuses to revoke the last admin token, and answers 404 for an unknown one', async () => {
    const me = await api.request('GET', '/me');
    const res = await api.request('DELETE', `/tokens/${me.body.tokenId}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('LAST_ADMIN_TOKEN');
    const unknown = await api.request('DELETE', '/tokens/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('TOKEN_NOT_FOUND');
    const malformed = await api.request('DELETE', '/tokens/not-a-uuid');
    expect(malformed.status).toBe(400);
  });

  it('validates token bodies: role, unknown fields, control characters', async () => {
    const bad = [
      { name: 'x', owner: 'o', role: 'root' },
      { name: 'x', owner: 'o', role: 'admin', extra: 1 },
      { name: 'x\u0000y', owner: 'o', role: 'admin' },
      { name: 'x'.repeat(101), owner: 'o', role: 'admin' },
    ];
    for (const json of bad) {
      const res = await api.request('POST', '/tokens', { json });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('records the token owner as "created by" and in the audit log', async () => {
    const source = await api.request('POST', '/endpoints?skipTest=true', {
      json: { name: 'audit-src', host: 'imap.example.com', port: 993, security: 'tls' },
    });
    // The workflow start fails (no Temporal here), but the refusal of a command is audited with the owner.
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ('11111111-1111-4111-8111-111111111111', 'audited', 'batch:audited', 'Completed', $1, $1, 'admin@example.com')`,
      [source.body.id],
    );
    const res = await api.request('POST', '/batches/audited/start');
    expect(res.status).toBe(409);
    const { rows } = await api.db.pool.query(
      'select actor, command, outcome, detail from audit_log where batch_name = $1',
      ['audited'],
    );
    expect(rows).toEqual([
      {
        actor: 'admin@example.com',
        command: 'start',
        outcome: 'rejected',
        detail: expect.objectContaining({ status: 'Completed', source: 'api' }),
      },
    ]);
  });
});

describe('first start', () => {
  it('bootstraps one initial admin token into a 0600 file, once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-boot-'));
    // The harness database already has an admin token: nothing is created.
    expect(await bootstrapAdminToken(api.db.pool, { dataDir: dir })).toEqual({ created: false });
    await api.db.pool.query(`update api_tokens set revoked_at = now() where role = 'admin'`);
    try {
      const first = await bootstrapAdminToken(api.db.pool, { dataDir: dir });
      expect(first.created).toBe(true);
      expect(first.tokenFile).toBe(path.join(dir, 'initial-admin-token'));
      expect((await readFile(first.tokenFile!, 'utf8')).trim()).toBe(first.token);
      expect((await stat(first.tokenFile!)).mode & 0o777).toBe(0o600);
      const me = await api.request('GET', '/me', { token: first.token! });
      expect(me.body).toMatchObject({ name: 'initial-admin', role: 'admin' });
      expect((await bootstrapAdminToken(api.db.pool, { dataDir: dir })).created).toBe(false);
    } finally {
      await api.db.pool.query(`update api_tokens set revoked_at = null where name = 'test-admin'`);
    }
  });

  it('creates the secret key file with mode 0600 and reads the same key later', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-key-'));
    const keyFile = path.join(dir, 'nested', 'secret.key');
    const created = await loadOrCreateSecretKey({ keyFile });
    expect(created.source).toBe('created');
    expect(created.key).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateSecretKey({ keyFile });
    expect(again.source).toBe('file');
    expect(again.key.equals(created.key)).toBe(true);
    const configured = await loadOrCreateSecretKey({ keyFile, key: 'ab'.repeat(32) });
    expect(configured).toMatchObject({ source: 'config' });
    await expect(loadOrCreateSecretKey({ keyFile, key: 'short' })).rejects.toThrow(/32 bytes/);
    // Processes starting at once end up with one key, and none reads the file before the key is in it (when the
    // file was created empty and then written, one in a few CI runs read it empty). Nothing else is left beside it.
    for (let round = 0; round < 20; round++) {
      const dir2 = await mkdtemp(path.join(os.tmpdir(), 'mailferry-key-'));
      const all = await Promise.all(
        Array.from({ length: 6 }, () => loadOrCreateSecretKey({ keyFile: path.join(dir2, 'k') })),
      );
      expect(new Set(all.map((b) => b.key.toString('hex'))).size).toBe(1);
      expect(all.filter((b) => b.source === 'created')).toHaveLength(1);
      expect(await readdir(dir2)).toEqual(['k']);
    }
  });
});
