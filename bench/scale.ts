/**
 * `npm run bench:scale [-- --mailboxes 50000]`: one batch of many mailboxes on a real `temporal server start-dev`
 * and PostgreSQL, with a no-op mailbox sync, from Start through Synced and Complete. It measures orchestration
 * only (the workflow, its activities' bookkeeping, the read model; no IMAP): that a batch that size stays inside
 * Temporal's limits (pending activities, history length and size), and what it costs.
 *
 * `npm run bench:scale -- --imap [--mailboxes 1000 --messages 20]`: the real thing (bench/scale-imap.ts): the
 * product as `npm start` runs it, real mail between two Dovecots. Without --mailboxes/--messages it runs both
 * profiles of record, 1,000 mailboxes × 20 messages and 20 × 1,000.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createBatchActivities } from '../activities/batch-activities';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { commandUpdate, statusQuery, type BatchSnapshot } from '../domain/batch-messages';
import type { BatchStatus } from '../domain/batch-status';
import { batchWorkflow } from '../workflows';
import { batchWorkflowId, type BatchWorkflowInput } from '../domain/batch-workflow-input';
import type { SyncActivities } from '../workflows/activity-types';
import { devServerEnvironment, workflowBundle } from '../test/fixtures/temporal';
import { freePort } from '../test/fixtures/ports';
import { runImapScale, type ImapScaleProfile } from './scale-imap';

const { values } = parseArgs({
  options: {
    mailboxes: { type: 'string' },
    concurrency: { type: 'string', default: '200' },
    imap: { type: 'boolean', default: false },
    messages: { type: 'string' },
    fsync: { type: 'string', default: 'optimized' },
  },
});
const MAILBOXES = Number(values.mailboxes ?? 5000);
const CONCURRENCY = Number(values.concurrency);

/** The mailbox sync reduced to its bookkeeping: what the workflow and the read model see, without IMAP. */
function noOpSync(pool: Pool): SyncActivities {
  return {
    async syncMailbox({ mailboxId, pass }) {
      const status = pass === 'final' ? 'Completed' : 'Synced';
      await pool.query(
        `update mailboxes set status = $2, last_synced_at = now(), initial_sync_at = coalesce(initial_sync_at, now()),
                finalized_at = case when $2 = 'Completed' then now() else finalized_at end
          where id = $1`,
        [mailboxId, status],
      );
      return { mailboxId, status };
    },
  };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-bench-scale-'));
  const pg = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort() });
  const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? pg!.url, max: 40 });
  pool.on('error', () => undefined); // idle connections closed by the server at shutdown
  const env = await devServerEnvironment();
  try {
    await migrate(pool);
    const batchId = randomUUID();
    const name = `scale ${MAILBOXES} ${batchId.slice(0, 8)}`;
    const { rows: endpoints } = await pool.query<{ id: string }>(
      `insert into endpoints (name, host, port, security, max_concurrent_migrations, max_concurrent_incremental_syncs)
       values ($1, '127.0.0.1', 143, 'none', 100000, 100000), ($2, '127.0.0.1', 143, 'none', 100000, 100000)
       returning id`,
      [`src ${batchId}`, `dst ${batchId}`],
    );
    await pool.query(
      `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values ($1, $2, $3, 'Created', $4, $5, 'bench')`,
      [batchId, name, batchWorkflowId(name), endpoints[0]!.id, endpoints[1]!.id],
    );
    await pool.query(
      `insert into mailboxes (batch_id, email, source_user)
       select $1, 'user' || i || '@bench.example', 'user' || i from generate_series(1, $2) as i`,
      [batchId, MAILBOXES],
    );

    const taskQueue = `bench-${batchId}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...createBatchActivities({ pool }), ...noOpSync(pool) },
      maxConcurrentActivityTaskExecutions: CONCURRENCY,
    });
    await worker.runUntil(async () => {
      const input: BatchWorkflowInput = {
        batchId,
        name,
        createdBy: 'bench',
        createdAt: new Date().toISOString(),
        autoStart: false,
        startAfter: null,
        completeAfter: null,
        autoComplete: false,
        searchAttributes: true,
        policy: { mailboxConcurrency: CONCURRENCY },
      };
      const handle = await env.client.workflow.start(batchWorkflow, {
        taskQueue,
        workflowId: batchWorkflowId(name),
        args: [input],
      });
      const started = Date.now();
      await handle.executeUpdate(commandUpdate, { args: [{ command: 'start', by: 'bench' }] });
      const synced = await waitFor(handle, ['Synced', 'SyncedWithErrors']);
      const syncedAt = Date.now();
      await handle.executeUpdate(commandUpdate, { args: [{ command: 'complete', by: 'bench' }] });
      const completed = await waitFor(handle, ['Completed']);
      const completedAt = Date.now();
      const runs = await historyOfRuns(env.client, handle);
      const largest = runs.reduce((a, b) => (b.events > a.events ? b : a));
      const largestBytes = Math.max(...runs.map((r) => r.bytes));
      const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
      console.log(
        [
          `mailboxes                ${MAILBOXES} (window ${CONCURRENCY})`,
          `Start → ${synced.status.padEnd(16)} ${((syncedAt - started) / 1000).toFixed(1)} s, ${(MAILBOXES / ((syncedAt - started) / 1000)).toFixed(0)} mailboxes/s`,
          `Complete → Completed     ${((completedAt - syncedAt) / 1000).toFixed(1)} s, ${(MAILBOXES / ((completedAt - syncedAt) / 1000)).toFixed(0)} mailboxes/s`,
          `counts                   synced ${completed.counts.synced}, finalized ${completed.counts.finalized}, failed ${completed.counts.failed}`,
          `workflow runs            ${runs.length} (continue-as-new ${completed.runs} times)`,
          `largest history          ${largest.events} events (limit 51,200), ${mb(largestBytes)} (limit 50 MB)`,
          `peak RSS (worker+bench)  ${mb(peakRss)}`,
        ].join('\n'),
      );
      if (completed.counts.finalized !== MAILBOXES) throw new Error('not every mailbox was finalized');
    });
  } finally {
    clearInterval(sampler);
    await env.teardown();
    await pool.end();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitFor(handle: WorkflowHandle<typeof batchWorkflow>, statuses: BatchStatus[]): Promise<BatchSnapshot> {
  for (;;) {
    const s = await handle.query(statusQuery);
    if (statuses.includes(s.status)) return s;
    if (s.status === 'Failed') throw new Error(`batch failed: ${s.lastError}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Events and bytes of every run of the batch's continue-as-new chain. */
async function historyOfRuns(client: Client, handle: WorkflowHandle): Promise<{ events: number; bytes: number }[]> {
  const runs: { events: number; bytes: number }[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
    const d = await client.workflow.getHandle(handle.workflowId, execution.runId).describe();
    runs.push({ events: d.historyLength, bytes: Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0) });
  }
  return runs;
}

async function imapProfiles(): Promise<void> {
  const profiles: Omit<ImapScaleProfile, 'fsync'>[] =
    values.mailboxes || values.messages
      ? [{ mailboxes: Number(values.mailboxes ?? 20), messagesPerMailbox: Number(values.messages ?? 1000) }]
      : [
          { mailboxes: 1000, messagesPerMailbox: 20 },
          { mailboxes: 20, messagesPerMailbox: 1000 },
        ];
  if (values.fsync !== 'optimized' && values.fsync !== 'never') throw new Error('--fsync is optimized or never');
  const fsync = values.fsync;
  for (const profile of profiles) console.log(`${await runImapScale({ ...profile, fsync })}\n`);
}

(values.imap ? imapProfiles() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
