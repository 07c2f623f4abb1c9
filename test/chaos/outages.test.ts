/**
 * Say what is wrong (issue #10): in the production-shaped deployment of ./deployment.ts, PostgreSQL, Temporal and
 * the destination IMAP server each go down for several of the API's 2-second checks and come back. Each loss and
 * each return is logged once (not once per check or retry), GET /health shows the part down since when with its
 * last error and then up again (the workers log the same in theirs), and a mailbox that cannot reach its
 * destination says so with the side named.
 */
import { buildMessage } from '../fixtures/dovecot';
import { waitFor } from '../fixtures/wait-for';
import { startDeployment, type Deployment, type Part } from './deployment';
import { MASTER } from './chaos-run';

const USERS = ['ann@outage.test', 'bob@outage.test'];
const PASSWORD = 'outage-Pw!1';
/** Long enough for the API's watch (every 2 s) to see the part down three times or more. */
const DOWN_MS = 7_000;

let d: Deployment;

beforeAll(async () => {
  d = await startDeployment({
    users: USERS.map((user) => ({ user, password: PASSWORD })),
    masterUser: MASTER,
    slotsPerWorker: 2,
  });
  for (const user of USERS) {
    await d.source.writeMaildir(
      user,
      Array.from({ length: 20 }, (_, i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `${user} ${i}` }) })),
    );
  }
}, 180_000);

afterAll(async () => {
  await d?.close();
});

const linesSaying = (lines: Array<Record<string, unknown>>, msg: string) => lines.filter((l) => l.msg === msg);

/** Each worker's JSON log lines so far. */
const linesOfWorkers = () =>
  d.workers.map((w) =>
    w
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );

async function componentState(name: string): Promise<{ ok: boolean; since: string; lastError?: string } | undefined> {
  const { body } = await d.health();
  return (body.components ?? body.error?.details?.components)?.[name];
}

/** Takes `part` down for DOWN_MS, checking /health while it is down and after it is back. */
async function outage(part: Part, component: string): Promise<void> {
  const before = d.api.logLines().length;
  const workersBefore = linesOfWorkers().map((lines) => lines.length);
  const killed = Date.now();
  await part.kill();
  const down = await waitFor(async () => {
    const state = await componentState(component);
    return state && !state.ok && state;
  }, `/health shows ${component} down`);
  expect(Date.parse(down.since)).toBeGreaterThanOrEqual(killed - 1000);
  expect(down.lastError).toEqual(expect.any(String));
  const { status } = await d.health();
  expect(status).toBe(503);
  await new Promise((r) => setTimeout(r, Math.max(0, DOWN_MS - (Date.now() - killed))));
  await part.start();
  await waitFor(
    async () => (await d.health()).status === 200 && (await componentState(component))?.ok,
    `${component} up`,
    {
      timeoutMs: 30_000,
    },
  );
  await new Promise((r) => setTimeout(r, 4_000)); // two more checks: nothing more is logged
  const lines = d.api.logLines().slice(before);
  expect(linesSaying(lines, `${component} unreachable`)).toHaveLength(1);
  expect(linesSaying(lines, `${component} reachable again`)).toEqual([
    expect.objectContaining({ level: 'info', component: 'api', part: component, downForMs: expect.any(Number) }),
  ]);
  // Each worker says the same in its own log, once each way.
  for (const [i, all] of linesOfWorkers().entries()) {
    const since = all.slice(workersBefore[i]);
    expect([
      linesSaying(since, `${component} unreachable`).length,
      linesSaying(since, `${component} reachable again`).length,
    ]).toEqual([1, 1]);
  }
}

test('PostgreSQL lost and regained: logged once each way, /health shows since when and why', async () => {
  await outage(d.postgres, 'PostgreSQL');
}, 90_000);

test('Temporal lost and regained: logged once each way, /health shows since when and why', async () => {
  await outage(d.temporal, 'Temporal');
}, 90_000);

test('the destination IMAP server lost and regained: logged once each way, the mailboxes say which side, the batch heals', async () => {
  const src = await d.call('POST', '/endpoints', {
    name: 'Outage old',
    type: 'imap',
    host: d.source.host,
    port: d.source.port,
    security: 'none',
  });
  const dst = await d.call('POST', '/endpoints', {
    name: 'Outage new',
    type: 'imap',
    host: d.destination.host,
    port: d.destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const component = `IMAP server Outage new (${d.destination.host}:${d.destination.port})`;
  const csv = ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD}`)].join('\n');
  const batch = await d.call('POST', '/batches', {
    name: 'Outage batch',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv,
  });
  const apiBefore = d.api.logLines().length;
  await d.destinationPart.kill();
  await d.call('POST', `/batches/${batch.id}/start`);

  // Each mailbox names the side it cannot reach, through two attempts or more.
  const workerLines = () => linesOfWorkers().flat();
  await waitFor(
    () => linesSaying(workerLines(), 'mailbox sync attempt failed').length >= 2 * USERS.length,
    'two failed attempts of each mailbox',
    { timeoutMs: 30_000 },
  );
  const { items } = await d.call('GET', `/batches/${batch.id}/mailboxes`);
  for (const m of items) {
    expect(m).toMatchObject({
      status: 'Syncing',
      lastErrorCode: 'CONNECTION_FAILED',
      lastError: expect.stringContaining('destination server unreachable'),
    });
  }
  const down = await componentState(component);
  expect(down).toMatchObject({ ok: false, lastError: expect.stringContaining('ECONNREFUSED') });
  // Each worker: one line for the lost server, however many attempts failed and checks it made.
  for (const lines of linesOfWorkers()) expect(linesSaying(lines, `${component} unreachable`)).toHaveLength(1);

  const back = Date.now();
  await d.destinationPart.start();
  await waitFor(async () => (await d.call('GET', `/batches/${batch.id}`)).status === 'Synced', 'the batch is Synced', {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  console.log(`the destination back: the batch Synced ${Date.now() - back} ms later`);
  await waitFor(async () => (await componentState(component))?.ok, `${component} up`);
  const apiLines = d.api.logLines().slice(apiBefore);
  expect(linesSaying(apiLines, `${component} unreachable`)).toHaveLength(1);
  expect(linesSaying(apiLines, `${component} reachable again`)).toHaveLength(1);
  await waitFor(
    () => linesOfWorkers().every((lines) => linesSaying(lines, `${component} reachable again`).length > 0),
    'each worker saw the server back',
  );
  await new Promise((r) => setTimeout(r, 4_000)); // two more checks: nothing more is logged
  for (const lines of linesOfWorkers()) {
    expect([
      linesSaying(lines, `${component} unreachable`).length,
      linesSaying(lines, `${component} reachable again`).length,
    ]).toEqual([1, 1]);
  }
}, 90_000);
