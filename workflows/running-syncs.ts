import { CancellationScope } from '@temporalio/workflow';

/**
 * The syncs of single mailboxes running in this workflow run (the pass's and those a mailbox command started),
 * each in a cancellation scope of its own, so that one mailbox's sync can be cancelled while the rest go on.
 */
export class RunningSyncs {
  private readonly running = new Map<string, { scope: CancellationScope; settled: Promise<unknown> }>();
  private readonly cancelledByCommand = new Set<string>();

  run<T>(mailboxId: string, sync: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    const done = scope.run(sync);
    const entry = { scope, settled: done.catch(() => undefined) };
    this.running.set(mailboxId, entry);
    return done.finally(() => {
      if (this.running.get(mailboxId) === entry) this.running.delete(mailboxId);
    });
  }

  has(mailboxId: string): boolean {
    return this.running.has(mailboxId);
  }

  /** Cancels the mailbox's sync, if one runs, and waits until the activity has acknowledged. */
  async cancel(mailboxId: string): Promise<boolean> {
    const entry = this.running.get(mailboxId);
    if (!entry) return false;
    this.cancelledByCommand.add(mailboxId);
    entry.scope.cancel();
    await entry.settled;
    return true;
  }

  /** Cancels every running sync (the batch stops or is removed) and waits for them. */
  async cancelAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.cancel(id)));
  }

  /** True once for a sync that ended because a mailbox command cancelled it (not the batch's Stop). */
  takeCancelledByCommand(mailboxId: string): boolean {
    return this.cancelledByCommand.delete(mailboxId);
  }
}
