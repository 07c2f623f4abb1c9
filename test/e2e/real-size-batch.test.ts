import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { waitFor } from '../fixtures/wait-for';

/**
 * A batch of real size on the real pieces, at the product's default concurrency (100 syncs per batch, 120
 * activity slots, a worker pool of 30 connections beside the API's own): 150 real mailboxes on two Dovecots,
 * filled by writing the source's Maildir directly. While it runs, the API must keep answering (health, the batch
 * list, a command) within a liveness bound, and Stop must work in the middle of the syncs; afterwards every
 * message is on the destination exactly once. Before the syncs stopped pinning pooled connections, twenty of
 * them froze the worker and the API for good.
 */
const MAILBOXES = 150;
const USERS = Array.from({ length: MAILBOXES }, (_, i) => `user${String(i).padStart(3, '0')}@fabrikam.com`);
const PASSWORD = (user: string) => `pw-${user.slice(0, 7)}-S3cret!`;
const MASTER = { user: 'migrator', password: 'master-Pa55word' };
/** A liveness bound, not a speed target: an API that answers at all while 100 syncs run. */
const LIVENESS_MS = 5_000;

let product: RunningProduct;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  [product, source, destination] = await Promise.all([
    startProduct({ progressIntervalMs: 2000 }),
    startDovecot({ users: USERS.map((u) => ({ user: u, password: PASSWORD(u) })) }),
    startDovecot({ masterUser: MASTER, users: USERS.map((u) => ({ user: u, password: 'unused' })) }),
  ]);
  for (const [i, user] of USERS.entries()) {
    await source.writeMaildir(
      user,
      Array.from({ length: 4 }, (_, n) => ({
        folder: n < 3 ? 'INBOX' : 'Projects',
        raw: buildMessage({ subject: `${user} message ${n}`, size: n === 0 ? 20_000 + i : undefined }),
        flags: n === 1 ? ['\\Seen', '\\Flagged'] : ['\\Seen'],
        internalDate: new Date(Date.UTC(2024, 0, 1 + n, 8)),
      })),
    );
  }
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([product?.stop(), source?.close(), destination?.close()]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);

