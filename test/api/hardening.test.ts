import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnvironment } from '../fixtures/temporal';
import { createEndpoint, startApi, workflowExists, type ApiHarness } from './harness';

/**
 * Risks an audit found at the API's edges: invisible and bidi characters in names shown to admins, a wrong
 * method on a known path, requests Node's HTTP parser refuses, two requests taking the same mailbox at once, and
 * a batch whose workflow cannot be started. `api` has an unreachable Temporal; `live` a real
 * `temporal server start-dev` (no worker polls its task queue: workflows are started, never run).
 */
let api: ApiHarness;
let live: ApiHarness;
let env: TestWorkflowEnvironment;
let src: string;
let liveSrc: string;
const taskQueue = `hardening-test-${randomUUID()}`;

beforeAll(async () => {
  [api, env] = await Promise.all([startApi(), devServerEnvironment()]);
  live = await startApi({ temporal: env.client, taskQueue });
  [src, liveSrc] = await Promise.all([createEndpoint(api, 'src'), createEndpoint(live, 'live-src')]);
}, 90_000);
afterAll(async () => {
  await Promise.all([api?.close(), live?.close()]);
  await env?.teardown();
});

function expectErrorShape(res: { body: any; text: string }, code: string) {
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+/);
}

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** Every invisible or bidi formatting character the audit named. */
const HOSTILE = [
  ...[0x202a, 0x202b, 0x202c, 0x202d, 0x202e], // embeddings and overrides
  ...[0x2066, 0x2067, 0x2068, 0x2069], // isolates
  ...[0x200e, 0x200f], // directional marks
  ...[0x200b, 0x200c, 0x200d, 0x2060, 0xfeff], // zero-width characters
];

