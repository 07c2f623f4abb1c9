import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { statusQuery, type BatchSnapshot } from '../../domain/batch-messages';
import type { BatchStatus } from '../../domain/batch-status';
import { batchWorkflow } from '../../workflows';
import { batchWorkflowId, type BatchWorkflowInput } from '../../workflows/batch-input';
import { workflowBundle } from '../fixtures/temporal';
import { FakeActivities } from './fake-activities';

Runtime.install({ logger: new DefaultLogger('WARN') });

export interface BatchUnderTest {
  handle: WorkflowHandle<typeof batchWorkflow>;
  fake: FakeActivities;
  input: BatchWorkflowInput;
  status(): Promise<BatchSnapshot>;
  waitFor(status: BatchStatus): Promise<BatchSnapshot>;
}

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
    const waitFor = async (wanted: BatchStatus): Promise<BatchSnapshot> => {
      let last: BatchSnapshot | undefined;
      for (let i = 0; i < 400; i++) {
        last = await status();
        if (last.status === wanted) return last;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`batch never reached ${wanted}; last status ${last?.status}`);
    };
    try {
      await fn({ handle, fake, input, status, waitFor });
    } finally {
      // A batch left running would keep firing timers on a task queue with no worker, which stalls time skipping.
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
