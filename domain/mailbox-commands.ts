import type { BatchStatus, MailboxStatus } from './batch-status';

/**
 * The commands an administrator can give one mailbox of a batch (Exchange's Stop-, Start-, Remove- and
 * Set-MigrationUser, and moving a user to another batch). The batch workflow applies them; whether one is allowed
 * depends on both the mailbox's status and its batch's, through {@link allowedMailboxCommands}.
 * - stop: this mailbox only; a running sync is cancelled, later passes skip it until it is started again (or the
 *   whole batch is started or resumed).
 * - start / resume: sync this mailbox now (a failed one is retried, a synced one resynced).
 * - remove: its rows and checkpoints go; mail already copied stays on the destination.
 * - move: to another batch with the same endpoints; its checkpoints go with it, so nothing is copied twice.
 * - set: per-mailbox overrides of the batch's settings.
 * - verify: compare this mailbox's source and destination (read-only); its status does not change.
 */
export const MAILBOX_COMMANDS = ['stop', 'start', 'resume', 'remove', 'move', 'set', 'verify'] as const;
export type MailboxCommand = (typeof MAILBOX_COMMANDS)[number];

const EVERY: readonly MailboxCommand[] = MAILBOX_COMMANDS;
const AT_REST: readonly MailboxCommand[] = ['start', 'resume', 'remove', 'move', 'set'];
const VERIFIABLE: readonly MailboxCommand[] = [...AT_REST, 'verify'];

/** By the mailbox's own status. A running sync can be stopped, removed or moved (it is cancelled first). */
const BY_MAILBOX_STATUS: Record<MailboxStatus, readonly MailboxCommand[]> = {
  Queued: ['stop', 'remove', 'move', 'set'],
  Syncing: ['stop', 'remove', 'move', 'set'],
  Synced: EVERY,
  Failed: AT_REST,
  Stopped: VERIFIABLE,
  Completing: [],
  Completed: ['remove', 'verify'],
};

/**
 * By the batch's status: nothing while the batch is between two states (Starting, Stopping, Completing,
 * Removing); a created batch's mailboxes cannot be synced before the batch is started, a stopped or failed
 * batch's can (one mailbox at a time), a completed batch's can only be removed.
 */
const BY_BATCH_STATUS: Record<BatchStatus, readonly MailboxCommand[]> = {
  Created: ['remove', 'move', 'set'],
  Queued: ['stop', 'remove', 'move', 'set'],
  Starting: [],
  Syncing: EVERY,
  Synced: EVERY,
  SyncedWithErrors: EVERY,
  Stopping: [],
  Stopped: VERIFIABLE,
  Completing: [],
  Completed: ['remove', 'verify'],
  Removing: [],
  Failed: VERIFIABLE,
};

export function mailboxCommandsInBatch(batch: BatchStatus): readonly MailboxCommand[] {
  return BY_BATCH_STATUS[batch];
}

export function allowedMailboxCommands(batch: BatchStatus, mailbox: MailboxStatus): MailboxCommand[] {
  return BY_MAILBOX_STATUS[mailbox].filter((c) => BY_BATCH_STATUS[batch].includes(c));
}

/** The mailbox statuses from which a command may be applied in a batch of this status. */
export function mailboxStatusesFor(batch: BatchStatus, command: MailboxCommand): MailboxStatus[] {
  if (!BY_BATCH_STATUS[batch].includes(command)) return [];
  return (Object.keys(BY_MAILBOX_STATUS) as MailboxStatus[]).filter((m) => BY_MAILBOX_STATUS[m].includes(command));
}

/**
 * Per-mailbox settings that win over the batch's (Set-MigrationUser). Absent: unchanged; null: back to the
 * batch's value.
 */
export interface MailboxOverrides {
  /** ISO 8601: the mailbox is not synced before this time. */
  startAfter?: string | null;
  badItemLimit?: number | null;
  largeItemLimit?: number | null;
  folderInclude?: string[] | null;
  folderExclude?: string[] | null;
  /** Leave this mailbox's calendars (events), address books, tasks out, or copy them, whatever the batch says. */
  skipCalendar?: boolean | null;
  skipContacts?: boolean | null;
  skipTasks?: boolean | null;
}

/** The audit log's name of a mailbox command (`stopMailbox`, ...), beside the batch commands' plain names. */
export type MailboxAuditCommand = `${MailboxCommand}Mailbox`;

export function mailboxAuditCommand(command: MailboxCommand): MailboxAuditCommand {
  return `${command}Mailbox`;
}
