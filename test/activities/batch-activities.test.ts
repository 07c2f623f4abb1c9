import { randomUUID } from 'node:crypto';
import { createBatchActivities } from '../../activities/batch-activities';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';

let db: TestDatabase;
let activities: ReturnType<typeof createBatchActivities>;

beforeAll(async () => {
  db = await createTestDatabase();
  activities = createBatchActivities({ pool: db.pool });
});
afterAll(async () => {
  await db.drop();
});

async function batchWith(mailboxes: number): Promise<string> {
  const batchId = randomUUID();
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security) values ($1, 'a', 143, 'none'), ($2, 'b', 143, 'none')
     returning id`,
    [`s-${batchId}`, `d-${batchId}`],
  );
  await db.pool.query(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
     values ($1::uuid, $1::text, 'batch:' || $1::text, 'Created', $2, $3, 't')`,
    [batchId, rows[0]!.id, rows[1]!.id],
  );
  await db.pool.query(
    `insert into mailboxes (batch_id, email, source_user)
     select $1, 'u' || i || '@x.example', 'u' || i from generate_series(1, $2) i`,
    [batchId, mailboxes],
  );
  return batchId;
}

test('a pass pages through mailbox ids in numeric order, never skipping 10 after 9', async () => {
  const batchId = await batchWith(1200);
  const seen: string[] = [];
  let afterId: string | null = null;
  for (;;) {
    const page: string[] = await activities.nextMailboxes({ batchId, pass: 'initial', afterId, limit: 7 });
    seen.push(...page);
    if (page.length < 7) break;
    afterId = page.at(-1)!;
  }
  expect(seen).toHaveLength(1200);
  const numbers = seen.map(Number);
  expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
});

test('Resume re-queues failed mailboxes, Start does not; counts follow', async () => {
  const batchId = await batchWith(4);
  await db.pool.query(
    `update mailboxes set status = case email when 'u1@x.example' then 'Failed' when 'u2@x.example' then 'Stopped'
       when 'u3@x.example' then 'Synced' else status end, initial_sync_at = case when email = 'u3@x.example' then now() end
      where batch_id = $1`,
    [batchId],
  );
  expect(await activities.prepareStart({ batchId, retryFailed: false })).toMatchObject({
    total: 4,
    queued: 2,
    failed: 1,
    synced: 1,
  });
  expect(await activities.prepareStart({ batchId, retryFailed: true })).toMatchObject({ queued: 3, failed: 0 });
});

test('removing a batch leaves none of its rows but its audit entries', async () => {
  const batchId = await batchWith(3);
  await activities.recordAudit([
    {
      batchId,
      batchName: 'b',
      actor: 'a',
      command: 'start',
      outcome: 'accepted',
      at: new Date().toISOString(),
      detail: {},
    },
  ]);
  await activities.refreshCounts(batchId);
  await activities.removeBatch(batchId);
  for (const table of ['batches where id', 'mailboxes where batch_id', 'batch_progress where batch_id']) {
    const { rows } = await db.pool.query(`select count(*)::int as n from ${table} = $1`, [batchId]);
    expect(rows[0].n).toBe(0);
  }
  // Its audit entries outlive it (MAILFERRY_AUDIT_RETENTION trims them).
  const { rows: audit } = await db.pool.query('select command from audit_log where batch_id = $1', [batchId]);
  expect(audit).toEqual([{ command: 'start' }]);
});

test('audit entries recorded again under their keys are not inserted twice', async () => {
  const batchId = await batchWith(1);
  const entry = (key: string | undefined, command: 'start' | 'stop') => ({
    batchId,
    batchName: 'b',
    actor: 'a',
    command,
    outcome: 'accepted' as const,
    at: new Date().toISOString(),
    detail: {},
    ...(key ? { key } : {}),
  });
  const flushed = [entry('run-1:0', 'start'), entry('run-1:1', 'stop')];
  await activities.recordAudit(flushed);
  // The same flush again (the activity run a second time), with the next entry and one the API wrote (no key).
  await activities.recordAudit([
    ...flushed,
    entry('run-1:2', 'start'),
    entry(undefined, 'stop'),
    entry(undefined, 'stop'),
  ]);
  const { rows } = await db.pool.query('select command, entry_key from audit_log where batch_id = $1 order by id', [
    batchId,
  ]);
  expect(rows).toEqual([
    { command: 'start', entry_key: 'run-1:0' },
    { command: 'stop', entry_key: 'run-1:1' },
    { command: 'start', entry_key: 'run-1:2' },
    { command: 'stop', entry_key: null },
    { command: 'stop', entry_key: null },
  ]);
});

test('a batch that names a missing endpoint cannot start', async () => {
  await expect(activities.prepareStart({ batchId: randomUUID(), retryFailed: false })).rejects.toMatchObject({
    type: 'BATCH_NOT_FOUND',
  });
});
