import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { loadWorkflowBundle } from './workflow-bundle';

export interface BatchWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** The workflow bundle; by default the one `npm run build:workflows` built (worker/workflow-bundle.ts). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Activities one worker runs at once: its mailbox syncs plus the bookkeeping slots (config/settings.ts derives
   * it from MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS). Default 120.
   */
  maxConcurrentActivityTaskExecutions?: number;
  /** The worker's identity in Temporal (the SDK's pid@host by default); see worker/reclaim-syncs.ts. */
  identity?: string;
}

/** The worker that runs batch workflows and their activities. */
export async function createBatchWorker(options: BatchWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await loadWorkflowBundle(options.logger)),
    activities: createActivities(options),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 120,
    // A sync learns that it is cancelled (Stop of its batch or of its mailbox) from a heartbeat's answer. The SDK
    // sends heartbeats at most every 0.8 × the heartbeat timeout, capped by this: 5 s instead of the default 60 s.
    maxHeartbeatThrottleInterval: '5 seconds',
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
