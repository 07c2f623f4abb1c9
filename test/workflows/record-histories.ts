/**
 * Records the workflow histories that test/workflows/replay.test.ts replays: `npm run record:histories [-- name…]`.
 * Re-record only on purpose (a deliberate, versioned workflow change); the recordings kept in the repo are what
 * running batches look like, so today's workflow code must replay them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commandUpdate, editSignal, mailboxCommandUpdate, stopSignal } from '../../domain/batch-messages';
import { devServerEnvironment } from '../fixtures/temporal';
import { withBatch, type BatchUnderTest } from './harness';
import { waitFor } from '../fixtures/wait-for';

const OUT = path.join(__dirname, 'histories');
const by = 'admin@contoso.com';

async function save(env: TestWorkflowEnvironment, b: BatchUnderTest, name: string): Promise<void> {
  const runs: string[] = [];
  // Every run of the chain, oldest first: continue-as-new starts a run that the next one follows.
  const { runId } = await b.handle.describe();
  let history = await env.client.workflow.getHandle(b.handle.workflowId, runId).fetchHistory();
  runs.unshift(historyToJSON(history));
  for (
    let previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    previous;
  ) {
    history = await env.client.workflow.getHandle(b.handle.workflowId, previous).fetchHistory();
    runs.unshift(historyToJSON(history));
    previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  }
  for (const [i, json] of runs.entries()) {
    await writeFile(path.join(OUT, `${name}.run${i + 1}.json`), json + '\n');
  }
  console.log(`${name}: ${runs.length} run(s)`);
}

type Scenario = (env: TestWorkflowEnvironment) => Promise<void>;

/** The whole lifecycle: start, sync, incremental, a rejected signal, stop, resume, edit, complete, remove. */
const lifecycle =
  (name: string): Scenario =>
  (env) =>
    withBatch(env, { mailboxes: 4, prepare: (f) => f.failing.add('3') }, async (b) => {
      const send = (command: 'start' | 'stop' | 'resume' | 'complete' | 'remove' | 'syncNow') =>
        b.handle.executeUpdate(commandUpdate, { args: [{ command, by }] });
      await send('start');
      await b.waitFor('SyncedWithErrors');
      await send('syncNow');
      await b.waitFor('SyncedWithErrors');
      await send('stop');
      await b.waitFor('Stopped');
      await b.handle.signal(stopSignal, { by }); // not allowed when Stopped: recorded as rejected
      b.fake.failing.clear();
      await send('resume');
      await b.waitFor('Synced');
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'edit', by, edit: { badItemLimit: 3 } }] });
      await send('complete');
      await b.waitFor('Completed');
      await send('remove');
      await b.handle.result();
      await save(env, b, name);
    });

const SCENARIOS: Record<string, Scenario> = {
  lifecycle: lifecycle('lifecycle'),
  // The same since the bookkeeping-at-once patch: audit entry and status written at once, sync-now at once.
  'bookkeeping-at-once': lifecycle('bookkeeping-at-once'),
  // The same since the first-page-at-once patch: a pass's first page read as it begins.
  'first-page-at-once': lifecycle('first-page-at-once'),
  // The same since the settle-at-once patch: a pass's end reads the counts and publishes the status in one activity.
  'settle-at-once': lifecycle('settle-at-once'),
  // A pass and a stream of signals across several continue-as-new runs.
  'continue-as-new': (env) =>
    withBatch(
      env,
      {
        mailboxes: 12,
        input: { autoStart: true, policy: { mailboxConcurrency: 2, pageSize: 5, historyEventBudget: 60 } },
      },
      async (b) => {
        await b.waitFor('Synced');
        for (let i = 0; i < 5; i++) await b.handle.signal(editSignal, { by, folderExclude: [`Folder ${i}`] });
        await waitFor(() => b.fake.edits.length >= 5, 'the five edits to be applied');
        await b.waitFor('Synced');
        await save(env, b, 'continue-as-new');
      },
    ),
  // What production runs: search attributes upserted, the endpoints in the input, operators' signals from the
  // Web UI (an edit moving the batch to another endpoint, an input-less stop), then a start and a removal.
  operator: (env) =>
    withBatch(
      env,
      {
        mailboxes: 3,
        input: {
          autoStart: true,
          searchAttributes: true,
          endpoints: {
            sourceEndpointId: '00000000-0000-4000-8000-000000000001',
            destinationEndpointId: '00000000-0000-4000-8000-000000000002',
          },
        },
      },
      async (b) => {
        await b.waitFor('Synced');
        await b.handle.signal(editSignal, { by, destinationEndpointId: '00000000-0000-4000-8000-000000000003' });
        await waitFor(() => b.fake.edits.length >= 1, 'the edit to be applied');
        await b.handle.signal(stopSignal);
        await b.waitFor('Stopped');
        await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'start', by }] });
        await b.waitFor('Synced');
        await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'remove', by }] });
        await b.handle.result();
        await save(env, b, 'operator');
      },
    ),
  // Per-mailbox commands: one mailbox stopped mid-pass, then started on its own, set, moved and removed.
  'mailbox-commands': (env) =>
    withBatch(env, { mailboxes: 4, prepare: (f) => f.held.add('2') }, async (b) => {
      const mailbox = (command: 'stop' | 'start' | 'set' | 'move' | 'remove', mailboxId: string, extra = {}) =>
        b.handle.executeUpdate(mailboxCommandUpdate, {
          args: [{ command, mailboxId, email: `user${mailboxId}@contoso.com`, by, ...extra }],
        });
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'start', by }] });
      await waitFor(() => b.fake.mailboxes.get('2') === 'Syncing', 'mailbox 2 to be syncing');
      await mailbox('stop', '2');
      await b.waitFor('Synced');
      b.fake.held.clear();
      await mailbox('start', '2');
      await waitFor(() => b.fake.mailboxes.get('2') === 'Synced', 'mailbox 2 to be synced on its own');
      await mailbox('set', '3', { overrides: { badItemLimit: 5 } });
      await mailbox('move', '4', {
        target: { batchId: '00000000-0000-4000-8000-000000000009', name: 'other', workflowId: 'batch:other' },
      });
      await mailbox('remove', '1');
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'remove', by }] });
      await b.handle.result();
      await save(env, b, 'mailbox-commands');
    }),
  // Verification (the batch-verify patch): a deep verify of the batch, one mailbox verified alone, then Complete
  // with its final verification, and a removal.
  verification: (env) =>
    withBatch(env, { mailboxes: 3, input: { autoStart: true, policy: { mailboxConcurrency: 2 } } }, async (b) => {
      await b.waitFor('Synced');
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'verify', by, deep: true }] });
      await waitFor(
        async () => (await b.status()).verification === null && b.fake.verifyCalls.length === 3,
        'the verification',
      );
      await b.handle.executeUpdate(mailboxCommandUpdate, {
        args: [{ command: 'verify', mailboxId: '2', email: 'user2@contoso.com', by }],
      });
      await waitFor(() => b.fake.verifyCalls.length === 4, 'the mailbox verification');
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'complete', by }] });
      await b.waitFor('Completed');
      await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'remove', by }] });
      await b.handle.result();
      await save(env, b, 'verification');
    }),
};

/** Records the scenarios named on the command line (all of them without a name). */
async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length)
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  await mkdir(OUT, { recursive: true });
  const env = await devServerEnvironment();
  try {
    for (const name of names.length ? names : Object.keys(SCENARIOS)) await SCENARIOS[name]!(env);
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
