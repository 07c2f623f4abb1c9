import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import {
  completeSignal,
  editSignal,
  removeSignal,
  resumeSignal,
  startSignal,
  statusQuery,
  stopSignal,
  syncNowSignal,
  verifySignal,
  type BatchEdit,
  type BatchSnapshot,
} from '../../domain/batch-messages';
import type { BatchCommand, BatchStatus } from '../../domain/batch-status';
import { batchWorkflow } from '../../workflows';
import { batchWorkflowId, type BatchWorkflowInput } from '../../domain/batch-workflow-input';
import { workflowBundle } from '../fixtures/temporal';
import { FakeActivities } from './fake-activities';
import { waitFor as waitUntil } from '../fixtures/wait-for';

Runtime.install({ logger: new DefaultLogger('WARN') });

export interface BatchUnderTest {
  handle: WorkflowHandle<typeof batchWorkflow>;
  fake: FakeActivities;
  input: BatchWorkflowInput;
  status(): Promise<BatchSnapshot>;
  waitFor(status: BatchStatus): Promise<BatchSnapshot>;
  /**
   * Sends a command as a signal and waits until the workflow has recorded it. The time-skipping test server
   * sometimes loses an update that races an activity completion, so tests on it command by signal.
   */
  signal(command: BatchCommand, edit?: BatchEdit): Promise<void>;
}

const SIGNALS = {
  start: startSignal,
  stop: stopSignal,
  resume: resumeSignal,
  complete: completeSignal,
  remove: removeSignal,
  syncNow: syncNowSignal,
  verify: verifySignal,
} as const;

/**
 * Runs `fn` with a worker on the test environment whose activities are `FakeActivities`, and one started batch
 * workflow of `mailboxes` mailboxes.
 */
export async function withBatch(
  env: TestWorkflowEnvironment,
  options: { mailboxes?: number; input?: Partial<BatchWorkflowInput>; prepare?: (fake: FakeActivities) => void },
  fn: (batch: BatchUnderTest) => Promise<void>,
): Promise<void> {
  const fake = new FakeActivities(options.mailboxes ?? 3);
  options.prepare?.(fake);
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: fake.activities(),
    // As the product's worker: a cancel reaches a heartbeating activity within a second or so.
    maxHeartbeatThrottleInterval: '1 second',
  });
  const name = `batch ${randomUUID().slice(0, 8)}`;
  const input: BatchWorkflowInput = {
    batchId: randomUUID(),
    name,
    createdBy: 'admin@contoso.com',
    createdAt: new Date(await env.currentTimeMs()).toISOString(),
    autoStart: false,
    startAfter: null,
    completeAfter: null,
    autoComplete: false,
    ...options.input,
  };
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(batchWorkflow, {
      taskQueue,
      workflowId: batchWorkflowId(name),
      args: [input],
    });
    const status = () => handle.query(statusQuery);
    const waitFor = (wanted: BatchStatus): Promise<BatchSnapshot> =>
      waitUntil(
        async () => {
          const s = await status();
          return s.status === wanted && s;
        },
        `the batch to reach ${wanted}`,
        { describe: async () => (await status()).status },
      );
    const signal = async (command: BatchCommand, edit?: BatchEdit): Promise<void> => {
      const before = fake.audit.length;
      if (command === 'edit') await handle.signal(editSignal, { by: 'admin@contoso.com', ...edit });
      else await handle.signal(SIGNALS[command], { by: 'admin@contoso.com' });
      await waitUntil(() => fake.audit.slice(before).some((a) => a.command === command), `${command} to be recorded`);
    };
    try {
      await fn({ handle, fake, input, status, waitFor, signal });
    } finally {
      // A batch left running would keep firing timers on a task queue with no worker, which stalls time skipping.
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
