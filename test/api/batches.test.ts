import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker, type LogEntry } from '@temporalio/worker';
import { runCli } from '../../cli/run';
import { statusQuery } from '../../domain/batch-messages';
import { BATCH_STATUSES, type BatchCommand, type BatchStatus } from '../../domain/batch-status';
import { secretContext } from '../../secrets/secret-box';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { SEED_COMMAND_TABLE } from '../fixtures/seed-command-table';
import { devServerEnvironment } from '../fixtures/temporal';
import { createEndpoint, createRealWorker, startApi, type ApiHarness } from './harness';
import { waitFor } from '../fixtures/wait-for';

/**
 * The API driving real batches end to end: `temporal server start-dev`, the real batch workflow and
 * activities, PostgreSQL, and two Dovecot servers that mail actually moves between.
 */
/**
 * Everything the worker logs (workflow and activity loggers at DEBUG, and the SDK core's own lines, forwarded), kept
 * so the secrets check can search it; warnings and errors are printed as before. Runtime.install is allowed once,
 * before the first worker: jest gives each test file its own module registry, so this file's install is its own.
 */
const workerLog: string[] = [];
Runtime.install({
  logger: new DefaultLogger('DEBUG', (entry: LogEntry) => {
    const line = `${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {}, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    )}`;
    workerLog.push(line);
    if (entry.level === 'WARN' || entry.level === 'ERROR') console.error(line);
  }),
  telemetryOptions: { logging: { filter: { core: 'INFO', other: 'WARN' }, forward: {} } },
});

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let api: ApiHarness;
let source: DovecotServer;
let destination: DovecotServer;
let sourceEndpoint: string;
let destinationEndpoint: string;

const DEST_MASTER_PASSWORD = 'Dest-Master-c0ffee';
const PASSWORDS: Record<string, string> = {
  'alice@example.com': 'Alice-Src-Pass-1a2b',
  'bob@example.com': 'Bob-Src-Pass-3c4d',
  'carol@example.com': 'Carol-Src-Pass-5e6f',
};
/**
 * Bob's row in Wave 1 overrides the destination login (CSV columns DestinationUserName/DestinationPassword): his
 * mail goes to robert@example.com on the destination, logged in with robert's own password, not the master login.
 */
const BOB_OVERRIDE = { userName: 'robert@example.com', password: 'Robert,Dest "Pass" 7g8h' };
/** A destination override whose password the destination refuses: the login it names must fail. */
const WRONG_OVERRIDE = { userName: 'robert@example.com', password: 'Wrong-Dest-Pass-9z9z' };
/** Every password the tests send to the API: none may come back in a response, a log or a workflow history. */
const SENT_SECRETS = [
  ...Object.values(PASSWORDS),
  BOB_OVERRIDE.password,
  WRONG_OVERRIDE.password,
  DEST_MASTER_PASSWORD,
];
/** What the CLI printed (its requests bypass the harness, so its answers are not in api.responses). */
const cliOutput: string[] = [];
const taskQueue = `api-test-${randomUUID()}`;

/** The destination Dovecot as an endpoint: its master user logs in on behalf of each mailbox. */
const destinationSettings = () => ({
  host: destination.host,
  port: destination.port,
  security: 'none',
  provider: 'dovecot',
  adminUser: 'migrator',
  adminPassword: DEST_MASTER_PASSWORD,
});

beforeAll(async () => {
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot(),
    startDovecot({ masterUser: { user: 'migrator', password: DEST_MASTER_PASSWORD } }),
  ]);
  for (const [user, password] of Object.entries(PASSWORDS)) {
    await source.addUser(user, password);
    await destination.addUser(user, `dest-${password}`);
    // Not sent to the API (the master login acts for these users); checked all the same.
    SENT_SECRETS.push(`dest-${password}`);
    await source.seed(user, [
      { folder: 'INBOX', raw: buildMessage({ subject: `hello ${user}` }) },
      { folder: 'Work', raw: buildMessage({ subject: `report for ${user}` }) },
    ]);
  }
  await destination.addUser(BOB_OVERRIDE.userName, BOB_OVERRIDE.password);
  api = await startApi({
    temporal: env.client,
    taskQueue,
    temporalUiUrl: 'http://localhost:8233/',
    searchAttributes: true,
  });
  worker = await createRealWorker(env, api, taskQueue);
  workerRun = worker.run();
  sourceEndpoint = await createEndpoint(api, 'Source', {
    host: source.host,
    port: source.port,
    security: 'none',
    provider: 'dovecot',
  });
  destinationEndpoint = await createEndpoint(api, 'Destination', destinationSettings());
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun?.catch(() => undefined);
  await api?.close();
  await env?.teardown();
  await source?.close();
  await destination?.close();
});