describe('invisible and bidirectional characters in names shown to admins', () => {
  it('refuses each of them in a token name, naming the field and the character', async () => {
    for (const cp of HOSTILE) {
      const name = `ci${String.fromCodePoint(cp)}exe.txt`;
      const res = await api.request('POST', '/tokens', { json: { name, owner: 'ops@example.com', role: 'viewer' } });
      expect([hex(cp), res.status, res.body.error?.code]).toEqual([hex(cp), 400, 'VALIDATION_FAILED']);
      expectErrorShape(res, 'VALIDATION_FAILED');
      expect(res.body.error.message).toContain('(body name)');
      expect(res.body.error.message).toContain(`invisible or bidirectional formatting characters (${hex(cp)})`);
      expect(res.body.error.details.issues).toEqual([
        { path: 'name', code: 'custom', message: expect.stringContaining(hex(cp)) },
      ]);
    }
    const { rows } = await api.db.pool.query<{ n: number }>(
      `select count(*)::int as n from api_tokens where name like 'ci%'`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses them in token owners, endpoint names and admin users, batch names and folders', async () => {
    const rlo = '\u202e';
    const cases: [string, string, unknown, string][] = [
      ['POST', '/tokens', { name: 'ok', owner: `mallory${rlo}moc.elpmaxe@`, role: 'admin' }, 'owner'],
      [
        'POST',
        '/endpoints?skipTest=true',
        { name: `Old\u2066 Dovecot`, host: 'imap.example.com', port: 993, security: 'tls' },
        'name',
      ],
      [
        'POST',
        '/endpoints?skipTest=true',
        { name: 'Fine', host: 'imap.example.com', port: 993, security: 'tls', adminUser: `migr\ufeffator` },
        'adminUser',
      ],
      ['PATCH', `/endpoints/${src}?skipTest=true`, { name: `src\u200f` }, 'name'],
      [
        'POST',
        '/batches',
        { name: `wave${rlo}1`, sourceEndpointId: src, destinationEndpointId: src, mailboxes: [] },
        'name',
      ],
      [
        'POST',
        '/batches',
        {
          name: 'wave-folders',
          sourceEndpointId: src,
          destinationEndpointId: src,
          folderExclude: ['Ju\u200dnk'],
          csv: 'EmailAddress,UserName,Password\na@example.com,a,p\n',
        },
        'folderExclude.0',
      ],
    ];
    for (const [method, path, json, field] of cases) {
      const res = await api.request(method, path, { json });
      expect([path, field, res.status, res.body.error?.code]).toEqual([path, field, 400, 'VALIDATION_FAILED']);
      expect(res.body.error.details.issues).toContainEqual({
        path: field,
        code: 'custom',
        message: expect.stringMatching(/^must not contain invisible or bidirectional formatting characters \(U\+/),
      });
    }
    const endpoint = await api.request('GET', `/endpoints/${src}`);
    expect(endpoint.body.name).toBe('src');
    const { rows } = await api.db.pool.query<{ b: number; e: number }>(
      'select (select count(*)::int from batches) as b, (select count(*)::int from endpoints) as e',
    );
    expect(rows[0]).toEqual({ b: 0, e: 1 });
  });

  it('still accepts names in any script, accents and emoji', async () => {
    for (const name of ['Zoë Ångström', 'מיגרציה', 'ترحيل', '移行チーム', 'wave 🚀']) {
      const res = await api.request('POST', '/tokens', { json: { name, owner: name, role: 'viewer' } });
      expect([name, res.status]).toEqual([name, 201]);
    }
  });

  it('reports them in CSV cells with the line and column, and creates nothing', async () => {
    const csv = [
      'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
      'good@example.com,good,pw-1,,',
      'ali\u200bce@example.com,alice,pw-2,,',
      'bob@example.com,bob\u202egpj.exe,pw-3,,',
      '"carol@example.com","carol","pw-4","carol\u2069@new.example","pw-5"',
      // Invisible characters in a password are the user's business: passwords are never shown.
      'dave@example.com,dave,pw\u200b-6,,',
    ].join('\r\n');
    const res = await api.request('POST', '/batches', {
      json: { name: 'csv-bidi', sourceEndpointId: src, destinationEndpointId: src, csv },
    });
    expect([res.status, res.body.error.code]).toEqual([422, 'CSV_INVALID']);
    expect(res.body.error.details.problems).toEqual([
      {
        line: 3,
        column: 'EmailAddress',
        code: 'INVALID_EMAIL',
        message: 'EmailAddress contains invisible or bidirectional formatting characters (U+200B)',
      },
      {
        line: 4,
        column: 'UserName',
        code: 'CONTROL_CHARACTERS',
        message: 'UserName contains invisible or bidirectional formatting characters (U+202E)',
      },
      {
        line: 5,
        column: 'DestinationUserName',
        code: 'CONTROL_CHARACTERS',
        message: 'DestinationUserName contains invisible or bidirectional formatting characters (U+2069)',
      },
    ]);
    expect(res.body.error.message).toMatch(/^3 problem\(s\) .* First: line 3: EmailAddress contains invisible/);

    const viaCsvBody = await api.request(
      'POST',
      `/batches?name=csv-bidi&sourceEndpointId=${src}&destinationEndpointId=${src}`,
      { body: 'EmailAddress,UserName,Password\nx@example.com,x\u2066y,pw\n', contentType: 'text/csv' },
    );
    expect([viaCsvBody.status, viaCsvBody.body.error.details.problems]).toEqual([
      422,
      [{ line: 2, column: 'UserName', code: 'CONTROL_CHARACTERS', message: expect.stringContaining('U+2066') }],
    ]);

    const json = await api.request('POST', '/batches', {
      json: {
        name: 'json-bidi',
        sourceEndpointId: src,
        destinationEndpointId: src,
        mailboxes: [
          { emailAddress: 'a@example.com', userName: 'a', password: 'p' },
          { emailAddress: 'b@example.com', userName: '\u200eb', password: 'p' },
        ],
      },
    });
    expect([json.status, json.body.error.code, json.body.error.details.problems]).toEqual([
      422,
      'MAILBOXES_INVALID',
      [{ item: 2, column: 'UserName', code: 'CONTROL_CHARACTERS', message: expect.stringContaining('U+200E') }],
    ]);
    const { rows } = await api.db.pool.query<{ b: number; m: number }>(
      'select (select count(*)::int from batches) as b, (select count(*)::int from mailboxes) as m',
    );
    expect(rows[0]).toEqual({ b: 0, m: 0 });
  });

  it('shows an unknown CSV header with its invisible characters written out', async () => {
    const res = await api.request('POST', '/batches', {
      json: {
        name: 'csv-header',
        sourceEndpointId: src,
        destinationEndpointId: src,
        csv: 'EmailAddress,User\u202eName,Password\na@example.com,a,p\n',
      },
    });
    expect(res.status).toBe(422);
    const problems = res.body.error.details.problems as { code: string; message: string; column?: string }[];
    expect(problems[0]).toMatchObject({ code: 'CSV_UNKNOWN_COLUMN', column: 'User<U+202E>Name' });
    expect(res.text).not.toContain('\u202e');
  });
});

describe('a wrong method on a known path', () => {
  it('answers 405 METHOD_NOT_ALLOWED with the methods the path has, in details and the Allow header', async () => {
    const cases: [string, string, string[]][] = [
      ['PUT', '/batches', ['GET', 'HEAD', 'POST']],
      ['PUT', '/batches/', ['GET', 'HEAD', 'POST']],
      ['POST', '/batches/wave-1', ['GET', 'HEAD', 'PATCH', 'DELETE']],
      ['GET', '/batches/wave-1/start', ['POST']],
      ['DELETE', '/batches/wave-1/mailboxes', ['GET', 'HEAD', 'POST']],
      ['POST', '/health', ['GET', 'HEAD']],
      ['DELETE', '/openapi.json', ['GET', 'HEAD']],
      ['PATCH', `/tokens/${randomUUID()}`, ['DELETE']],
    ];
    for (const [method, path, allowed] of cases) {
      // No token: a 405 tells nothing that the public OpenAPI document does not.
      const res = await api.request(method, path, { token: null });
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allowed.join(', ')]);
      expectErrorShape(res, 'METHOD_NOT_ALLOWED');
      expect(res.body.error.details).toEqual({ allowed });
      expect(res.body.error.message).toContain(`${method} is not allowed on ${path}`);
    }
    const head = await fetch(`${api.url}/api/v1/batches/wave-1/start`, { method: 'HEAD' });
    expect([head.status, head.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('keeps 404 ROUTE_NOT_FOUND for paths no operation has, and the right methods still work', async () => {
    for (const [method, path] of [
      ['GET', '/nothing-here'],
      ['PUT', '/batches/a/b/c'],
      ['POST', '/Batches'],
      ['GET', '/batches/wave-1/start/now'],
    ] as const) {
      const res = await api.request(method, path);
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 404, null]);
      expectErrorShape(res, 'ROUTE_NOT_FOUND');
    }
    expect((await api.request('GET', '/batches')).status).toBe(200);
    expect((await api.request('GET', '/batches/no-such-batch')).body.error.code).toBe('BATCH_NOT_FOUND');
    expect((await api.request('POST', '/batches/no-such-batch/start')).body.error.code).toBe('BATCH_NOT_FOUND');
  });
});

/** Sends raw bytes and reads until the server closes the connection. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the server did not close the connection')));
    socket.end(request);
  });
}

function parseRaw(raw: string) {
  const [head, body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine, ...headerLines] = head!.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { statusLine, headers, body: JSON.parse(body) as unknown };
}

describe('requests the HTTP parser refuses', () => {
  const port = () => Number(new URL(api.url).port);

  it('answers a 20 KB URL with 431 HEADERS_TOO_LARGE in the error shape', async () => {
    const res = await fetch(`${api.url}/api/v1/batches?search=${'a'.repeat(20 * 1024)}`);
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.stringContaining('larger'), details: expect.any(Object) },
    });
    expect(text).not.toMatch(/\n\s+at |\.ts:\d+|HPE_/);
  });

  it('answers oversized headers with 431 and closes the connection, logging no header', async () => {
    const secret = `mf_${'s'.repeat(40)}`;
    const raw = await rawExchange(
      port(),
      `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\nCookie: ${'c'.repeat(20_000)}\r\n\r\n`,
    );
    const res = parseRaw(raw);
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(res.headers.connection).toBe('close');
    expect(res.body).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String), details: { limitBytes: expect.any(Number) } },
    });
    expect(api.logger.text()).toContain('unparsable request refused');
    expect(api.logger.text()).not.toContain(secret);
  });

  it('answers malformed requests with 400 BAD_REQUEST in the error shape', async () => {
    for (const request of [
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ]) {
      const res = parseRaw(await rawExchange(port(), request));
      expect([JSON.stringify(request.slice(0, 40)), res.statusLine]).toEqual([
        JSON.stringify(request.slice(0, 40)),
        'HTTP/1.1 400 Bad Request',
      ]);
      expect(res.body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String), details: {} } });
    }
  });

  it('keeps serving afterwards', async () => {
    const res = await api.request('GET', '/me');
    expect([res.status, res.body.owner]).toEqual([200, 'admin@example.com']);
  });
});

const CSV_HEADER = 'EmailAddress,UserName,Password';

async function mailboxRows(harness: ApiHarness, email: string) {
  const { rows } = await harness.db.pool.query<{ batch: string }>(
    `select b.name as batch from mailboxes m join batches b on b.id = m.batch_id where lower(m.email) = lower($1)`,
    [email],
  );
  return rows.map((r) => r.batch);
}

describe('two requests taking the same mailbox at once', () => {
  it('lets exactly one of two concurrent batch creations have it', async () => {
    // A few rounds: without the lock the two checks pass together in most of them.
    for (let round = 1; round <= 4; round++) {
      const email = `race-${round}@example.com`;
      const names = [`race-${round}-a`, `race-${round}-b`];
      const results = await Promise.all(
        names.map((name) =>
          live.request('POST', '/batches', {
            json: {
              name,
              sourceEndpointId: liveSrc,
              destinationEndpointId: liveSrc,
              csv: `${CSV_HEADER}\n${email},u${round},pw-${round}\nown-${name}@example.com,o,pw\n`,
            },
          }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect([round, statuses]).toEqual([round, [201, 422]]);
      const winner = results.find((r) => r.status === 201)!;
      const loser = results.find((r) => r.status === 422)!;
      expectErrorShape(loser, 'CSV_INVALID');
      expect(loser.body.error.details.problems).toEqual([
        {
          line: 2,
          column: 'EmailAddress',
          code: 'MAILBOX_IN_ACTIVE_BATCH',
          message: `${email} is already in the active batch "${winner.body.name}"`,
        },
      ]);
      expect(await mailboxRows(live, email)).toEqual([winner.body.name]);
      const loserName = names.find((n) => n !== winner.body.name)!;
      const { rows } = await live.db.pool.query('select 1 from batches where name = $1', [loserName]);
      expect(rows).toHaveLength(0);
      expect(await workflowExists(env.client, `batch:${loserName}`)).toBe(false);
      expect(await workflowExists(env.client, `batch:${winner.body.name}`)).toBe(true);
    }
  });

  it('lets exactly one of two concurrent additions have it, to other batches or the same one', async () => {
    const batchIds: string[] = [];
    for (const name of ['add-a', 'add-b']) {
      const res = await live.request('POST', '/batches', {
        json: {
          name,
          sourceEndpointId: liveSrc,
          destinationEndpointId: liveSrc,
          mailboxes: [{ emailAddress: `first-${name}@example.com`, userName: 'f', password: 'pw' }],
        },
      });
      expect(res.status).toBe(201);
      batchIds.push(res.body.id);
    }
    const add = (batch: string, email: string) =>
      live.request('POST', `/batches/${batch}/mailboxes`, {
        json: { mailboxes: [{ emailAddress: email, userName: 'x', password: 'pw' }] },
      });

    const other = await Promise.all([add('add-a', 'shared@example.com'), add('add-b', 'SHARED@example.com')]);
    expect(other.map((r) => r.status).sort()).toEqual([201, 422]);
    const otherLoser = other.find((r) => r.status === 422)!;
    expect(otherLoser.body.error.details.problems).toEqual([
      {
        item: 1,
        column: 'EmailAddress',
        code: 'MAILBOX_IN_ACTIVE_BATCH',
        message: expect.stringMatching(/^(shared|SHARED)@example\.com is already in the active batch "add-[ab]"$/),
      },
    ]);
    expect(await mailboxRows(live, 'shared@example.com')).toHaveLength(1);

    const same = await Promise.all([add('add-a', 'twice@example.com'), add('add-a', 'twice@example.com')]);
    expect(same.map((r) => r.status).sort()).toEqual([201, 422]);
    expect(same.find((r) => r.status === 422)!.body.error.details.problems).toEqual([
      { item: 1, column: 'EmailAddress', code: 'DUPLICATE_ROW', message: 'twice@example.com is already in this batch' },
    ]);
    expect(await mailboxRows(live, 'twice@example.com')).toEqual(['add-a']);

    // A creation racing an addition: one of them has the mailbox.
    const mixed = await Promise.all([
      add('add-b', 'mixed@example.com'),
      live.request('POST', '/batches', {
        json: {
          name: 'add-c',
          sourceEndpointId: liveSrc,
          destinationEndpointId: liveSrc,
          mailboxes: [{ emailAddress: 'mixed@example.com', userName: 'm', password: 'pw' }],
        },
      }),
    ]);
    expect(mixed.map((r) => r.status).sort()).toEqual([201, 422]);
    expect(await mailboxRows(live, 'mixed@example.com')).toHaveLength(1);
  });
});

describe('a batch whose workflow cannot be started', () => {
  async function leftovers(harness: ApiHarness, name: string) {
    const { rows } = await harness.db.pool.query<{ b: number; m: number; a: number }>(
      `select (select count(*)::int from batches where name = $1) as b,
              (select count(*)::int from mailboxes where email = 'left@example.com') as m,
              (select count(*)::int from audit_log where batch_name = $1) as a`,
      [name],
    );
    return rows[0];
  }

  it('leaves no batch, mailbox or audit row behind when Temporal is unreachable (503)', async () => {
    const res = await api.request('POST', '/batches', {
      json: {
        name: 'no-temporal',
        sourceEndpointId: src,
        destinationEndpointId: src,
        mailboxes: [{ emailAddress: 'left@example.com', userName: 'l', password: 'left-secret-pw' }],
      },
    });
    expect([res.status, res.body.error.code]).toEqual([503, 'WORKFLOW_START_FAILED']);
    expectErrorShape(res, 'WORKFLOW_START_FAILED');
    expect(await leftovers(api, 'no-temporal')).toEqual({ b: 0, m: 0, a: 0 });
    // The attempt is in the server log, with who made it; the password is nowhere.
    const logged = api.logger.lines.map((l) => JSON.parse(l)).find((l) => l.message.startsWith('batch workflow'));
    expect(logged).toMatchObject({ level: 'error', name: 'no-temporal', by: 'admin@example.com' });
    expect(api.logger.text()).not.toContain('left-secret-pw');
    // The mailbox is free again: a second attempt is refused for Temporal only, not for the mailbox.
    const again = await api.request('POST', '/batches', {
      json: {
        name: 'no-temporal',
        sourceEndpointId: src,
        destinationEndpointId: src,
        mailboxes: [{ emailAddress: 'left@example.com', userName: 'l', password: 'pw' }],
      },
    });
    expect(again.body.error.code).toBe('WORKFLOW_START_FAILED');
  });

  it('leaves nothing behind when a workflow of that name is still running (409 BATCH_NAME_TAKEN)', async () => {
    await env.client.workflow.start('batchWorkflow', {
      workflowId: 'batch:lingering',
      taskQueue: `nobody-${randomUUID()}`,
      args: [{}],
    });
    const res = await live.request('POST', '/batches', {
      json: {
        name: 'lingering',
        sourceEndpointId: liveSrc,
        destinationEndpointId: liveSrc,
        mailboxes: [{ emailAddress: 'left@example.com', userName: 'l', password: 'pw' }],
      },
    });
    expect([res.status, res.body.error.code]).toEqual([409, 'BATCH_NAME_TAKEN']);
    expect(await leftovers(live, 'lingering')).toEqual({ b: 0, m: 0, a: 0 });
    await env.client.workflow.getHandle('batch:lingering').terminate('test cleanup');
  });
});
