import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseMailboxCsv } from '../../api/mailbox-csv';
import { secretContext } from '../../secrets/secret-box';
import { devServerEnvironment } from '../fixtures/temporal';
import { createEndpoint, startApi, workflowExists, type ApiHarness } from './harness';

/**
 * Batch creation through the running API against a real Temporal (`temporal server start-dev`) and PostgreSQL.
 * Bad input is refused with every problem and its line, and nothing is created: no batch row, no mailbox row,
 * and no workflow `batch:<name>` on the server. Valid input creates the batch and starts its workflow. No worker
 * polls the task queue: the workflows are started, never run.
 */
let env: TestWorkflowEnvironment;
let api: ApiHarness;
let source: string;
let destination: string;
const taskQueue = `csv-test-${randomUUID()}`;

beforeAll(async () => {
  env = await devServerEnvironment();
  api = await startApi({ temporal: env.client, taskQueue });
  source = await createEndpoint(api, 'src');
  destination = await createEndpoint(api, 'dst');
}, 60_000);
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

async function counts() {
  const { rows } = await api.db.pool.query<{ b: number; m: number }>(
    'select (select count(*)::int from batches) as b, (select count(*)::int from mailboxes) as m',
  );
  return rows[0]!;
}

/** Nothing of these batches exists: no rows (counts as given, default none at all), no workflow on the server. */
async function expectNothingCreated(names: string[], rowCounts = { b: 0, m: 0 }) {
  expect(await counts()).toEqual(rowCounts);
  for (const name of names) {
    expect([name, await workflowExists(env.client, `batch:${name}`)]).toEqual([name, false]);
  }
}

async function createWithCsv(csv: string, name = 'wave-1') {
  return api.request('POST', '/batches', {
    json: { name, sourceEndpointId: source, destinationEndpointId: destination, csv },
  });
}

async function expectCsvProblems(csv: string, problems: unknown[]) {
  const res = await createWithCsv(csv);
  expect(res.status).toBe(422);
  expect(res.body.error.code).toBe('CSV_INVALID');
  expect(res.body.error.details.problems).toEqual(problems);
  await expectNothingCreated(['wave-1']);
  return res;
}

/**
 * Removes a batch this file created through the API. No worker runs its workflow here, so the workflow is
 * terminated first; the API then deletes the rows itself (the documented path for a batch whose workflow ended).
 */
async function deleteBatch(name: string) {
  await env.client.workflow.getHandle(`batch:${name}`).terminate('test cleanup');
  const res = await api.request('DELETE', `/batches/${encodeURIComponent(name)}`);
  expect([res.status, res.body.command, res.body.outcome]).toEqual([202, 'remove', 'accepted']);
  expect(await counts()).toEqual({ b: 0, m: 0 });
}

/** The stored mailboxes of a batch, with their sealed passwords opened (they must open under their own context). */
async function storedMailboxes(batchId: string) {
  const { rows } = await api.db.pool.query<{
    email: string;
    source_user: string;
    source_secret: Buffer;
    destination_user: string | null;
    destination_secret: Buffer | null;
  }>(
    `select email, source_user, source_secret, destination_user, destination_secret
       from mailboxes where batch_id = $1 order by lower(email)`,
    [batchId],
  );
  return rows.map((r) => ({
    email: r.email,
    userName: r.source_user,
    password: api.secretBox.open(r.source_secret, secretContext.mailboxSource(batchId, r.email)),
    destinationUserName: r.destination_user,
    destinationPassword: r.destination_secret
      ? api.secretBox.open(r.destination_secret, secretContext.mailboxDestination(batchId, r.email))
      : null,
  }));
}

const HEADER = 'EmailAddress,UserName,Password';

