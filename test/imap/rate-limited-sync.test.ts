import { CancelledFailure } from '@temporalio/common';
import { createSyncMailboxActivities, type SyncMailboxInput } from '../../activities/sync-mailbox';
import { Registry } from 'prom-client';
import { silentLogger } from '../../observability/logger';
import { createSyncMetrics } from '../../observability/metrics';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, comparableMessages, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { waitFor } from '../fixtures/wait-for';
import { activityEnvironment, insertBatch, insertEndpoint, insertMailbox, mailboxRow, secretBox } from './helpers';

/**
 * The real syncMailbox activity against two Dovecots with the destination's rate limits set: the sync keeps to
 * the limit, and a spent daily budget holds the mailbox (QUOTA_BUDGET_EXHAUSTED, not Failed) until it is raised.
 */
let db: TestDatabase;
let source: DovecotServer;
let destination: DovecotServer;

beforeAll(async () => {
  db = await createTestDatabase();
  [source, destination] = await Promise.all([startDovecot(), startDovecot()]);
});
afterAll(async () => {
  await Promise.all([source?.close(), destination?.close()]);
  await db?.drop();
});

/** A batch of its own endpoints (so its buckets start empty) and one mailbox of `count` ~1 kB messages. */
async function limitedMailbox(user: string, count: number, uploadLimits: Record<string, number | null>) {
  await Promise.all([source.addUser(user, 'src-pw'), destination.addUser(user, 'dst-pw')]);
  await source.seed(
    user,
    Array.from({ length: count }, (_, i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `m${i}`, size: 1000 }) })),
  );
  const src = await insertEndpoint(db.pool, source);
  const dst = await insertEndpoint(db.pool, destination);
  await db.pool.query('update endpoints set rate_limits = $2 where id = $1', [dst, { upload: uploadLimits }]);
  const batchId = await insertBatch(db.pool, src, dst);
  const mailboxId = await insertMailbox(db.pool, batchId, {
    email: user,
    sourcePassword: 'src-pw',
    destinationPassword: 'dst-pw',
  });
  return { dst, input: { batchId, mailboxId, pass: 'initial' } satisfies SyncMailboxInput };
}

let registry: Registry;
const activity = () => {
  registry = new Registry();
  return createSyncMailboxActivities({
    ...db,
    secretBox,
    logger: silentLogger,
    budgetPollMs: 100,
    metrics: createSyncMetrics(registry),
  }).syncMailbox;
};
const counter = async (name: string) =>
  (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.side === 'destination')!.value;

const copied = async (user: string) => comparableMessages(await destination.readMailbox(user), destination);
const sourceMessages = async (user: string) => comparableMessages(await source.readMailbox(user), source);

test('a sync limited to 100 messages a second takes its turns: 250 messages in three batches span two seconds', async () => {
  const user = 'paced@example.com';
  const { dst, input } = await limitedMailbox(user, 250, { messagesPerSecond: 100 });
  const started = Date.now();
  expect(await activityEnvironment().run(activity(), input)).toMatchObject({ status: 'Synced' });
  // The first batch of 100 goes at once; the second waits for it to be paid (1 s), the third for both (2 s).
  expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  expect(await counter('mailferry_rate_limit_wait_seconds_total')).toBeGreaterThan(0);
  expect(await copied(user)).toEqual(await sourceMessages(user));
  // Every appended byte was reserved from the destination's budget row, in one reservation per batch.
  const { rows } = await db.pool.query<{ bytes: string }>(
    "select sum(bytes) as bytes from endpoint_daily_usage where endpoint_id = $1 and direction = 'upload'",
    [dst],
  );
  const sizes = (await destination.readMailbox(user)).reduce((n, m) => n + m.size, 0);
  expect(Number(rows[0]!.bytes)).toBe(sizes);
});

test('a spent daily budget holds the mailbox, saying when it resumes, and a raised budget lets it finish', async () => {
  const user = 'budget@example.com';
  // ~1 kB messages in batches of 100: the first batch fits in 150 kB, the second would not.
  const { dst, input } = await limitedMailbox(user, 250, { bytesPerDay: 150_000 });
  const sync = activityEnvironment().run(activity(), input);
  const row = await waitFor(async () => {
    const r = await mailboxRow(db.pool, input.mailboxId);
    return r.last_error_code === 'QUOTA_BUDGET_EXHAUSTED' && r;
  }, 'the mailbox to wait for its budget');
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  expect(row.last_error).toContain(`resumes at ${tomorrow}T00:00:00.000Z`);
  expect(row.status).toBe('Syncing');
  expect(await counter('mailferry_rate_budget_holds_total')).toBe(1);
  expect(await copied(user)).toHaveLength(100);

  await db.pool.query('update endpoints set rate_limits = $2 where id = $1', [dst, { upload: { bytesPerDay: null } }]);
  expect(await sync).toMatchObject({ status: 'Synced' });
  expect(await copied(user)).toEqual(await sourceMessages(user));
  expect(await mailboxRow(db.pool, input.mailboxId)).toMatchObject({ status: 'Synced', last_error_code: null });
});

test('a sync waiting for its budget is cancelled at once by a Stop', async () => {
  const user = 'stopped@example.com';
  const { input } = await limitedMailbox(user, 150, { bytesPerDay: 120_000 });
  const env = activityEnvironment();
  const sync = env.run(activity(), input);
  await waitFor(
    async () => (await mailboxRow(db.pool, input.mailboxId)).last_error_code === 'QUOTA_BUDGET_EXHAUSTED',
    'the mailbox to wait for its budget',
  );
  env.cancel();
  await expect(sync).rejects.toBeInstanceOf(CancelledFailure);
  expect(await copied(user)).toHaveLength(100);
});