async function waitForStatus(ref: string, wanted: string[], timeoutMs = 60_000) {
  let last: any;
  return waitFor(
    async () => {
      const res = await api.request('GET', `/batches/${encodeURIComponent(ref)}`);
      last = res.body;
      return res.status === 200 && wanted.includes(res.body.status) && res.body;
    },
    `batch ${ref} to reach ${wanted.join('/')}`,
    {
      timeoutMs,
      intervalMs: 200,
      // Say why: each mailbox's row (status, error, folder) and the endpoint leases held, not only the summary.
      describe: async () => {
        const { rows: mailboxes } = await api.db.pool.query(
          `select email, status, last_error_code, last_error, current_folder, items_synced, updated_at
             from mailboxes where batch_id = $1 order by email`,
          [last?.id ?? ref],
        );
        const { rows: leases } = await api.db.pool.query('select mailbox_id, kind, expires_at from endpoint_leases');
        return { batch: JSON.stringify(last)?.slice(0, 500), mailboxes, leases };
      },
    },
  );
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A mailbox CSV; `overrides` adds the destination columns, filled for the addresses it names. */
const csvOf = (emails: string[], overrides: Record<string, { userName: string; password: string }> = {}) => {
  const withOverrides = Object.keys(overrides).length > 0;
  const header = `EmailAddress,UserName,Password${withOverrides ? ',DestinationUserName,DestinationPassword' : ''}`;
  const rows = emails.map((e) => {
    const row = [e, e, PASSWORDS[e]!];
    if (withOverrides) row.push(overrides[e]?.userName ?? '', overrides[e]?.password ?? '');
    return row.map(field).join(',');
  });
  return [header, ...rows].join('\n');
};

describe('a batch driven through the API', () => {
  let id: string;

  it('creates a batch from CSV: rows in PostgreSQL with sealed passwords, workflow started with ids only', async () => {
    const res = await api.request('POST', '/batches', {
      json: {
        name: 'Wave 1',
        sourceEndpointId: sourceEndpoint,
        destinationEndpointId: destinationEndpoint,
        csv: csvOf(['alice@example.com', 'bob@example.com'], { 'bob@example.com': BOB_OVERRIDE }),
        folderExclude: ['Junk'],
      },
    });
    expect(res.status).toBe(201);
    id = res.body.id;
    expect(res.body).toMatchObject({
      name: 'Wave 1',
      type: 'IMAP',
      direction: 'Onboarding',
      status: 'Created',
      statusLabel: 'Created',
      requested: 2,
      total: 2,
      synced: 0,
      finalized: 0,
      failed: 0,
      percentageSynced: 0,
      createdBy: 'admin@example.com',
      workflowId: 'batch:Wave 1',
      temporalUiUrl: 'http://localhost:8233/namespaces/default/workflows/batch%3AWave%201',
      sourceEndpoint: { id: sourceEndpoint, name: 'Source', host: source.host },
      destinationEndpoint: { id: destinationEndpoint, name: 'Destination', host: destination.host },
      allowedCommands: ['start', 'edit', 'remove'],
      folderExclude: ['Junk'],
    });
    const { rows } = await api.db.pool.query<{
      email: string;
      source_secret: Buffer;
      destination_user: string | null;
      destination_secret: Buffer | null;
    }>('select email, source_secret, destination_user, destination_secret from mailboxes where batch_id = $1', [id]);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      for (const p of SENT_SECRETS) {
        expect(r.source_secret.toString('latin1')).not.toContain(p);
        expect(r.destination_secret?.toString('latin1') ?? '').not.toContain(p);
      }
    }
    // The override is stored as given: the user name in clear, the password sealed for bob's destination side.
    const bob = rows.find((r) => r.email === 'bob@example.com')!;
    expect(bob.destination_user).toBe(BOB_OVERRIDE.userName);
    expect(api.secretBox.open(bob.destination_secret!, secretContext.mailboxDestination(id, bob.email))).toBe(
      BOB_OVERRIDE.password,
    );
    const alice = rows.find((r) => r.email === 'alice@example.com')!;
    expect([alice.destination_user, alice.destination_secret]).toEqual([null, null]);
    const description = await env.client.workflow.getHandle('batch:Wave 1').describe();
    expect(description.type).toBe('batchWorkflow');
    expect(description.taskQueue).toBe(taskQueue);
  });

  it('reports PostgreSQL and Temporal healthy', async () => {
    const res = await api.request('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', checks: { postgres: { ok: true }, temporal: { ok: true } } });
  });

  it('shows live detail from the workflow, by id or by name', async () => {
    const byName = await api.request('GET', '/batches/wave%201');
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({ id, live: true, status: 'Created' });
  });

  it('answers 409 with the status and the allowed commands for a command the status does not allow', async () => {
    const res = await api.request('POST', `/batches/${id}/complete`);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: 'COMMAND_NOT_ALLOWED',
      message: 'complete is not allowed while the batch is Created',
      details: { status: 'Created', allowedCommands: ['start', 'edit', 'remove'] },
    });
    const { rows } = await api.db.pool.query(
      "select actor, outcome from audit_log where batch_id = $1 and command = 'complete'",
      [id],
    );
    expect(rows).toContainEqual({ actor: 'admin@example.com', outcome: 'rejected' });
  });

  it('starts the batch; real mail arrives at the destination and the batch reaches Synced', async () => {
    const res = await api.request('POST', `/batches/${id}/start`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ command: 'start', outcome: 'accepted' });
    const synced = await waitForStatus(id, ['Synced']);
    expect(synced).toMatchObject({ total: 2, synced: 2, failed: 0, percentageSynced: 100, live: true });
    expect(synced.startedAt).toEqual(expect.any(String));
    expect(synced.initialSyncAt).toEqual(expect.any(String));
    expect(synced.nextIncrementalSyncAt).toEqual(expect.any(String));
    expect(synced.autoStopAt).toEqual(expect.any(String));
    const arrived = await destination.readMailbox('alice@example.com');
    expect(arrived.length).toBe(2);
    // Bob's mail went where his CSV row's override said, under that login; his own destination mailbox is empty.
    expect((await destination.readMailbox(BOB_OVERRIDE.userName)).length).toBe(2);
    expect(await destination.readMailbox('bob@example.com')).toEqual([]);
  });

  it('treats a repeated start as harmless: 200 alreadyApplied with the current state', async () => {
    const res = await api.request('POST', '/batches/Wave 1/start');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ command: 'start', outcome: 'alreadyApplied', batch: { status: 'Synced' } });
  });

  it('lists batches with the seed columns, filtered, sorted and paged', async () => {
    const list = await api.request(
      'GET',
      '/batches?status=Synced,SyncedWithErrors&sort=name&order=asc&page=1&pageSize=10',
      {
        token: api.viewerToken,
      },
    );
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 1, page: 1, pageSize: 10 });
    expect(list.body.items[0]).toEqual({
      id,
      name: 'Wave 1',
      status: 'Synced',
      statusLabel: 'Synced',
      percentageSynced: 100,
      total: 2,
      synced: 2,
      finalized: 0,
      failed: 0,
      allowedCommands: ['stop', 'complete', 'edit', 'remove', 'syncNow', 'verify'],
      createdAt: expect.any(String),
      createdBy: 'admin@example.com',
    });
    const none = await api.request('GET', '/batches?status=Failed');
    expect(none.body).toMatchObject({ items: [], total: 0 });
    const bad = await api.request('GET', '/batches?status=Bogus');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const badSort = await api.request('GET', '/batches?sort=password');
    expect(badSort.status).toBe(400);
  });

  it('edits the batch through the workflow', async () => {
    const res = await api.request('PATCH', `/batches/${id}`, {
      json: { autoComplete: false, badItemLimit: 3, folderInclude: ['INBOX', 'Work'] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      command: 'edit',
      outcome: 'accepted',
      batch: { badItemLimit: 3, folderInclude: ['INBOX', 'Work'] },
    });
    const empty = await api.request('PATCH', `/batches/${id}`, { json: {} });
    expect(empty.status).toBe(400);
  });

  it('moves the batch to another endpoint by edit, in the read model and the workflow alike', async () => {
    const spare = await createEndpoint(api, 'Destination spare', destinationSettings());
    const workflowEndpoints = async () =>
      (await env.client.workflow.getHandle('batch:Wave 1').query(statusQuery)).endpoints;
    const moved = await api.request('PATCH', `/batches/${id}`, { json: { destinationEndpointId: spare } });
    expect(moved.status).toBe(200);
    expect(moved.body.batch.destinationEndpoint).toMatchObject({ id: spare, name: 'Destination spare' });
    expect(await workflowEndpoints()).toEqual({ sourceEndpointId: sourceEndpoint, destinationEndpointId: spare });
    const back = await api.request('PATCH', `/batches/${id}`, { json: { destinationEndpointId: destinationEndpoint } });
    expect(back.body.batch.destinationEndpoint).toMatchObject({ id: destinationEndpoint });
    expect(await workflowEndpoints()).toEqual({
      sourceEndpointId: sourceEndpoint,
      destinationEndpointId: destinationEndpoint,
    });
    expect((await api.request('DELETE', `/endpoints/${spare}`)).status).toBe(204);
  });

  it('adds mailboxes to the batch (all or nothing) and reports them', async () => {
    const dup = await api.request('POST', `/batches/${id}/mailboxes`, {
      body: csvOf(['alice@example.com']),
      contentType: 'text/csv',
    });
    expect(dup.status).toBe(422);
    expect(dup.body.error.details.problems).toEqual([
      { line: 2, column: 'EmailAddress', code: 'DUPLICATE_ROW', message: 'alice@example.com is already in this batch' },
    ]);
    const added = await api.request('POST', `/batches/${id}/mailboxes`, {
      json: {
        mailboxes: [
          {
            emailAddress: 'carol@example.com',
            userName: 'carol@example.com',
            password: PASSWORDS['carol@example.com'],
          },
        ],
      },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ added: 1, total: 3 });

    const page = await api.request('GET', `/batches/${id}/mailboxes?pageSize=2&page=1`, { token: api.viewerToken });
    expect(page.body).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(page.body.items).toHaveLength(2);
    expect(page.body.items[0]).toMatchObject({ emailAddress: 'alice@example.com', status: 'Synced', itemsSynced: 2 });
    const search = await api.request('GET', `/batches/${id}/mailboxes?search=CAROL`);
    expect(search.body.items.map((m: { emailAddress: string }) => m.emailAddress)).toEqual(['carol@example.com']);
    const queued = await api.request('GET', `/batches/${id}/mailboxes?status=Queued`);
    expect(queued.body.total).toBe(1);
    const wildcard = await api.request('GET', `/batches/${id}/mailboxes?search=%25`);
    expect(wildcard.body.total).toBe(0);
  });

  it('syncs now: an incremental pass runs, syncs the added mailbox, and the last sync time moves', async () => {
    const before = (await api.request('GET', `/batches/${id}`)).body.lastSyncedAt;
    const res = await api.request('POST', `/batches/${id}/sync-now`);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('accepted');
    await waitFor(
      async () => {
        const b = (await api.request('GET', `/batches/${id}`)).body;
        return b.status === 'Synced' && b.lastSyncedAt !== before;
      },
      'an incremental sync to end',
      { timeoutMs: 60_000, intervalMs: 200, describe: async () => (await api.request('GET', `/batches/${id}`)).text },
    );
  });

  it('exports the report as CSV and lists skipped items and progress', async () => {
    const csv = await api.request('GET', `/batches/${id}/mailboxes.csv`, { token: api.viewerToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'EmailAddress,UserName,Status,ItemsSynced,ItemsSkipped,ItemsTotal,BytesSynced,FoldersSynced,FoldersTotal,StartedAt,InitialSyncAt,LastSyncedAt,FinalizedAt,ErrorCode,Error,ConsistencyGrade,MailItemsSynced,CalendarItemsSynced,ContactsSynced',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^alice@example\.com,alice@example\.com,Synced,2,0,/);
    // Carol was added after the initial sync; sync-now's incremental pass synced her too.
    expect(lines[3]).toMatch(/^carol@example\.com,carol@example\.com,Synced,2,0,/);
    const filtered = await api.request('GET', `/batches/${id}/mailboxes.csv?status=Synced&search=CAR`);
    expect(filtered.text.trim().split('\r\n').slice(1)).toEqual([expect.stringMatching(/^carol@example\.com,/)]);
    const nothing = await api.request('GET', `/batches/${id}/mailboxes.csv?status=Failed`);
    expect(nothing.text.trim().split('\r\n')).toHaveLength(1);
    expect((await api.request('GET', `/batches/${id}/mailboxes.csv?status=Bogus`)).status).toBe(400);

    const { rows } = await api.db.pool.query<{ id: string }>(
      "select id from mailboxes where email = 'bob@example.com'",
    );
    const mailboxId = rows[0]!.id;
    // A spreadsheet must not run an error text as a formula.
    await api.db.pool.query(
      `update mailboxes set last_error = '=HYPERLINK("http://evil","x")' where email = 'carol@example.com'`,
    );
    const defused = await api.request('GET', `/batches/${id}/mailboxes.csv`);
    expect(defused.text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    await api.db.pool.query(`update mailboxes set last_error = null where email = 'carol@example.com'`);
    await api.db.pool.query(
      `insert into skipped_items (mailbox_id, folder, source_uid, subject, size_bytes, reason) values ($1, 'Work', 7, 'huge', 999999999, 'too large')`,
      [mailboxId],
    );
    const skipped = await api.request('GET', `/batches/${id}/mailboxes/${mailboxId}/skipped-items`);
    expect(skipped.body).toMatchObject({
      total: 1,
      items: [{ folder: 'Work', sourceUid: 7, subject: 'huge', reason: 'too large' }],
    });
    const wrong = await api.request('GET', `/batches/${id}/mailboxes/999999/skipped-items`);
    expect([wrong.status, wrong.body.error.code]).toEqual([404, 'MAILBOX_NOT_FOUND']);

    const progress = await api.request('GET', `/batches/${id}/progress`);
    expect(progress.status).toBe(200);
    expect(progress.body.items.length).toBeGreaterThan(0);
    expect(progress.body.items[0]).toEqual({
      at: expect.any(String),
      synced: expect.any(Number),
      failed: 0,
      finalized: 0,
      itemsSynced: expect.any(Number),
    });
  });

  it('stops, treats a second stop as harmless, and resumes', async () => {
    const stop = await api.request('POST', `/batches/${id}/stop`);
    expect(stop.status).toBe(200);
    await waitForStatus(id, ['Stopped']);
    const again = await api.request('POST', `/batches/${id}/stop`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'alreadyApplied', batch: { status: 'Stopped' } });
    const complete = await api.request('POST', `/batches/${id}/complete`);
    expect(complete.status).toBe(409);
    expect(complete.body.error.details).toEqual({
      status: 'Stopped',
      allowedCommands: ['start', 'resume', 'edit', 'remove', 'verify'],
    });
    const resume = await api.request('POST', `/batches/${id}/resume`);
    expect(resume.status).toBe(200);
    const synced = await waitForStatus(id, ['Synced']);
    expect(synced).toMatchObject({ total: 3, synced: 3 });
    expect((await destination.readMailbox('carol@example.com')).length).toBe(2);
  });

  it('completes: every mailbox finalized', async () => {
    const res = await api.request('POST', `/batches/${id}/complete`);
    expect(res.status).toBe(200);
    const done = await waitForStatus(id, ['Completed']);
    expect(done).toMatchObject({ finalized: 3, total: 3, allowedCommands: ['remove', 'verify'] });
    expect(done.removeAt).toEqual(expect.any(String));
    const stats = await api.request('GET', '/statistics', { token: api.viewerToken });
    expect(stats.body).toMatchObject({
      totalMailboxes: 3,
      syncedMailboxes: 3,
      finalizedMailboxes: 3,
      failedMailboxes: 0,
    });
    const again = await api.request('POST', `/batches/${id}/complete`);
    expect(again.body.outcome).toBe('alreadyApplied');
  });

  it('deletes the batch: the workflow removes its rows and ends, its audit entries stay; a second delete is 404', async () => {
    const res = await api.request('DELETE', `/batches/${id}`);
    expect(res.status).toBe(202);
    expect(res.body.command).toBe('remove');
    await waitFor(async () => (await api.request('GET', `/batches/${id}`)).status === 404, 'the batch to go away', {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const { rows } = await api.db.pool.query(
      `select (select count(*)::int from batches) as b, (select count(*)::int from mailboxes) as m,
              (select count(*)::int from batch_progress) as p, (select count(*)::int from audit_log where batch_id = $1) as a`,
      [id],
    );
    expect(rows[0]).toMatchObject({ b: 0, m: 0, p: 0 });
    expect(rows[0].a).toBeGreaterThan(0);
    // Who removed the batch stays on record after its removal.
    const { rows: removals } = await api.db.pool.query(
      "select actor, outcome from audit_log where batch_id = $1 and command = 'remove'",
      [id],
    );
    expect(removals).toEqual([{ actor: 'admin@example.com', outcome: 'accepted' }]);
    const again = await api.request('DELETE', `/batches/${id}`);
    expect([again.status, again.body.error.code]).toEqual([404, 'BATCH_NOT_FOUND']);
  });

  it('can create a batch of the same name again once the old one is gone', async () => {
    const res = await api.request('POST', '/batches', {
      json: {
        name: 'Wave 1',
        sourceEndpointId: sourceEndpoint,
        destinationEndpointId: destinationEndpoint,
        mailboxes: [
          {
            emailAddress: 'alice@example.com',
            userName: 'alice@example.com',
            password: PASSWORDS['alice@example.com'],
          },
        ],
      },
    });
    expect(res.status).toBe(201);
    const del = await api.request('DELETE', '/batches/Wave 1');
    expect(del.status).toBe(202);
  });
});

describe('the CLI on a real batch', () => {
  async function cli(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: { MAILFERRY_URL: api.url, MAILFERRY_TOKEN: api.adminToken },
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    cliOutput.push(stdout, stderr);
    return { code, stdout, stderr };
  }

  it('creates a batch from a CSV file, starts it, shows it, exports its report and deletes it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-cli-e2e-'));
    const csvFile = path.join(dir, 'wave.csv');
    await writeFile(csvFile, csvOf(['bob@example.com']));
    const created = await cli([
      'batches',
      'create',
      '--name',
      'CLI wave',
      '--source',
      'Source',
      '--destination',
      'destination',
      '--csv',
      csvFile,
    ]);
    expect(created).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^created batch "CLI wave" \(.+\) with 1 mailbox\(es\), status Created\n$/),
    });
    const started = await cli(['batches', 'start', 'CLI wave']);
    expect(started).toMatchObject({ code: 0, stdout: expect.stringMatching(/^start: accepted; batch "CLI wave" is /) });
    await waitForStatus('CLI wave', ['Synced']);
    const shown = await cli(['batches', 'show', 'cli wave']);
    expect(shown.stdout).toMatch(/Status\s+Synced/);
    expect(shown.stdout).toMatch(/Synced\s+1 \(100%\)/);
    expect(shown.stdout).toContain('Created by        admin@example.com');
    const exportFile = path.join(dir, 'report.csv');
    const exported = await cli(['batches', 'mailboxes', 'CLI wave', '--export', exportFile]);
    expect(exported.stdout).toBe(`wrote 1 mailbox(es) to ${exportFile}\n`);
    const again = await cli(['batches', 'start', 'CLI wave']);
    expect(again.stdout).toBe('start: already in effect; batch "CLI wave" is Synced\n');
    const deleted = await cli(['batches', 'delete', 'CLI wave']);
    expect(deleted.code).toBe(0);
  });
});

