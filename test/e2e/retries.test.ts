import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker, type LogEntry } from '@temporalio/worker';
import { Registry, type Counter } from 'prom-client';
import { createSyncMetrics } from '../../observability/metrics';
import { createEndpoint, createRealWorker, startApi, type ApiHarness } from '../api/harness';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startImapProxy, type ImapProxy } from '../fixtures/imap-proxy';
import { devServerEnvironment } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';

/**
 * How failures are retried, end to end: the real batch workflow on `temporal server start-dev`, the real activities
 * in an in-process worker, PostgreSQL, two Dovecots and a TCP proxy in front of the destination that misbehaves on
 * cue. Network errors are retried by Temporal with backoff; a throttling answer slows the mailbox down inside the
 * activity instead of failing it; a refused login fails the mailbox at once, with the reason, and is not retried.
 */

/** What the worker logged (warnings and errors), printed when a wait times out. */
const workerLog: string[] = [];
Runtime.install({
  logger: new DefaultLogger('WARN', (entry: LogEntry) => workerLog.push(`${entry.level} ${entry.message}`)),
});

const MASTER = { user: 'migrator', password: 'Master-Pa55-retries' };
const OLGA = { email: 'olga@contoso.com', password: 'Olga-Src-Pass-1' };
const THEO = { email: 'theo@contoso.com', password: 'Theo-Src-Pass-2' };
const ANN = { email: 'ann@contoso.com', password: 'Ann-Src-Pass-3' };
const BERT = { email: 'bert@contoso.com', password: 'Bert-Src-Pass-4' };
const BERT_WRONG_PASSWORD = 'Bert-Typo-Pass-5';
/** Messages per folder and user. Theo's folders take two MULTIAPPENDs each (100 messages per command). */
const SEED: Record<string, [string, number][]> = {
  [OLGA.email]: [
    ['INBOX', 40],
    ['Archive', 25],
  ],
  [THEO.email]: [
    ['INBOX', 160],
    ['Archive', 130],
  ],
  [ANN.email]: [['INBOX', 12]],
  [BERT.email]: [['INBOX', 12]],
};
const total = (user: string) => SEED[user]!.reduce((n, [, count]) => n + count, 0);

/** What the worker's activities count (the metrics a worker process serves). */
const metrics = createSyncMetrics(new Registry());
async function counted<L extends string>(
  counter: Counter<L>,
  labels: Partial<Record<L, string>> = {},
): Promise<number> {
  const { values } = await counter.get();
  const match = values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k as L] === x));
  return match.reduce((n, v) => n + v.value, 0);
}
/** The answers the throttling proxy puts in place of the first tagged OKs of APPEND (server stored the messages). */
const THROTTLE_ANSWERS = ['NO [THROTTLED] Slow down', 'NO [UNAVAILABLE] Backend busy'];

let env: TestWorkflowEnvironment;
let api: ApiHarness;
let worker: Worker;
let workerRun: Promise<void>;
let source: DovecotServer;
let destination: DovecotServer;
/** In front of the destination for the outage: refuses connections on cue. */
let outageProxy: ImapProxy;
/** In front of the destination for throttling: rewrites the first APPEND answers. */
let throttleProxy: ImapProxy;
/** When the throttling proxy rewrote an APPEND answer, and on which connection; then each APPENDUID answer. */
const rewrites: { at: number; connection: number; answer: string }[] = [];
const appendAnswers: { at: number; connection: number }[] = [];
const endpoints: Record<'source' | 'outage' | 'throttle' | 'direct', string> = {
  source: '',
  outage: '',
  throttle: '',
  direct: '',
};
const taskQueue = `retries-${randomUUID()}`;

