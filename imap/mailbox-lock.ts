/**
 * The per-mailbox exclusion the engine needs: at most one sync of a mailbox at a time, across every worker. Types
 * only, and the one error; `db/mailbox-locks.ts` implements it on PostgreSQL.
 */

/** Thrown by {@link MailboxLocks.acquire}: `MAILBOX_BUSY` after the wait, `CANCELLED` when the signal aborted. */
export class MailboxLockError extends Error {
  constructor(
    readonly code: 'MAILBOX_BUSY' | 'CANCELLED',
    message: string,
  ) {
    super(message);
    this.name = 'MailboxLockError';
  }
}

export interface MailboxLock {
  /**
   * Aborts when the lock is lost: its connection dropped (the database restarted, the network failed), so another
   * worker may take the mailbox. The sync holding it must stop at once.
   */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** How long to wait for another sync of the mailbox to end. */
  waitMs: number;
  signal?: AbortSignal;
  /** Called between attempts (the activity heartbeats here, and sees cancellation). */
  onWait?: () => void;
}

/** One sync per mailbox at a time (see `db/mailbox-locks.ts` for how). */
export interface MailboxLocks {
  acquire(mailboxId: string, options: AcquireOptions): Promise<MailboxLock>;
  /** Mailbox ids this process holds. */
  held(): string[];
  close(): Promise<void>;
}