describe('CSV validation (all or nothing, with line numbers)', () => {
  it('reports missing and unknown columns on the header line', async () => {
    await expectCsvProblems('EmailAddress,Password,Colour\na@example.com,pw,red\n', [
      {
        line: 1,
        column: 'Colour',
        code: 'CSV_UNKNOWN_COLUMN',
        message: expect.stringContaining('unknown column "Colour"'),
      },
      { line: 1, column: 'UserName', code: 'CSV_MISSING_COLUMN', message: 'the header lacks the UserName column' },
    ]);
  });

  it('reports an empty file, a BOM-only file and a header without rows', async () => {
    await expectCsvProblems('', [{ line: 1, code: 'CSV_EMPTY', message: expect.any(String) }]);
    await expectCsvProblems('\uFEFF\n\n', [{ line: 1, code: 'CSV_EMPTY', message: expect.any(String) }]);
    await expectCsvProblems(`${HEADER}\n`, [
      { line: 1, code: 'CSV_EMPTY', message: 'the CSV has a header but no mailbox rows' },
    ]);
  });

  it('reads a BOM, case-insensitive headers, quoted commas and escaped quotes', () => {
    const csv =
      '\uFEFFemailaddress,USERNAME,password\r\n' +
      'a@example.com,"doe, jane","p,w"\r\n' +
      'c@example.com,c,"pw ""quoted"""\r\n';
    expect(parseMailboxCsv(csv)).toEqual({
      ok: true,
      mailboxes: [
        { line: 2, emailAddress: 'a@example.com', userName: 'doe, jane', password: 'p,w' },
        { line: 3, emailAddress: 'c@example.com', userName: 'c', password: 'pw "quoted"' },
      ],
    });
  });

  it('lets a list for a source that mints its tokens leave the Password column out or empty', () => {
    const csv = 'EmailAddress,UserName\r\na@example.com,a\r\n';
    expect(parseMailboxCsv(csv, { passwordOptional: true })).toEqual({
      ok: true,
      mailboxes: [{ line: 2, emailAddress: 'a@example.com', userName: 'a', password: '' }],
    });
    expect(parseMailboxCsv('EmailAddress,UserName,Password\na@example.com,a,\n', { passwordOptional: true }).ok).toBe(
      true,
    );
    const refused = parseMailboxCsv(csv);
    expect(refused.ok).toBe(false);
    expect(JSON.stringify(refused)).toContain('CSV_MISSING_COLUMN');
  });

  it('keeps line numbers right across quoted line breaks (which no column accepts)', () => {
    const csv = `${HEADER}\r\na@example.com,"doe, jane","p,w"\r\nb@example.com,"multi\nline",pw\r\nbad,c,pw\r\n`;
    expect(parseMailboxCsv(csv)).toEqual({
      ok: false,
      truncated: false,
      problems: [
        { line: 3, column: 'UserName', code: 'CONTROL_CHARACTERS', message: 'UserName contains control characters' },
        {
          line: 5,
          column: 'EmailAddress',
          code: 'INVALID_EMAIL',
          message: 'EmailAddress is not a valid email address',
        },
      ],
    });
  });

  it('names the start line of a record after a quoted multi-line field', async () => {
    await expectCsvProblems(`${HEADER}\na@example.com,a,"pass\nword"\nnot-an-address,b,pw\n`, [
      { line: 2, column: 'Password', code: 'CONTROL_CHARACTERS', message: 'Password contains a NUL or a line break' },
      { line: 4, column: 'EmailAddress', code: 'INVALID_EMAIL', message: 'EmailAddress is not a valid email address' },
    ]);
  });

  it('reports every invalid row at once: addresses, empty values, field counts, duplicates', async () => {
    const csv = [
      HEADER,
      'good@example.com,good,pw',
      'bad address,x,pw',
      'empty@example.com,,pw',
      'short@example.com,short',
      'GOOD@example.com,dup,pw',
      'ctrl@example.com,ctr\u0007l,pw',
      "evil@example.com,'; drop table batches; --,pw",
    ].join('\n');
    const res = await expectCsvProblems(csv, [
      { line: 3, column: 'EmailAddress', code: 'INVALID_EMAIL', message: 'EmailAddress is not a valid email address' },
      { line: 4, column: 'UserName', code: 'MISSING_VALUE', message: 'UserName is empty' },
      { line: 5, code: 'CSV_FIELD_COUNT', message: 'the row has 2 fields; the header has 3' },
      {
        line: 6,
        column: 'EmailAddress',
        code: 'DUPLICATE_ROW',
        message: 'GOOD@example.com is already listed on line 2',
      },
      { line: 7, column: 'UserName', code: 'CONTROL_CHARACTERS', message: 'UserName contains control characters' },
    ]);
    expect(res.body.error.message).toMatch(/^5 problem\(s\).*nothing was created\. First: line 3/);
  });

  it('reports problems in the per-row destination overrides', async () => {
    await expectCsvProblems(
      `${HEADER},DestinationUserName,DestinationPassword\n` +
        'a@example.com,a,pw,,dest-pw\n' +
        'b@example.com,b,pw,b\u0001,dest-pw\n' +
        'c@example.com,c,pw,c,"dest\npw"\n' +
        'd@example.com,d,pw,d-dest,\n',
      [
        {
          line: 2,
          column: 'DestinationUserName',
          code: 'MISSING_VALUE',
          message: 'DestinationPassword is set but DestinationUserName is empty',
        },
        {
          line: 3,
          column: 'DestinationUserName',
          code: 'CONTROL_CHARACTERS',
          message: 'DestinationUserName contains control characters',
        },
        {
          line: 4,
          column: 'DestinationPassword',
          code: 'CONTROL_CHARACTERS',
          message: 'DestinationPassword contains a NUL or a line break',
        },
      ],
    );
  });

  it('reports an unclosed quote with its line', async () => {
    await expectCsvProblems(`${HEADER}\na@example.com,a,pw\n"b@example.com,b,pw\n`, [
      { line: expect.any(Number), code: 'CSV_MALFORMED', message: expect.stringContaining('Quote Not Closed') },
    ]);
  });

  it('refuses a mailbox that is already in another active batch, but not one in a Completed batch', async () => {
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ('22222222-2222-4222-8222-222222222222', 'Running wave', 'batch:Running wave', 'Syncing', $1, $2, 'x'),
              ('33333333-3333-4333-8333-333333333333', 'Old wave', 'batch:Old wave', 'Completed', $1, $2, 'x')`,
      [source, destination],
    );
    await api.db.pool.query(
      `insert into mailboxes (batch_id, email, source_user) values
        ('22222222-2222-4222-8222-222222222222', 'Busy@Example.com', 'busy'),
        ('33333333-3333-4333-8333-333333333333', 'done@example.com', 'done')`,
    );
    try {
      const res = await createWithCsv(`${HEADER}\ndone@example.com,d,pw\nbusy@example.com,b,pw\n`);
      expect(res.status).toBe(422);
      expect(res.body.error.details.problems).toEqual([
        {
          line: 3,
          column: 'EmailAddress',
          code: 'MAILBOX_IN_ACTIVE_BATCH',
          message: 'busy@example.com is already in the active batch "Running wave"',
        },
      ]);
      await expectNothingCreated(['wave-1'], { b: 2, m: 2 });
    } finally {
      await api.db.pool.query('delete from batches');
    }
  });

  it('refuses more than 50,000 rows, naming the first line over the limit', async () => {
    const rows = Array.from({ length: 50_001 }, (_, i) => `user${i}@example.com,u${i},pw`);
    await expectCsvProblems(`${HEADER}\n${rows.join('\n')}\n`, [
      { line: 50_002, code: 'TOO_MANY_ROWS', message: 'a batch holds at most 50000 mailboxes; the CSV has 50001 rows' },
    ]);
  });

  it('accepts exactly 50,000 rows: the batch, its 50,000 mailboxes and its workflow are created', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `user${i}@example.com,u${i},pw-${i}`);
    const started = Date.now();
    const res = await createWithCsv(`${HEADER}\n${rows.join('\n')}\n`, 'big-wave');
    expect([res.status, res.body.error]).toEqual([201, undefined]);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(res.body).toMatchObject({
      name: 'big-wave',
      status: 'Created',
      total: 50_000,
      workflowId: 'batch:big-wave',
    });
    const { rows: stored } = await api.db.pool.query<{ n: number }>(
      'select count(*)::int as n from mailboxes where batch_id = $1',
      [res.body.id],
    );
    expect(stored[0]!.n).toBe(50_000);
    const description = await env.client.workflow.getHandle('batch:big-wave').describe();
    expect([description.type, description.taskQueue, description.status.name]).toEqual([
      'batchWorkflow',
      taskQueue,
      'RUNNING',
    ]);
    await deleteBatch('big-wave');
  });

  it('refuses a CSV over 10 MB with 413 CSV_TOO_LARGE, as JSON and as text/csv', async () => {
    const big = `${HEADER}\n` + `a@example.com,${'x'.repeat(200)},pw\n`.repeat(52_000);
    expect(Buffer.byteLength(big)).toBeGreaterThan(10 * 1024 * 1024);
    const asJson = await createWithCsv(big);
    expect([asJson.status, asJson.body.error.code]).toEqual([413, 'CSV_TOO_LARGE']);
    const asCsv = await api.request(
      'POST',
      `/batches?name=x&sourceEndpointId=${source}&destinationEndpointId=${destination}`,
      {
        body: big,
        contentType: 'text/csv',
      },
    );
    expect([asCsv.status, asCsv.body.error.code]).toEqual([413, 'CSV_TOO_LARGE']);
    await expectNothingCreated(['wave-1', 'x']);
  });

  it('validates the JSON mailbox list with item numbers', async () => {
    const res = await api.request('POST', '/batches', {
      json: {
        name: 'json-wave',
        sourceEndpointId: source,
        destinationEndpointId: destination,
        mailboxes: [
          { emailAddress: 'a@example.com', userName: 'a', password: 'pw' },
          { emailAddress: 'nope', userName: 'b', password: 'pw' },
          { emailAddress: 'A@example.com', userName: 'c', password: 'pw' },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('MAILBOXES_INVALID');
    expect(res.body.error.details.problems).toEqual([
      { item: 2, column: 'EmailAddress', code: 'INVALID_EMAIL', message: 'EmailAddress is not a valid email address' },
      { item: 3, column: 'EmailAddress', code: 'DUPLICATE_ROW', message: 'A@example.com is already listed on item 1' },
    ]);
    await expectNothingCreated(['json-wave']);
  });
});

describe('CSV through the API', () => {
  /** A BOM, headers in any case, the optional override columns, quoted commas, escaped quotes, CRLF, a blank line. */
  const tricky =
    '\uFEFFemailaddress,USERNAME,password,destinationUserName,DESTINATIONPASSWORD\r\n' +
    'a@example.com,"doe, jane","p,w",,\r\n' +
    '\r\n' +
    'C@Example.com,c,"pw ""quoted""","c, dest","d,""p"""\r\n';
  const expected = [
    {
      email: 'a@example.com',
      userName: 'doe, jane',
      password: 'p,w',
      destinationUserName: null,
      destinationPassword: null,
    },
    {
      email: 'C@Example.com',
      userName: 'c',
      password: 'pw "quoted"',
      destinationUserName: 'c, dest',
      destinationPassword: 'd,"p"',
    },
  ];

  it('creates a batch from such a CSV sent as a JSON field', async () => {
    const res = await createWithCsv(tricky, 'tricky-json');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'tricky-json', status: 'Created', total: 2 });
    expect(await storedMailboxes(res.body.id)).toEqual(expected);
    expect(await workflowExists(env.client, 'batch:tricky-json')).toBe(true);
    for (const secret of ['p,w', 'pw "quoted"', 'd,"p"']) expect(res.text).not.toContain(secret);
    await deleteBatch('tricky-json');
  });

  it('creates a batch from such a CSV sent as a text/csv body, settings in the query', async () => {
    const res = await api.request(
      'POST',
      `/batches?name=tricky-csv&sourceEndpointId=${source}&destinationEndpointId=${destination}&folderExclude=Junk,Trash`,
      { body: tricky, contentType: 'text/csv' },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'tricky-csv', total: 2, folderExclude: ['Junk', 'Trash'] });
    expect(await storedMailboxes(res.body.id)).toEqual(expected);
    expect(await workflowExists(env.client, 'batch:tricky-csv')).toBe(true);
    await deleteBatch('tricky-csv');
  });

  it('adds mailboxes to a batch by CSV (all or nothing), and never to an unknown or a Completed batch', async () => {
    const created = await createWithCsv(`${HEADER}\na@example.com,a,pw-a\n`, 'grow-wave');
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    // One bad row refuses the whole list.
    const refused = await api.request('POST', `/batches/${id}/mailboxes`, {
      body: `\uFEFFEMAILADDRESS,username,PASSWORD\r\nb@example.com,"b, jr",pw-b\r\nA@EXAMPLE.COM,a2,pw\r\nnope,c,pw\r\n`,
      contentType: 'text/csv',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('CSV_INVALID');
    expect(refused.body.error.details.problems).toEqual([
      { line: 4, column: 'EmailAddress', code: 'INVALID_EMAIL', message: 'EmailAddress is not a valid email address' },
    ]);
    expect(await counts()).toEqual({ b: 1, m: 1 });
    const duplicate = await api.request('POST', `/batches/${id}/mailboxes`, {
      body: `\uFEFFEMAILADDRESS,username,PASSWORD\r\nb@example.com,"b, jr",pw-b\r\nA@EXAMPLE.COM,a2,pw\r\n`,
      contentType: 'text/csv',
    });
    expect(duplicate.body.error.details.problems).toEqual([
      { line: 3, column: 'EmailAddress', code: 'DUPLICATE_ROW', message: 'A@EXAMPLE.COM is already in this batch' },
    ]);
    expect(await counts()).toEqual({ b: 1, m: 1 });
    const added = await api.request('POST', `/batches/${id}/mailboxes`, {
      body: `\uFEFFEMAILADDRESS,username,PASSWORD\r\nb@example.com,"b, jr","pw,b"\r\n`,
      contentType: 'text/csv',
    });
    expect([added.status, added.body]).toEqual([201, { added: 1, total: 2 }]);
    expect((await storedMailboxes(id)).map((m) => [m.email, m.userName, m.password])).toEqual([
      ['a@example.com', 'a', 'pw-a'],
      ['b@example.com', 'b, jr', 'pw,b'],
    ]);
    const unknown = await api.request('POST', '/batches/nope/mailboxes', {
      json: { csv: `${HEADER}\nz@example.com,z,p` },
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'BATCH_NOT_FOUND']);
    await api.db.pool.query(`update batches set status = 'Completed' where id = $1`, [id]);
    const closed = await api.request('POST', `/batches/${id}/mailboxes`, {
      json: { mailboxes: [{ emailAddress: 'z@example.com', userName: 'z', password: 'p' }] },
    });
    expect([closed.status, closed.body.error.code]).toEqual([409, 'BATCH_NOT_EDITABLE']);
    expect(await counts()).toEqual({ b: 1, m: 2 });
    await deleteBatch('grow-wave');
  });
});

describe('batch creation input', () => {
  const valid = () => ({
    name: 'wave-ok',
    sourceEndpointId: source,
    destinationEndpointId: destination,
    csv: `${HEADER}\na@example.com,a,pw\n`,
  });

  it('refuses bad settings, unknown fields and hostile names with 400, never a 500', async () => {
    const cases: Record<string, unknown>[] = [
      { ...valid(), name: '' },
      { ...valid(), name: 'x'.repeat(65) },
      { ...valid(), name: '../../etc/passwd' },
      { ...valid(), name: "wave'; drop table batches; --" },
      { ...valid(), name: 'tab\there' },
      { ...valid(), name: '<script>alert(1)</script>' },
      { ...valid(), sourceEndpointId: 'not-a-uuid' },
      { ...valid(), startAfter: 'tomorrow' },
      { ...valid(), badItemLimit: -1 },
      { ...valid(), autoStart: 'yes' },
      { ...valid(), surprise: true },
      { ...valid(), mailboxes: [] },
      { name: 'no-mailboxes', sourceEndpointId: source, destinationEndpointId: destination },
      { ...valid(), folderInclude: ['a'.repeat(600)] },
    ];
    for (const json of cases) {
      const res = await api.request('POST', '/batches', { json });
      expect([JSON.stringify(json).slice(0, 80), res.status, res.body.error?.code]).toEqual([
        JSON.stringify(json).slice(0, 80),
        400,
        'VALIDATION_FAILED',
      ]);
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    }
    await expectNothingCreated([...new Set(cases.map((c) => c.name as string))]);
  });

  it('refuses malformed JSON, a wrong content type, and an oversized JSON body', async () => {
    const malformed = await api.request('POST', '/batches', { body: '{"name": ', contentType: 'application/json' });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'INVALID_JSON']);
    const wrongType = await api.request('POST', '/batches', {
      body: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect([wrongType.status, wrongType.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const xml = await api.request('POST', '/endpoints', { body: '<endpoint/>', contentType: 'application/xml' });
    expect([xml.status, xml.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const csvToEndpoints = await api.request('POST', '/endpoints', { body: 'a,b', contentType: 'text/csv' });
    expect(csvToEndpoints.status).toBe(415);
    const huge = await api.request('POST', '/endpoints', { json: { name: 'x'.repeat(2 * 1024 * 1024) } });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    await expectNothingCreated(['x']);
  });

  it('answers 422 UNKNOWN_ENDPOINT for an endpoint that does not exist, and 409 for a taken name', async () => {
    const res = await api.request('POST', '/batches', {
      json: { ...valid(), sourceEndpointId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'UNKNOWN_ENDPOINT', details: { fields: ['sourceEndpointId'] } });
    await expectNothingCreated(['wave-ok']);
    await api.db.pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ('44444444-4444-4444-8444-444444444444', 'Taken', 'batch:Taken', 'Created', $1, $1, 'x')`,
      [source],
    );
    const taken = await api.request('POST', '/batches', { json: { ...valid(), name: 'TAKEN' } });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'BATCH_NAME_TAKEN']);
    await expectNothingCreated(['TAKEN', 'Taken'], { b: 1, m: 0 });
    await api.db.pool.query('delete from batches');
  });

  it('refuses a name whose workflow still runs on the server (409), deleting its rows and leaving that workflow alone', async () => {
    const other = await env.client.workflow.start('batchWorkflow', {
      workflowId: 'batch:csv-wave',
      taskQueue: `${taskQueue}-other`,
      args: [{ batchId: randomUUID(), name: 'csv-wave' }],
    });
    try {
      const res = await api.request(
        'POST',
        `/batches?name=csv-wave&sourceEndpointId=${source}&destinationEndpointId=${destination}&autoStart=true&folderExclude=Junk,Trash`,
        {
          body: `${HEADER}\na@example.com,a,secret-pw-1\n`,
          contentType: 'text/csv',
        },
      );
      expect([res.status, res.body.error.code]).toEqual([409, 'BATCH_NAME_TAKEN']);
      expect(res.text).not.toContain('secret-pw-1');
      expect(await counts()).toEqual({ b: 0, m: 0 });
      const description = await other.describe();
      expect([description.runId, description.taskQueue, description.status.name]).toEqual([
        other.firstExecutionRunId,
        `${taskQueue}-other`,
        'RUNNING',
      ]);
    } finally {
      await other.terminate('test cleanup');
    }
  });

  it('validates text/csv settings given as query parameters', async () => {
    const res = await api.request(
      'POST',
      `/batches?name=x&sourceEndpointId=${source}&destinationEndpointId=${destination}&autoStart=maybe`,
      {
        body: `${HEADER}\na@example.com,a,pw\n`,
        contentType: 'text/csv',
      },
    );
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details.issues[0].path).toBe('autoStart');
    await expectNothingCreated(['x']);
  });
});
