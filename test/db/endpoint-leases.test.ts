import { randomUUID } from 'node:crypto';
import { withEndpointLease, LeaseAbortedError } from '../../db/endpoint-leases';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';

let db: TestDatabase;
let source: string;
let destination: string;
let mailboxIds: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security, max_concurrent_migrations, max_concurrent_incremental_syncs)
     values ('source', 'imap.old', 143, 'none', 2, 1), ('destination', 'imap.new', 143, 'none', 3, 3) returning id`,
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
     select $1, 'u' || i || '@x.example', 'u' || i from generate_series(1, 6) i returning id::text`,
    [batchId],
  );
  mailboxIds = inserted.rows.map((r) => r.id);
});

afterAll(async () => {
  await db.drop();
});

/** Runs syncs that each hold their slot until released, and reports the most that ever ran at once. */
async function runAll(kinds: ('migration' | 'incremental')[]): Promise<number> {
  let running = 0;
  let most = 0;
  await Promise.all(
    kinds.map((kind, i) =>
      withEndpointLease(
        db.pool,
        { endpointIds: [source, destination], mailboxId: mailboxIds[i]!, kind, retryMs: 20 },
        async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 60));
          running--;
        },
      ),
    ),
  );
  return most;
}

test('no more syncs run against an endpoint than its MaxConcurrentMigrations, across batches', async () => {
  expect(await runAll(['migration', 'migration', 'migration', 'migration', 'migration'])).toBe(2);
  const { rows } = await db.pool.query('select count(*)::int as n from endpoint_leases');
  expect(rows[0].n).toBe(0);
});

test('incremental syncs are further held to MaxConcurrentIncrementalSyncs', async () => {
  expect(await runAll(['incremental', 'incremental', 'incremental'])).toBe(1);
});

test('a lease left by a crashed worker expires and frees its slot', async () => {
  await db.pool.query(
    `insert into endpoint_leases (endpoint_id, mailbox_id, kind, expires_at)
     values ($1, $2, 'migration', now() - interval '1 second'), ($1, $3, 'migration', now() - interval '1 second')`,
    [source, mailboxIds[4], mailboxIds[5]],
  );
  expect(await runAll(['migration', 'migration'])).toBe(2);
});

test('waiting for a slot stops when the sync is cancelled', async () => {
  await db.pool.query(
    `insert into endpoint_leases (endpoint_id, mailbox_id, kind, expires_at)
     values ($1, $2, 'migration', now() + interval '1 hour'), ($1, $3, 'migration', now() + interval '1 hour')`,
    [source, mailboxIds[4], mailboxIds[5]],
  );
  const controller = new AbortController();
  let waits = 0;
  const waiting = withEndpointLease(
    db.pool,
    {
      endpointIds: [source],
      mailboxId: mailboxIds[0]!,
      kind: 'migration',
      retryMs: 10,
      signal: controller.signal,
      onWait: () => {
        if (++waits === 3) controller.abort();
      },
    },
    async () => 'ran',
  );
  await expect(waiting).rejects.toBeInstanceOf(LeaseAbortedError);
  await db.pool.query('delete from endpoint_leases');
});
