import { ActivityCancellationType, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { LifecyclePolicy, VerificationState } from '../domain/batch-workflow-input';
import type { BatchActivities, VerifyActivities } from './activity-types';

/**
 * The verification activity, with the batch's heartbeat timeout like a sync. A mailbox that cannot be verified
 * (a wrong password) is answered, not thrown; what is thrown is retried a few times, then counted as not verified.
 */
export function verifyActivitiesFor(policy: LifecyclePolicy): VerifyActivities {
  return proxyActivities<VerifyActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: policy.syncHeartbeatTimeoutMs,
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 5 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}

export interface VerificationContext {
  batchId: string;
  policy: LifecyclePolicy;
  batchActivities: BatchActivities;
  verifyActivities: VerifyActivities;
  /** True when the history should roll over: finish the page under way, keep the cursor, return 'rolledOver'. */
  rollOverDue: () => boolean;
}

export function newVerification(deep: boolean, final: boolean, now: number): VerificationState {
  return { deep, final, startedAt: now, cursor: null, scheduled: 0, finished: 0 };
}

/**
 * Verifies the batch's synced and completed mailboxes (`state.deep`: full contents too), a page of ids at a time
 * in id order from `state.cursor`, at most `policy.mailboxConcurrency` at once. The results go to PostgreSQL (the
 * activity writes them); the cursor moves only over finished pages, so a verification that rolls over resumes
 * where it stopped. Cancelling the surrounding scope cancels the running activities and waits for them.
 */
export async function runVerification(
  ctx: VerificationContext,
  state: VerificationState,
): Promise<'done' | 'rolledOver'> {
  const { policy } = ctx;
  const verifyOne = async (mailboxId: string): Promise<void> => {
    state.scheduled++;
    try {
      await ctx.verifyActivities.verifyMailbox({ batchId: ctx.batchId, mailboxId, deep: state.deep });
    } catch (err) {
      // Out of retries: the mailbox keeps its last verification (or none); the rest go on.
      if (isCancellation(err)) throw err;
    } finally {
      state.finished++;
    }
  };
  for (;;) {
    const page = await ctx.batchActivities.nextVerifiableMailboxes({
      batchId: ctx.batchId,
      afterId: state.cursor,
      limit: policy.pageSize,
    });
    const queue = [...page];
    const lane = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await verifyOne(id);
    };
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(policy.mailboxConcurrency, queue.length) }, lane),
    );
    const cancelled = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (cancelled) throw cancelled.reason;
    state.cursor = page.at(-1) ?? state.cursor;
    if (page.length < policy.pageSize) return 'done';
    if (ctx.rollOverDue()) return 'rolledOver';
  }
}