describe('a destination override in the CSV', () => {
  it('is the login used: a wrong DestinationPassword fails that mailbox with AUTH_FAILED (the master login would have worked)', async () => {
    const created = await api.request('POST', '/batches', {
      json: {
        name: 'Override wave',
        sourceEndpointId: sourceEndpoint,
        destinationEndpointId: destinationEndpoint,
        csv: csvOf(['carol@example.com'], { 'carol@example.com': WRONG_OVERRIDE }),
        autoStart: true,
      },
    });
    expect(created.status).toBe(201);
    const failed = await waitForStatus('Override wave', ['Failed', 'Synced', 'SyncedWithErrors']);
    expect(failed).toMatchObject({ status: 'Failed', failed: 1, synced: 0 });
    const report = await api.request('GET', '/batches/Override wave/mailboxes');
    expect(report.body.items).toEqual([
      expect.objectContaining({ emailAddress: 'carol@example.com', status: 'Failed', lastErrorCode: 'AUTH_FAILED' }),
    ]);
    expect(report.body.items[0].lastError).toContain('destination');
    const del = await api.request('DELETE', '/batches/Override wave');
    expect(del.status).toBe(202);
  });
});

describe('the command table at the API', () => {
  /** Where a repeated command has already taken effect (docs/api.md, "Commands and idempotency"). */
  const ALREADY_IN_EFFECT: Record<BatchCommand, BatchStatus[]> = {
    start: ['Queued', 'Starting', 'Syncing', 'Synced', 'SyncedWithErrors'],
    stop: ['Stopping', 'Stopped'],
    resume: ['Queued', 'Starting', 'Syncing', 'Synced'],
    complete: ['Completing', 'Completed'],
    syncNow: ['Queued', 'Starting', 'Syncing'],
    remove: ['Removing'],
    edit: [],
    verify: [],
  };

  /**
   * For every (status, command) pair: a batch row in that status whose workflow does not exist, so the answer
   * is the API's own check. Not allowed → 409 with the status and the allowed commands; already in effect →
   * 200 alreadyApplied; allowed → handed to the workflow, which is not running (409 WORKFLOW_NOT_RUNNING), except
   * remove, which deletes the orphaned rows itself.
   */
  const verbs: Record<BatchCommand, { method: string; path: (id: string) => string; json?: unknown }> = {
    start: { method: 'POST', path: (i) => `/batches/${i}/start` },
    stop: { method: 'POST', path: (i) => `/batches/${i}/stop` },
    resume: { method: 'POST', path: (i) => `/batches/${i}/resume` },
    complete: { method: 'POST', path: (i) => `/batches/${i}/complete` },
    syncNow: { method: 'POST', path: (i) => `/batches/${i}/sync-now` },
    edit: { method: 'PATCH', path: (i) => `/batches/${i}`, json: { autoComplete: true } },
    remove: { method: 'DELETE', path: (i) => `/batches/${i}` },
    verify: { method: 'POST', path: (i) => `/batches/${i}/verify`, json: {} },
  };

  it('covers every status', () => {
    expect(Object.keys(SEED_COMMAND_TABLE).sort()).toEqual([...BATCH_STATUSES].sort());
  });

  it('answers every pair as the table says', async () => {
    const results: string[] = [];
    const expected: string[] = [];
    for (const status of BATCH_STATUSES) {
      for (const [command, verb] of Object.entries(verbs) as [BatchCommand, (typeof verbs)[BatchCommand]][]) {
        const batchId = randomUUID();
        await api.db.pool.query(
          `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
           values ($1, $2, $3, $4, $5, $5, 'x')`,
          [batchId, `t-${batchId}`, `batch:t-${batchId}`, status, sourceEndpoint],
        );
        const res = await api.request(verb.method, verb.path(batchId), verb.json ? { json: verb.json } : {});
        let want: string;
        if (command === 'remove' && status === 'Removing')
          want = '202 accepted'; // no workflow left: the API removes the rows
        else if (ALREADY_IN_EFFECT[command].includes(status)) want = '200 alreadyApplied';
        else if (!SEED_COMMAND_TABLE[status].includes(command))
          want = `409 COMMAND_NOT_ALLOWED ${SEED_COMMAND_TABLE[status].join(',')}`;
        else if (command === 'remove') want = '202 accepted';
        else want = '409 WORKFLOW_NOT_RUNNING';
        const got =
          res.status === 409 && res.body.error.code === 'COMMAND_NOT_ALLOWED'
            ? `409 COMMAND_NOT_ALLOWED ${res.body.error.details.allowedCommands.join(',')}`
            : `${res.status} ${res.body.outcome ?? res.body.error?.code}`;
        results.push(`${status} ${command}: ${got}`);
        expected.push(`${status} ${command}: ${want}`);
        if (res.status === 409 && res.body.error.code === 'COMMAND_NOT_ALLOWED') {
          expect(res.body.error.details.status).toBe(status);
        }
        if (want === '202 accepted') {
          // Removed without a workflow, as the workflow's removal would: no batch row, and the removal on record.
          const { rows } = await api.db.pool.query<{ b: number; r: number }>(
            `select (select count(*)::int from batches where id = $1) as b,
                    (select count(*)::int from audit_log where batch_id = $1 and command = 'remove' and outcome = 'accepted') as r`,
            [batchId],
          );
          expect(`${status} ${command}: ${rows[0]!.b} rows, ${rows[0]!.r} removal`).toBe(
            `${status} ${command}: 0 rows, 1 removal`,
          );
        }
        await api.db.pool.query('delete from batches where id = $1', [batchId]);
      }
    }
    expect(results).toEqual(expected);
  });
});