beforeAll(async () => {
  const users = Object.keys(SEED);
  [env, source, destination] = await Promise.all([
    devServerEnvironment(),
    startDovecot({ users: [OLGA, THEO, ANN, BERT].map((u) => ({ user: u.email, password: u.password })) }),
    startDovecot({ masterUser: MASTER, users: users.map((user) => ({ user, password: 'unused' })) }),
  ]);
  await Promise.all(
    users.map((user) =>
      source.seed(
        user,
        SEED[user]!.flatMap(([folder, n]) =>
          Array.from({ length: n }, (_, i) => ({
            folder,
            raw: buildMessage({ subject: `${user} ${folder} ${i}`, size: i % 7 === 0 ? 9_000 + i * 30 : undefined }),
            flags: i % 3 === 0 ? ['\\Seen'] : i % 3 === 1 ? ['\\Seen', '\\Flagged'] : [],
            internalDate: new Date(Date.UTC(2025, 0, 1 + (i % 28), 8, i % 60)),
          })),
        ),
      ),
    ),
  );
  outageProxy = await startImapProxy(destination);
  throttleProxy = await startImapProxy(destination, {
    fromServer(lines, connection) {
      const now = Date.now();
      return lines.replace(/^(\S+) OK \[APPENDUID [^\r\n]*\r\n/gm, (line, tag: string) => {
        if (rewrites.length < THROTTLE_ANSWERS.length) {
          const answer = THROTTLE_ANSWERS[rewrites.length]!;
          rewrites.push({ at: now, connection, answer });
          return `${tag} ${answer}\r\n`;
        }
        appendAnswers.push({ at: now, connection });
        return line;
      });
    },
  });
  api = await startApi({ temporal: env.client, taskQueue, searchAttributes: true });
  worker = await createRealWorker(env, api, taskQueue, { metrics });
  workerRun = worker.run();
  const imap = { security: 'none', provider: 'dovecot' };
  const admin = { adminUser: MASTER.user, adminPassword: MASTER.password };
  endpoints.source = await createEndpoint(api, 'Contoso old', { ...imap, host: source.host, port: source.port });
  endpoints.outage = await createEndpoint(api, 'Contoso new (outage)', {
    ...imap,
    ...admin,
    host: outageProxy.host,
    port: outageProxy.port,
  });
  endpoints.throttle = await createEndpoint(api, 'Contoso new (throttling)', {
    ...imap,
    ...admin,
    host: throttleProxy.host,
    port: throttleProxy.port,
  });
  endpoints.direct = await createEndpoint(api, 'Contoso new', {
    ...imap,
    ...admin,
    host: destination.host,
    port: destination.port,
  });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun?.catch(() => undefined);
  await api?.close();
  await env?.teardown();
  await Promise.allSettled([outageProxy?.close(), throttleProxy?.close()]);
  await Promise.allSettled([source?.close(), destination?.close()]);
});

interface MailboxReport {
  id: string;
  emailAddress: string;
  status: string;
  itemsSynced: number;
  itemsSkipped: number;
  lastError: string | null;
  lastErrorCode: string | null;
}

interface Batch {
  id: string;
  workflowId: string;
}

async function createBatch(
  name: string,
  destinationEndpointId: string,
  mailboxes: { email: string; password: string }[],
): Promise<Batch> {
  const res = await api.request('POST', '/batches', {
    json: {
      name,
      sourceEndpointId: endpoints.source,
      destinationEndpointId,
      mailboxes: mailboxes.map((m) => ({ emailAddress: m.email, userName: m.email, password: m.password })),
    },
  });
  if (res.status !== 201) throw new Error(`batch not created: ${res.status} ${res.text}`);
  const started = await api.request('POST', `/batches/${res.body.id}/start`);
  if (started.status >= 300) throw new Error(`batch not started: ${started.status} ${started.text}`);
  return { id: res.body.id, workflowId: res.body.workflowId };
}

async function report(batch: Batch): Promise<MailboxReport[]> {
  const res = await api.request('GET', `/batches/${batch.id}/mailboxes`);
  if (res.status !== 200) throw new Error(`report: ${res.status} ${res.text}`);
  return (res.body.items as MailboxReport[]).sort((a, b) => a.emailAddress.localeCompare(b.emailAddress));
}

/** Polls `probe` until it has a value; a probe that throws ends the wait at once. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const found = await waitFor(
    async () => {
      const value = await probe();
      return value === undefined ? undefined : { value };
    },
    what,
    {
      timeoutMs,
      intervalMs: 200,
      failFast: true,
      describe: async () => {
        const { rows } = await api.db.pool.query(
          'select email, status, last_error_code, last_error, items_synced from mailboxes order by email',
        );
        return { mailboxes: rows, workerLog };
      },
    },
  );
  return found.value;
}

async function batchReaches(batch: Batch, wanted: string, timeoutMs: number): Promise<Record<string, any>> {
  return until(
    `the batch is ${wanted}`,
    async () => {
      const res = await api.request('GET', `/batches/${batch.id}`);
      return res.body.status === wanted ? (res.body as Record<string, any>) : undefined;
    },
    timeoutMs,
  );
}

const eventMs = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/** Every syncMailbox activity of the batch's history: whose, the attempt it ended on, how it ended. */
async function syncActivities(batch: Batch) {
  const history = await env.client.workflow.getHandle(batch.workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncMailbox');
  return scheduled.map((s) => {
    const id = Number(s.eventId);
    const input = defaultPayloadConverter.fromPayload<{ mailboxId: string }>(
      s.activityTaskScheduledEventAttributes!.input!.payloads![0]!,
    );
    const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
    const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id);
    const failed = events.find((e) => Number(e.activityTaskFailedEventAttributes?.scheduledEventId) === id);
    const result = completed
      ? defaultPayloadConverter.fromPayload<{ status: string; errorCode?: string }>(
          completed.activityTaskCompletedEventAttributes!.result!.payloads![0]!,
        )
      : undefined;
    return {
      mailboxId: input.mailboxId,
      attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
      lastFailureType: started?.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type ?? null,
      result,
      failed: !!failed,
      /** How long the attempt that completed ran, in ms (event times). */
      ranMs: completed && started ? eventMs(completed) - eventMs(started) : undefined,
    };
  });
}

/** Every source message exactly once on the destination, byte for byte, with its flags and date. */
async function expectExactlyOnce(user: string): Promise<void> {
  const [from, to] = await Promise.all([source.readMailbox(user), destination.readMailbox(user)]);
  expect(from).toHaveLength(total(user));
  expect(to).toHaveLength(total(user));
  expect(comparableMessages(to, destination)).toEqual(comparableMessages(from, source));
}

async function intentsLeft(): Promise<number> {
  const { rows } = await api.db.pool.query<{ n: number }>('select count(*)::int as n from append_intents');
  return rows[0]!.n;
}

test('destination unreachable when the batch starts: the mailbox says why, Temporal retries, then exactly once', async () => {
  outageProxy.refuse();
  const connectionFailures = await counted(metrics.failures, { code: 'CONNECTION_FAILED', retry: 'transient' });
  const copiedBefore = await counted(metrics.messagesCopied);
  const batch = await createBatch('Outage wave', endpoints.outage, [OLGA]);

  // The first attempt fails; the mailbox is still Syncing and the read model says why.
  const [failing] = await until(
    'the mailbox reports the connection failure',
    async () => {
      const rows = await report(batch);
      return rows[0]?.lastErrorCode ? rows : undefined;
    },
    20_000,
  );
  expect(failing).toMatchObject({ emailAddress: OLGA.email, status: 'Syncing', lastErrorCode: 'CONNECTION_FAILED' });
  expect(failing!.lastError).toMatch(/^destination server/);
  expect(outageProxy.refused).toBeGreaterThanOrEqual(1);
  // Temporal holds the next attempt (10 s of backoff), with the failure that caused it.
  const handle = env.client.workflow.getHandle(batch.workflowId);
  const pending = await until(
    'Temporal schedules a second attempt',
    async () => {
      const d = await handle.describe();
      const p = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'syncMailbox');
      return p && (p.attempt ?? 0) >= 2 ? p : undefined;
    },
    10_000,
  );
  expect(pending.lastFailure?.applicationFailureInfo?.type).toBe('CONNECTION_FAILED');
  expect((await api.request('GET', `/batches/${batch.id}`)).body.status).toBe('Syncing');

  // The destination comes back before the retry: the second attempt syncs the mailbox.
  outageProxy.accept();
  const synced = await batchReaches(batch, 'Synced', 30_000);
  expect(synced).toMatchObject({ total: 1, synced: 1, failed: 0 });
  const [row] = await report(batch);
  expect(row).toMatchObject({ status: 'Synced', itemsSynced: total(OLGA.email), lastError: null, lastErrorCode: null });
  await expectExactlyOnce(OLGA.email);
  expect(await intentsLeft()).toBe(0);

  // In the history: one activity, retried by Temporal after CONNECTION_FAILED, and it completed.
  const activities = await syncActivities(batch);
  expect(activities).toHaveLength(1);
  expect(activities[0]).toMatchObject({ mailboxId: row!.id, lastFailureType: 'CONNECTION_FAILED', failed: false });
  expect(activities[0]!.attempt).toBeGreaterThanOrEqual(2);
  expect(activities[0]!.result).toEqual({ mailboxId: row!.id, status: 'Synced' });
  // The metrics say the same: one CONNECTION_FAILED per failed attempt, every message counted once.
  expect(await counted(metrics.failures, { code: 'CONNECTION_FAILED', retry: 'transient' })).toBe(
    connectionFailures + activities[0]!.attempt - 1,
  );
  expect((await counted(metrics.messagesCopied)) - copiedBefore).toBe(total(OLGA.email));
});

