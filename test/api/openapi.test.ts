import { execFile } from 'node:child_process';
import path from 'node:path';
import { apiRoutes } from '../../api/app';
import { startApi, type ApiHarness } from './harness';

/** The OpenAPI document validates, and it matches the routes the app serves, both ways. */
let api: ApiHarness;
let doc: any;

beforeAll(async () => {
  api = await startApi();
  const res = await api.request('GET', '/openapi.json', { token: null });
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await api.close();
});

const METHODS = ['get', 'post', 'patch', 'delete', 'put'];

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // swagger-parser's dependencies are ES modules only: validate in a plain Node process.
    const script =
      "import SwaggerParser from '@apidevtools/swagger-parser';" +
      "let t='';process.stdin.on('data',d=>t+=d).on('end',async()=>{try{await SwaggerParser.validate(JSON.parse(t));console.log('VALID')}catch(e){console.log('INVALID '+e.message);process.exitCode=1}})";
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd: path.resolve(__dirname, '../..') },
        (_err, stdout, stderr) => resolve(stdout + stderr),
      );
      child.stdin!.end(JSON.stringify(doc));
    });
    expect(output.trim()).toBe('VALID');
  });

  it('lists exactly the routes the app registers, with unique operation ids', () => {
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops as object)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );
    const registered = apiRoutes().map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(documented.sort()).toEqual(registered.sort());
    const ids = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops as Record<string, { operationId: string }>).map((o) => o.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    // The routes the dashboard builds on.
    for (const route of [
      'GET /health',
      'GET /me',
      'GET /tokens',
      'POST /tokens',
      'DELETE /tokens/{id}',
      'GET /endpoints',
      'POST /endpoints',
      'GET /endpoints/{id}',
      'PATCH /endpoints/{id}',
      'DELETE /endpoints/{id}',
      'POST /endpoints/{id}/test',
      'POST /endpoints/test',
      'GET /batches',
      'POST /batches',
      'GET /batches/{id}',
      'PATCH /batches/{id}',
      'DELETE /batches/{id}',
      'POST /batches/{id}/start',
      'POST /batches/{id}/stop',
      'POST /batches/{id}/resume',
      'POST /batches/{id}/complete',
      'POST /batches/{id}/sync-now',
      'POST /batches/{id}/mailboxes',
      'GET /batches/{id}/mailboxes',
      'GET /batches/{id}/mailboxes.csv',
      'GET /batches/{id}/mailboxes/{mailboxId}/skipped-items',
      'GET /batches/{id}/progress',
      'GET /statistics',
      'GET /openapi.json',
    ]) {
      expect(documented).toContain(route);
    }
  });

  it('serves every documented operation (no ROUTE_NOT_FOUND, never a 500)', async () => {
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops as object)) {
        const url = p.replace('{id}', '00000000-0000-4000-8000-000000000000').replace('{mailboxId}', '1');
        const res = await api.request(method.toUpperCase(), url);
        expect([method, p, res.body?.error?.code === 'ROUTE_NOT_FOUND', res.status >= 500 && p !== '/health']).toEqual([
          method,
          p,
          false,
          false,
        ]);
      }
    }
  });

  it('documents request bodies from the validating schemas (required fields, no unknown fields)', () => {
    const create = doc.paths['/batches'].post;
    expect(Object.keys(create.requestBody.content)).toEqual(['application/json', 'text/csv']);
    const schema = create.requestBody.content['application/json'].schema;
    const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    expect(resolved.required).toEqual(expect.arrayContaining(['name', 'sourceEndpointId', 'destinationEndpointId']));
    expect(resolved.additionalProperties).toBe(false);
    expect(Object.keys(resolved.properties)).toEqual(
      expect.arrayContaining([
        'csv',
        'mailboxes',
        'startAfter',
        'completeAfter',
        'autoStart',
        'autoComplete',
        'badItemLimit',
        'largeItemLimit',
        'folderInclude',
        'folderExclude',
      ]),
    );
    const list = doc.paths['/batches'].get;
    expect(list.parameters.map((x: { name: string }) => x.name)).toEqual([
      'status',
      'search',
      'sort',
      'order',
      'page',
      'pageSize',
    ]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
