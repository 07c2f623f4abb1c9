import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { MailboxCounts } from '../domain/batch-messages';
import type { MailboxErrorCode } from '../domain/mailbox-errors';
import type { MailboxFailure } from '../activities/batch-activities';
import type { LifecyclePolicy, PassState } from '../domain/batch-workflow-input';
import type { BatchActivities, SyncActivities } from './activity-types';
import type { RunningSyncs } from './running-syncs';

export interface PassContext {
  batchId: string;
  pass: PassState;
  policy: LifecyclePolicy;
  batchActivities: BatchActivities;
  syncActivities: SyncActivities;
  /** True when the history should roll over: stop scheduling, drain, and let the caller continue as new. */
  rollOverDue: () => boolean;
  onCounts: (counts: MailboxCounts) => void;
  /** Where each mailbox's sync runs, so that a mailbox command can cancel it alone. */
  syncs: RunningSyncs;
  /** Mailboxes a mailbox command took out of the pass (stopped, removed, moved) or that sync on their own. */
  skip: (mailboxId: string) => boolean;
  /** The pass's first page, already being read as the pass began (its cursor still null). */
  firstPage?: Promise<string[]>;
  /** The caller reads the counts as it settles the batch (SETTLE_AT_ONCE_PATCH): a pass that is done does not. */
  countsReadBySettling?: boolean;
}

/** The pass's next page of mailbox ids after `afterId` (null: from the first), in id order. */
export function readPage(
  activities: BatchActivities,
  batchId: string,
  pass: PassState,
  afterId: string | null,
  policy: LifecyclePolicy,
): Promise<string[]> {
  return activities.nextMailboxes({ batchId, pass: pass.kind, afterId, limit: policy.pageSize });
}

/**
 * Runs one pass over the batch's mailboxes with at most `policy.mailboxConcurrency` syncs in flight, reading
 * mailbox ids from PostgreSQL page by page in id order. `pass.cursor` only moves over mailboxes whose sync has
 * finished, so a pass that returns 'rolledOver' resumes exactly where it left off in the next run. Cancelling
 * the surrounding scope (Stop) cancels the running syncs and waits for them to acknowledge.
 */
export async function runPass(ctx: PassContext): Promise<'done' | 'rolledOver'> {
  const { pass, policy } = ctx;
  const waiting: string[] = [];
  let fetchedUpTo = pass.cursor;
  let exhausted = false;
  let prefetched = ctx.firstPage;
  const inFlight = new Map<string, Promise<void>>();
  const failures: MailboxFailure[] = [];
  let finishedSinceRefresh = 0;
  const refreshEvery = Math.max(10, Math.ceil(policy.mailboxConcurrency / 2));

  const syncOne = async (mailboxId: string): Promise<void> => {
    try {
      await ctx.syncs.run(mailboxId, () =>
        ctx.syncActivities.syncMailbox({ batchId: ctx.batchId, mailboxId, pass: pass.kind }),
      );
    } catch (err) {
      // Cancelled by the mailbox's own command: the command has dealt with the mailbox, the pass goes on.
      if (isCancellation(err) && ctx.syncs.takeCancelledByCommand(mailboxId)) return;
      if (isCancellation(err)) throw err;
      failures.push({ mailboxId, ...describeFailure(err) });
    } finally {
      pass.finished++;
      finishedSinceRefresh++;
    }
  };

  for (;;) {
    const rolling = ctx.rollOverDue();
    while (!rolling && inFlight.size < policy.mailboxConcurrency) {
      if (waiting.length === 0 && !exhausted) {
        const page = await (prefetched ?? readPage(ctx.batchActivities, ctx.batchId, pass, fetchedUpTo, policy));
        prefetched = undefined;
        exhausted = page.length < policy.pageSize;
        fetchedUpTo = page.at(-1) ?? fetchedUpTo;
        waiting.push(...page);
      }
      const next = waiting.shift();
      if (next === undefined) break;
      if (ctx.skip(next)) continue;
      pass.scheduled++;
      inFlight.set(
        next,
        syncOne(next).finally(() => inFlight.delete(next)),
      );
    }

    if (inFlight.size === 0) {
      await flushFailures();
      const done = waiting.length === 0 && exhausted;
      if (done && ctx.countsReadBySettling) return 'done';
      await refresh();
      if (done) return 'done';
      // Rolling over: every mailbox up to the last one scheduled has finished.
      pass.cursor = lastScheduled();
      return 'rolledOver';
    }

    try {
      await Promise.race(inFlight.values());
    } catch (err) {
      if (isCancellation(err)) await Promise.allSettled(inFlight.values());
      throw err;
    }
    if (failures.length > 0) await flushFailures();
    if (finishedSinceRefresh >= refreshEvery) await refresh();
  }

  function lastScheduled(): string | null {
    // The next id waiting was never scheduled; everything before it was.
    const firstWaiting = waiting[0];
    if (firstWaiting === undefined) return fetchedUpTo;
    return (BigInt(firstWaiting) - 1n).toString();
  }

  async function flushFailures(): Promise<void> {
    if (failures.length === 0) return;
    await ctx.batchActivities.markMailboxesFailed(failures.splice(0));
  }

  async function refresh(): Promise<void> {
    finishedSinceRefresh = 0;
    ctx.onCounts(await ctx.batchActivities.refreshCounts(ctx.batchId));
  }
}

/**
 * A sync that ran out of retries: the code and message the mailbox's report shows. The code is the failure's own
 * (a row of domain/mailbox-errors.ts), or the workflow's SYNC_TIMEOUT / SYNC_FAILED when it has none.
 */
export function describeFailure(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const failed = 'SYNC_FAILED' satisfies MailboxErrorCode;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? failed, message: cause.message };
  if (cause instanceof TimeoutFailure)
    return {
      code: 'SYNC_TIMEOUT' satisfies MailboxErrorCode,
      message: `mailbox sync timed out (${cause.timeoutType})`,
    };
  return { code: failed, message: cause instanceof Error ? cause.message : String(cause) };
}