test('throttling answers to APPEND slow the mailbox down inside the activity: Synced, exactly once, no retry', async () => {
  const pausesBefore = await counted(metrics.throttlePauses, { side: 'destination' });
  const pausedBefore = await counted(metrics.throttlePauseSeconds, { side: 'destination' });
  const copiedBefore = await counted(metrics.messagesCopied);
  const batch = await createBatch('Throttled wave', endpoints.throttle, [THEO]);
  const synced = await batchReaches(batch, 'Synced', 40_000);
  expect(synced).toMatchObject({ total: 1, synced: 1, failed: 0 });

  // Both answers were rewritten (the server had stored those messages, the worker was told NO) ...
  expect(rewrites.map((r) => r.answer)).toEqual(THROTTLE_ANSWERS);
  // ... and each time the lane paused before appending again on that connection (2 s, the engine's first pause).
  for (const r of rewrites) {
    const next = appendAnswers.find((a) => a.connection === r.connection && a.at > r.at);
    expect(next).toBeDefined();
    expect(next!.at - r.at).toBeGreaterThanOrEqual(1900);
  }
  // Not a failure: no error on the mailbox, nothing skipped as refused, every message once, no intent left.
  const [row] = await report(batch);
  expect(row).toMatchObject({
    status: 'Synced',
    itemsSynced: total(THEO.email),
    itemsSkipped: 0,
    lastError: null,
    lastErrorCode: null,
  });
  await expectExactlyOnce(THEO.email);
  expect(await intentsLeft()).toBe(0);

  // The pause happened in the first attempt: Temporal never saw a failure.
  const activities = await syncActivities(batch);
  expect(activities).toEqual([
    expect.objectContaining({ mailboxId: row!.id, attempt: 1, lastFailureType: null, failed: false }),
  ]);
  expect(activities[0]!.result).toEqual({ mailboxId: row!.id, status: 'Synced' });
  expect(activities[0]!.ranMs).toBeGreaterThanOrEqual(1900);
  // Counted as two pauses of at least 2 s; the messages the server stored behind its NO count once, when found.
  expect((await counted(metrics.throttlePauses, { side: 'destination' })) - pausesBefore).toBe(2);
  expect((await counted(metrics.throttlePauseSeconds, { side: 'destination' })) - pausedBefore).toBeGreaterThanOrEqual(
    4,
  );
  expect((await counted(metrics.messagesCopied)) - copiedBefore).toBe(total(THEO.email));
});

