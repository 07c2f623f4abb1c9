import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchCommand, BatchStatus, MailboxStatus } from './batch-status';
import type { MailboxCommand, MailboxOverrides } from './mailbox-commands';

/**
 * The messages a batch workflow understands. Operators can send the signals from the Temporal Web UI with a
 * JSON input such as `{"by": "admin@contoso.com"}` (the input is optional); the API sends the `command` update,
 * whose validator refuses a command the batch's status does not allow, so the caller learns at once.
 */

/** Who gave a command; recorded in the audit log and as the batch's last admin activity. */
export interface CommandActor {
  by?: string;
}

/** The settings of a batch that Edit can change (the seed: finalization times and the endpoints). */
export interface BatchEdit {
  startAfter?: string | null;
  completeAfter?: string | null;
  autoComplete?: boolean;
  sourceEndpointId?: string;
  destinationEndpointId?: string;
  badItemLimit?: number;
  largeItemLimit?: number;
  largeItemMaxBytes?: number;
  folderInclude?: string[];
  folderExclude?: string[];
  deleteOnDestination?: boolean;
  /** Who receives the e-mailed reports ([] for nobody). */
  notificationEmails?: string[];
  /** Time between summary reports while the batch syncs. */
  reportIntervalMs?: number;
  /** True: no reports at all, whoever is listed. */
  skipReports?: boolean;
  /** Leave calendars (events), address books, tasks out of the next passes. */
  skipCalendar?: boolean;
  skipContacts?: boolean;
  skipTasks?: boolean;
}

export interface CommandRequest extends CommandActor {
  command: BatchCommand;
  /** Only with `edit`. */
  edit?: BatchEdit;
  /** Only with `verify`: compare full contents too (BODY.PEEK[]), not only the header data. */
  deep?: boolean;
}

export const startSignal = defineSignal<[CommandActor?]>('start');
export const stopSignal = defineSignal<[CommandActor?]>('stop');
export const resumeSignal = defineSignal<[CommandActor?]>('resume');
export const completeSignal = defineSignal<[CommandActor?]>('complete');
export const removeSignal = defineSignal<[CommandActor?]>('remove');
export const syncNowSignal = defineSignal<[CommandActor?]>('syncNow');
/** `{"by": "…", "deep": true}` compares full contents too. */
export const verifySignal = defineSignal<[(CommandActor & { deep?: boolean })?]>('verify');
export const editSignal = defineSignal<[BatchEdit & CommandActor]>('edit');
/** Not a command: tells the workflow its mailbox rows changed (the API added some), so it reloads the counts. */
export const mailboxesChangedSignal = defineSignal('mailboxesChanged');

/** Synchronous form of the signals above: resolves once the workflow has applied the command. */
export const commandUpdate = defineUpdate<BatchSnapshot, [CommandRequest]>('command');

/** One mailbox command, as the API sends it to the mailbox's batch workflow. */
export interface MailboxCommandRequest extends CommandActor {
  command: MailboxCommand;
  mailboxId: string;
  /** The mailbox's address, for the audit log. */
  email: string;
  /** Only with `move`: the batch the mailbox goes to. */
  target?: { batchId: string; name: string; workflowId: string };
  /** Only with `set`. */
  overrides?: MailboxOverrides;
  /** Only with `verify`: compare full contents too. */
  deep?: boolean;
}

export interface MailboxCommandResult {
  outcome: 'accepted' | 'rejected';
  /** The mailbox's status afterwards (null once it has left the batch), or the one that refused the command. */
  status: MailboxStatus | null;
  /** Why a command was refused: a code of the API's error table. */
  code?: 'MAILBOX_COMMAND_NOT_ALLOWED' | 'MAILBOX_NOT_FOUND' | 'MAILBOX_ALREADY_IN_BATCH' | 'BATCH_ENDPOINTS_DIFFER';
}

/**
 * Applies one mailbox command; resolves once it has taken effect (a started mailbox is then Queued, its sync
 * running). The validator refuses what the batch's status does not allow; the mailbox's own status is checked
 * when the command is applied, in the same statement that applies it.
 */
export const mailboxCommandUpdate = defineUpdate<MailboxCommandResult, [MailboxCommandRequest]>('mailboxCommand');

/** Everything the dashboard shows about one batch. */
export const statusQuery = defineQuery<BatchSnapshot>('status');

export interface MailboxCounts {
  total: number;
  queued: number;
  syncing: number;
  synced: number;
  failed: number;
  stopped: number;
  /** Mailboxes completed by Complete (the seed's Finalized). */
  finalized: number;
}

export type PassKind = 'initial' | 'incremental' | 'final';

export interface PassProgress {
  kind: PassKind;
  startedAt: string;
  /** Mailboxes handed to a sync activity so far in this pass. */
  scheduled: number;
  /** Of those, how many have finished (synced or failed). */
  finished: number;
}

export interface VerificationProgress {
  deep: boolean;
  /** True for the verification Complete runs as its last step. */
  final: boolean;
  startedAt: string;
  /** Mailboxes handed to a verification activity so far. */
  scheduled: number;
  /** Of those, how many have been verified (or could not be). */
  finished: number;
}

export interface CommandRecord {
  command: BatchCommand;
  by: string;
  at: string;
  outcome: 'accepted' | 'rejected';
  /** For a rejected command: the status that did not allow it. */
  status?: BatchStatus;
}

export interface BatchSnapshot {
  batchId: string;
  name: string;
  status: BatchStatus;
  statusLabel: string;
  allowedCommands: BatchCommand[];
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  initialSyncAt: string | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: string | null;
  startAfter: string | null;
  completeAfter: string | null;
  autoComplete: boolean;
  /** The associated endpoints, by id; null for a batch started before the workflow carried them. */
  endpoints: { sourceEndpointId: string; destinationEndpointId: string } | null;
  lastAdminActivityAt: string;
  /** What the batch waits for next, and when (absolute times). */
  nextIncrementalSyncAt: string | null;
  autoStopAt: string | null;
  removeAt: string | null;
  counts: MailboxCounts;
  percentageSynced: number;
  pass: PassProgress | null;
  /** A verification of the batch's mailboxes under way (the `verify` command, or the last step of Complete). */
  verification: VerificationProgress | null;
  lastError: string | null;
  recentCommands: CommandRecord[];
  /** How many times this batch's workflow has continued as new (its history is bounded). */
  runs: number;
}

export type { BatchCommand, BatchStatus, MailboxStatus };
