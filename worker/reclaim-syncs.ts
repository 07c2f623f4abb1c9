import { Client, type Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { MailboxErrorCode } from '../domain/mailbox-errors';

/**
 * The failure type of a sync attempt that a restarted worker gave up for its dead predecessor. Transient: the
 * retry runs at once, and the engine resumes from PostgreSQL.
 */
export const WORKER_RESTARTED = 'WORKER_RESTARTED' satisfies MailboxErrorCode;

/**
 * After a restart, gives back at once the mailbox syncs that this worker's previous life was running when it died
 * (kill -9, a power cut, the OOM killer), instead of leaving them to wait out their heartbeat timeout (two
 * minutes by default) before Temporal notices. A worker recognises its own attempts by a stable identity (the
 * same host and data directory, or MAILFERRY_WORKER_IDENTITY), which only one live process may hold: each such
 * attempt is failed with {@link WORKER_RESTARTED} and a one-second retry delay. Exactly once still holds: the
 * retry waits for the mailbox lock, which a dead process no longer holds, and the engine recovers from its intents.
 * Returns how many syncs were given back.
 */
export async function reclaimSyncsOf(
  connection: Connection,
  options: { namespace: string; taskQueue: string; identity: string },
): Promise<number> {
  const client = new Client({ connection, namespace: options.namespace });
  let reclaimed = 0;
  const running = client.workflow.list({
    query: `TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Running'`,
  });
  for await (const execution of running) {
    const described = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
    for (const pending of described.raw.pendingActivities ?? []) {
      const ours =
        pending.activityType?.name === 'syncMailbox' &&
        pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
        pending.lastWorkerIdentity === options.identity;
      if (!ours || !pending.activityId) continue;
      try {
        await client.activity.fail(
          { workflowId: execution.workflowId, runId: execution.runId, activityId: pending.activityId },
          ApplicationFailure.create({
            type: WORKER_RESTARTED,
            message: `the worker running this sync (${options.identity}) restarted; retrying at once`,
            nextRetryDelay: '1 second',
          }),
        );
        reclaimed++;
      } catch {
        // Completed or retried meanwhile: nothing to give back.
      }
    }
  }
  return reclaimed;
}