test('a wrong source password fails that mailbox at once with the reason, without a retry', async () => {
  const authFailures = await counted(metrics.failures, { code: 'AUTH_FAILED', retry: 'mailbox' });
  const batch = await createBatch('Auth wave', endpoints.direct, [ANN, { ...BERT, password: BERT_WRONG_PASSWORD }]);
  const done = await batchReaches(batch, 'SyncedWithErrors', 30_000);
  expect(done).toMatchObject({ total: 2, synced: 1, failed: 1 });

  const [ann, bert] = await report(batch);
  expect(ann).toMatchObject({
    emailAddress: ANN.email,
    status: 'Synced',
    itemsSynced: total(ANN.email),
    lastErrorCode: null,
  });
  expect(bert).toMatchObject({
    emailAddress: BERT.email,
    status: 'Failed',
    lastErrorCode: 'AUTH_FAILED',
    itemsSynced: 0,
  });
  expect(bert!.lastError).toMatch(/^source server refused the login: /);
  expect(bert!.lastError).not.toContain(BERT_WRONG_PASSWORD);
  await expectExactlyOnce(ANN.email);
  expect(await destination.readMailbox(BERT.email)).toHaveLength(0);

  // One attempt, which returned Failed: Temporal did not retry it ...
  const activities = await syncActivities(batch);
  const bertRuns = activities.filter((a) => a.mailboxId === bert!.id);
  expect(bertRuns).toEqual([expect.objectContaining({ attempt: 1, lastFailureType: null, failed: false })]);
  expect(bertRuns[0]!.result).toMatchObject({ mailboxId: bert!.id, status: 'Failed', errorCode: 'AUTH_FAILED' });
  // ... and the source saw exactly one failed login for Bert: no retry storm.
  const log = await source.log();
  const refused = log.split('\n').filter((l) => l.includes(BERT.email) && /password mismatch/i.test(l));
  expect(refused).toHaveLength(1);
  expect(await counted(metrics.failures, { code: 'AUTH_FAILED', retry: 'mailbox' })).toBe(authFailures + 1);
});
