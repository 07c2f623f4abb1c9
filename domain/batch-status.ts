/**
 * Terminology
 * - batch: a named set of mailboxes moved from one source endpoint to one destination endpoint. One Temporal
 *   workflow runs each batch from creation to removal.
 * - mailbox (migration user): one row of the batch's CSV; synced by one activity at a time.
 * - pass: one sweep over the batch's mailboxes (initial sync, 24-hour incremental sync, or the final sync of
 *   Complete).
 * - command: what an administrator asks of a batch (start, stop, ...). Whether a command is allowed depends
 *   only on the batch's status, through {@link allowedCommands}; the workflow and the API share that table.
 */

/** The statuses of a migration batch, as the migration dashboard shows them. */
export const BATCH_STATUSES = [
  'Created',
  'Queued',
  'Starting',
  'Syncing',
  'Synced',
  'SyncedWithErrors',
  'Stopping',
  'Stopped',
  'Completing',
  'Completed',
  'Removing',
  'Failed',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** The words a person reads; `SyncedWithErrors` is the only status whose label differs from its id. */
export const STATUS_LABELS: Record<BatchStatus, string> = {
  Created: 'Created',
  Queued: 'Queued',
  Starting: 'Starting',
  Syncing: 'Syncing',
  Synced: 'Synced',
  SyncedWithErrors: 'Synced with errors',
  Stopping: 'Stopping',
  Stopped: 'Stopped',
  Completing: 'Completing',
  Completed: 'Completed',
  Removing: 'Removing',
  Failed: 'Failed',
};

/** The commands an administrator can give a batch (the dashboard's buttons, the API's verbs, the signals). */
export const BATCH_COMMANDS = ['start', 'stop', 'resume', 'complete', 'edit', 'remove', 'syncNow', 'verify'] as const;
export type BatchCommand = (typeof BATCH_COMMANDS)[number];

/**
 * Which commands each status allows. A created or stopped batch can be started, edited or deleted; a running
 * one can only be stopped (paused); a synced one can be stopped, completed, edited, deleted or synced now;
 * resume restarts a stopped or failed batch and retries its failed mailboxes; verify compares the synced and
 * completed mailboxes' source and destination (read-only) whenever no sync pass is needed for it: Synced,
 * Synced with errors, Stopped, Completed. Transitional statuses (Starting's preparation aside) accept nothing
 * until they settle.
 */
const TRANSITIONS: Record<BatchStatus, readonly BatchCommand[]> = {
  Created: ['start', 'edit', 'remove'],
  Queued: ['stop', 'edit', 'remove'],
  Starting: ['stop'],
  Syncing: ['stop'],
  Synced: ['stop', 'complete', 'edit', 'remove', 'syncNow', 'verify'],
  SyncedWithErrors: ['stop', 'resume', 'complete', 'edit', 'remove', 'syncNow', 'verify'],
  Stopping: [],
  Stopped: ['start', 'resume', 'edit', 'remove', 'verify'],
  Completing: [],
  Completed: ['remove', 'verify'],
  Removing: [],
  Failed: ['start', 'resume', 'edit', 'remove'],
};

export function allowedCommands(status: BatchStatus): readonly BatchCommand[] {
  return TRANSITIONS[status];
}

export function isCommandAllowed(status: BatchStatus, command: BatchCommand): boolean {
  return TRANSITIONS[status].includes(command);
}

/** Statuses in which the batch's mailboxes are being synced or about to be: endpoints in use cannot change. */
export const RUNNING_STATUSES: readonly BatchStatus[] = ['Queued', 'Starting', 'Syncing', 'Stopping', 'Completing'];

/** Statuses in which a batch takes no more mailboxes: it is being completed, is completed, or is going away. */
export const CLOSED_STATUSES: readonly BatchStatus[] = ['Completing', 'Completed', 'Removing'];

/** Statuses in which a batch no longer holds its mailboxes: they may join another batch. */
export const RELEASED_STATUSES: readonly BatchStatus[] = ['Completed', 'Removing'];

/** The status a mailbox (migration user) is in. */
export const MAILBOX_STATUSES = [
  'Queued',
  'Syncing',
  'Synced',
  'Failed',
  'Stopped',
  'Completing',
  'Completed',
] as const;
export type MailboxStatus = (typeof MAILBOX_STATUSES)[number];

/** Why a batch whose every mailbox failed is Failed (its last error). */
export const ALL_MAILBOXES_FAILED = 'every mailbox in the batch failed; see the migration users report';

/**
 * The status a batch settles in when a sync pass ends, from its mailbox counts: Failed when every mailbox failed,
 * Synced with errors when some did. The workflow and the activity that settles the batch share it.
 */
export function settledStatus(counts: { total: number; failed: number }): 'Synced' | 'SyncedWithErrors' | 'Failed' {
  if (counts.total > 0 && counts.failed === counts.total) return 'Failed';
  return counts.failed > 0 ? 'SyncedWithErrors' : 'Synced';
}