/** Calls the API every 250 ms until stopped, and keeps the slowest answer and any failure of each kind. */
function watchLiveness() {
  const slowest: Record<string, number> = {};
  const failures: string[] = [];
  let running = true;
  const probe = async (what: string, call: () => Promise<{ status: number }>) => {
    const started = Date.now();
    const timer = new Promise<{ status: number }>((resolve) =>
      setTimeout(() => resolve({ status: 0 }), LIVENESS_MS * 2).unref(),
    );
    const res = await Promise.race([call().catch(() => ({ status: -1 })), timer]);
    const ms = Date.now() - started;
    slowest[what] = Math.max(slowest[what] ?? 0, ms);
    if (res.status !== 200) failures.push(`${what}: status ${res.status} after ${ms} ms`);
  };
  const loop = (async () => {
    while (running) {
      await Promise.all([
        probe('health', () => product.api.request('GET', '/health')),
        probe('list', () => product.api.request('GET', '/batches')),
      ]);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    slowest,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function timedCommand(path: string): Promise<number> {
  const started = Date.now();
  const res = await product.api.request('POST', path);
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return Date.now() - started;
}

/**
 * The failures of activity attempts that were retried, over every run of the batch's workflow (walked back through
 * continue-as-new): each retried attempt's failure is its next attempt's `lastFailure`.
 */
async function retriedActivityFailures(workflowId: string): Promise<string[]> {
  const failures: string[] = [];
  let runId: string | undefined;
  do {
    const history = await product.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId = undefined;
    for (const event of history.events ?? []) {
      const started = event.activityTaskStartedEventAttributes;
      const failure = started?.lastFailure;
      if (failure) failures.push(`${failure.applicationFailureInfo?.type ?? 'unknown'}: ${failure.message}`);
      runId ||= event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    }
  } while (runId);
  return failures;
}

async function batchCounts(id: string) {
  const b = await api('GET', `/batches/${id}`);
  return { status: b.status, total: b.total, synced: b.synced, failed: b.failed };
}

test('150 real mailboxes at the default concurrency reach Synced exactly once, with the API answering throughout and Stop working mid-sync', async () => {
  const sourceEndpoint = await api('POST', '/endpoints', {
    name: 'Fabrikam old',
    type: 'imap',
    host: source.host,
    port: source.port,
    security: 'none',
  });
  const destinationEndpoint = await api('POST', '/endpoints', {
    name: 'Fabrikam new',
    type: 'imap',
    host: destination.host,
    port: destination.port,
    security: 'none',
    adminUser: MASTER.user,
    adminPassword: MASTER.password,
    testMailbox: { userName: USERS[0] },
  });
  const csv = ['EmailAddress,UserName,Password', ...USERS.map((u) => `${u},${u},${PASSWORD(u)}`)].join('\n');
  const created = await api('POST', '/batches', {
    name: 'Fabrikam all staff',
    sourceEndpointId: sourceEndpoint.id,
    destinationEndpointId: destinationEndpoint.id,
    csv,
  });
  const id: string = created.id;
  await waitFor(async () => (await batchCounts(id)).status === 'Created', 'the batch to be Created');

  const liveness = watchLiveness();
  try {
    // Stop while the first syncs run: the running syncs are cancelled, the batch settles in Stopped.
    expect(await timedCommand(`/batches/${id}/start`)).toBeLessThan(LIVENESS_MS);
    await waitFor(
      async () => {
        const { rows } = await product.api.db.pool.query<{ n: number }>(
          `select count(*)::int as n from mailboxes where batch_id = $1 and status = 'Syncing'`,
          [id],
        );
        return rows[0]!.n >= 20;
      },
      'twenty syncs to be running at once',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(await timedCommand(`/batches/${id}/stop`)).toBeLessThan(LIVENESS_MS);
    const stopped = await waitFor(
      async () => {
        const c = await batchCounts(id);
        return c.status === 'Stopped' && c;
      },
      'the batch to stop mid-sync',
      { timeoutMs: 60_000, describe: () => batchCounts(id) },
    );
    expect(stopped.synced).toBeLessThan(MAILBOXES);

    // Resume: every mailbox, the ones already synced included, ends Synced.
    expect(await timedCommand(`/batches/${id}/resume`)).toBeLessThan(LIVENESS_MS);
    const synced = await waitFor(
      async () => {
        const c = await batchCounts(id);
        return c.status === 'Synced' && c;
      },
      'the batch to reach Synced',
      { timeoutMs: 240_000, intervalMs: 500, describe: () => batchCounts(id) },
    );
    expect(synced).toEqual({ status: 'Synced', total: MAILBOXES, synced: MAILBOXES, failed: 0 });
  } finally {
    await liveness.stop();
  }
  expect(liveness.failures).toEqual([]);
  console.log(`slowest API answers while the batch synced (ms): ${JSON.stringify(liveness.slowest)}`);
  for (const [what, ms] of Object.entries(liveness.slowest)) {
    expect({ what, answeredWithinBound: ms < LIVENESS_MS }).toEqual({ what, answeredWithinBound: true });
  }

  // Every message of every mailbox is on the destination exactly once, byte for byte, with flags and dates.
  for (const user of USERS) {
    const from = comparableMessages(await source.readMailbox(user), { prefix: '', separator: '/' });
    const to = comparableMessages(await destination.readMailbox(user), { prefix: '', separator: '/' });
    expect({ user, messages: to }).toEqual({ user, messages: from });
  }
  const { rows } = await product.api.db.pool.query<{ n: number }>(`select count(*)::int as n from endpoint_leases`);
  expect(rows[0]!.n).toBe(0);

  // The batch never contended on its own database: when 100 syncs took their endpoint slots in a transaction of
  // seven round trips, a few of them waited past the lock timeout in every run and were retried.
  const retried = await retriedActivityFailures((await api('GET', `/batches/${id}`)).workflowId);
  console.log(`activity attempts retried: ${retried.length}${retried.length ? `\n${retried.join('\n')}` : ''}`);
  expect(retried.filter((failure) => failure.startsWith('DB_'))).toEqual([]);
}, 420_000);