describe('secrets', () => {
  /** Every run of every workflow on the server, its history as JSON with each payload's data decoded next to it. */
  async function allHistories(): Promise<Map<string, { workflowId: string; text: string; decoded: string }>> {
    const runs = new Map<string, { workflowId: string; text: string; decoded: string; next?: string; prev?: string }>();
    const fetchRun = async (workflowId: string, runId: string) => {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const decoded: string[] = [];
      const walk = (v: unknown): void => {
        if (v instanceof Uint8Array) decoded.push(Buffer.from(v).toString('utf8'));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, child] of Object.entries(v)) {
            if (k === 'data' && typeof child === 'string') decoded.push(Buffer.from(child, 'base64').toString('utf8'));
            else walk(child);
          }
        }
      };
      walk(history);
      const events = history.events ?? [];
      runs.set(runId, {
        workflowId,
        text: JSON.stringify(history),
        decoded: decoded.join('\n'),
        next: events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined,
        prev: events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined,
      });
    };
    const listed: WorkflowExecutionInfo[] = [];
    for await (const execution of env.client.workflow.list()) listed.push(execution);
    for (const e of listed) await fetchRun(e.workflowId, e.runId);
    // Follow continue-as-new both ways from every listed run, so no run of a chain is missed.
    for (let added = true; added;) {
      added = false;
      for (const run of [...runs.values()]) {
        for (const linked of [run.next, run.prev]) {
          if (linked && !runs.has(linked)) {
            await fetchRun(run.workflowId, linked);
            added = true;
          }
        }
      }
    }
    return runs;
  }

  it('keeps every password sent out of the responses, the API log, the CLI output, the worker log and every workflow history', async () => {
    // Wave 1's first incarnation and its re-creation, the CLI's batch and the override batch: each has a run listed.
    const wanted = ['batch:Wave 1', 'batch:CLI wave', 'batch:Override wave'];
    const listed = (histories: Awaited<ReturnType<typeof allHistories>>) =>
      wanted.every((w) => [...histories.values()].some((r) => r.workflowId === w));
    let runs = await allHistories();
    if (!listed(runs)) {
      runs = await waitFor(
        async () => {
          const now = await allHistories();
          return listed(now) && now;
        },
        'every batch to have a run listed',
        { intervalMs: 200 },
      );
    }
    const wave1 = [...runs.values()].filter((r) => r.workflowId === 'batch:Wave 1');
    expect(wave1.length).toBeGreaterThanOrEqual(2);
    expect(listed(runs)).toBe(true);
    // The histories are real: they name the batch and its mailboxes' ids, not their passwords.
    expect(wave1.map((r) => r.decoded).join('\n')).toContain('Wave 1');
    // The worker's log was captured: the sync activity ran under it.
    expect(workerLog.join('\n')).toContain('syncMailbox');
    expect(api.responses.length).toBeGreaterThan(50);
    expect(cliOutput.join('')).toContain('CLI wave');

    expect(SENT_SECRETS).toHaveLength(3 + 2 * Object.keys(PASSWORDS).length);
    // A secret is searched as written and as it appears inside a JSON string (quotes escaped).
    const has = (text: string, secret: string) =>
      text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1));
    const leaks: string[] = [];
    for (const secret of SENT_SECRETS) {
      for (const [runId, run] of runs) {
        if (has(run.text, secret) || has(run.decoded, secret)) leaks.push(`${secret} in ${run.workflowId} ${runId}`);
      }
      api.responses.forEach((body, i) => has(body, secret) && leaks.push(`${secret} in response #${i}`));
      if (has(api.logger.text(), secret)) leaks.push(`${secret} in the API log`);
      if (has(cliOutput.join(''), secret)) leaks.push(`${secret} in the CLI output`);
      if (has(workerLog.join('\n'), secret)) leaks.push(`${secret} in the worker log`);
    }
    expect(leaks).toEqual([]);
  });
});
