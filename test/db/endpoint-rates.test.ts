import { randomUUID } from 'node:crypto';
import { createRateBuckets } from '../../db/endpoint-rates';
import { waitForTransfer, type RateLimitOverrides } from '../../imap/rate-limit';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';

let db: TestDatabase;
let source: string;
let destination: string;
let mailboxIds: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security) values ('source', 'imap.old', 143, 'none'),
       ('destination', 'imap.new', 143, 'none') returning id`,
  );
  [source, destination] = rows.map((r) => r.id) as [string, string];
  const batchId = randomUUID();
  await db.pool.query(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
     values ($1, 'b', 'batch:b', 'Syncing', $2, $3, 't')`,
    [batchId, source, destination],
  );
  const inserted = await db.pool.query<{ id: string }>(
    `insert into mailboxes (batch_id, email, source_user)
     select $1, 'u' || i || '@x.example', 'u' || i from generate_series(1, 2) i returning id::text`,
    [batchId],
  );
  mailboxIds = inserted.rows.map((r) => r.id);
});

afterAll(async () => {
  await db.drop();
});

const setLimits = (id: string, limits: RateLimitOverrides) =>
  db.pool.query('update endpoints set rate_limits = $2 where id = $1', [id, JSON.stringify(limits)]);

const bucketsOf = (mailboxId: string) =>
  createRateBuckets(db.pool, { mailboxId, endpointIds: { source, destination } });

test('two syncs sharing an endpoint take turns in one bucket: their reservations add up to its rate', async () => {
  await setLimits(destination, { upload: { messagesPerSecond: 10 } });
  const [a, b] = mailboxIds.map(bucketsOf) as [ReturnType<typeof bucketsOf>, ReturnType<typeof bucketsOf>];
  // The bucket is busy for another hour, so every chunk queues behind it whatever the clock does meanwhile.
  await db.pool.query(
    `insert into endpoint_rate_buckets (endpoint_id, direction, messages_free_at) values ($1, 'upload', $2)`,
    [destination, new Date('2030-01-01T00:00:00Z')],
  );
  // Ten chunks of two messages from each mailbox at once: 40 messages at 10/s is 4 s of the bucket's time.
  const waits = await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserve('destination', { messages: 2, bytes: 10 })),
  );
  expect(waits.every((w) => w.kind === 'go' && w.waitMs > 0)).toBe(true);
  const { rows } = await db.pool.query<{ free: Date }>(
    "select messages_free_at as free from endpoint_rate_buckets where endpoint_id = $1 and direction = 'upload'",
    [destination],
  );
  // No reservation was lost to a race: the bucket moved on by exactly the 20 chunks.
  expect(rows[0]!.free.toISOString()).toBe('2030-01-01T00:00:04.000Z');
  // The source's bucket is apart: nothing limits it, so nothing waits.
  expect(await a.reserve('source', { messages: 100, bytes: 1e9 })).toEqual({ kind: 'go', waitMs: 0 });
});

test("the daily budget counts both mailboxes' bytes, and a raised budget ends the wait", async () => {
  await setLimits(source, { download: { bytesPerDay: 3000 } });
  const [a, b] = mailboxIds.map(bucketsOf) as [ReturnType<typeof bucketsOf>, ReturnType<typeof bucketsOf>];
  expect((await a.reserve('source', { messages: 1, bytes: 2000 })).kind).toBe('go');
  const spent = await b.reserve('source', { messages: 1, bytes: 2000 });
  expect(spent).toMatchObject({ kind: 'budget', scope: 'endpoint' });
  const { rows } = await db.pool.query<{ bytes: string }>(
    "select sum(bytes) as bytes from endpoint_daily_usage where endpoint_id = $1 and direction = 'download'",
    [source],
  );
  expect(Number(rows[0]!.bytes)).toBe(2000);

  const events: string[] = [];
  const waiting = waitForTransfer(
    b,
    'source',
    { messages: 1, bytes: 2000 },
    {
      budgetPollMs: 50,
      onBudgetExhausted: ({ resumesAt }) => events.push(`until ${resumesAt.toISOString().slice(0, 10)}`),
      onBudgetResumed: () => events.push('resumed'),
    },
  );
  await new Promise((r) => setTimeout(r, 200));
  expect(events).toHaveLength(1);
  await setLimits(source, { download: { bytesPerDay: 10_000 } });
  await waiting;
  expect(events[1]).toBe('resumed');
});

test("Gmail's per-mailbox quota stops one mailbox, not the other", async () => {
  await db.pool.query("update endpoints set provider = 'gmail', rate_limits = $2 where id = $1", [
    destination,
    JSON.stringify({ upload: { mailboxBytesPerDay: 1000 } }),
  ]);
  const [a, b] = mailboxIds.map(bucketsOf) as [ReturnType<typeof bucketsOf>, ReturnType<typeof bucketsOf>];
  expect((await a.reserve('destination', { messages: 1, bytes: 900 })).kind).toBe('go');
  expect(await a.reserve('destination', { messages: 1, bytes: 900 })).toMatchObject({
    kind: 'budget',
    scope: 'mailbox',
  });
  expect((await b.reserve('destination', { messages: 1, bytes: 900 })).kind).toBe('go');
});

test('reservations racing for a daily budget and no rate: none lost, none over the budget', async () => {
  // A bucket whose rates are unlimited never moves in time: only its row lock keeps two reservations from counting
  // the same day's usage.
  const endpoint = (
    await db.pool.query<{ id: string }>(
      `insert into endpoints (name, host, port, security, rate_limits)
       values ('budget only', 'imap.budget', 143, 'none', $1) returning id`,
      [JSON.stringify({ upload: { bytesPerDay: 10_000 } })],
    )
  ).rows[0]!.id;
  const buckets = mailboxIds.map((mailboxId) =>
    createRateBuckets(db.pool, { mailboxId, endpointIds: { source, destination: endpoint } }),
  );
  const outcomes = await Promise.all(
    Array.from({ length: 24 }, (_, i) => buckets[i % 2]!.reserve('destination', { messages: 1, bytes: 1000 })),
  );
  expect(outcomes.filter((o) => o.kind === 'go')).toHaveLength(10);
  expect(outcomes.filter((o) => o.kind === 'budget')).toHaveLength(14);
  const { rows } = await db.pool.query<{ bytes: string }>(
    "select sum(bytes) as bytes from endpoint_daily_usage where endpoint_id = $1 and direction = 'upload'",
    [endpoint],
  );
  expect(Number(rows[0]!.bytes)).toBe(10_000);
});
