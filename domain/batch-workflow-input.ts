import type { BatchSnapshot, CommandRequest, MailboxCounts, PassKind } from './batch-messages';
import type { ReportRequest, ReportSettings } from './batch-reports';
import type { BatchStatus } from './batch-status';

/** The workflow id of a batch: readable in the Web UI, unique while the batch exists. */
export function batchWorkflowId(batchName: string): string {
  return `batch:${batchName}`;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Timers and limits of a batch. Every field has the seed's default and can be overridden per batch. */
export interface LifecyclePolicy {
  /** Time between incremental syncs of a Synced batch. Default 24 hours. */
  incrementalSyncIntervalMs: number;
  /** A Synced batch with no admin command for this long is stopped. Default 60 days. */
  syncedInactivityStopMs: number;
  /** A Created, Stopped or Failed batch is removed after this long in that status. Default 90 days. */
  stoppedRetentionMs: number;
  /** A Completed batch is removed after this long. Default 60 days. */
  completedRetentionMs: number;
  /** Mailbox syncs one batch runs at once (endpoint limits apply on top, across batches). Default 100. */
  mailboxConcurrency: number;
  /** Mailboxes read from PostgreSQL per page while a pass schedules. Default 500. */
  pageSize: number;
  /** Continue as new once the history holds this many events (or when the server suggests it). Default 10,000. */
  historyEventBudget: number;
  /**
   * Heartbeat timeout of a mailbox sync: a worker that dies mid-sync (kill -9, lost host) is noticed after this
   * long, and the sync is retried on another worker. The activity heartbeats every 5 s and the SDK sends them at
   * most every 0.8 × this timeout, so keep it at 10 s or more. Default 2 minutes.
   */
  syncHeartbeatTimeoutMs: number;
}

export const DEFAULT_POLICY: LifecyclePolicy = {
  incrementalSyncIntervalMs: DAY,
  syncedInactivityStopMs: 60 * DAY,
  stoppedRetentionMs: 90 * DAY,
  completedRetentionMs: 60 * DAY,
  mailboxConcurrency: 100,
  pageSize: 500,
  historyEventBudget: 10_000,
  syncHeartbeatTimeoutMs: 2 * 60_000,
};

/**
 * The one input of `batchWorkflow`. It names the batch and its schedule; settings and mailboxes are in
 * PostgreSQL, and secrets never appear here. `carried` is set only by continue-as-new.
 */
export interface BatchWorkflowInput {
  batchId: string;
  name: string;
  createdBy: string;
  /** ISO 8601. */
  createdAt: string;
  autoStart: boolean;
  /** ISO 8601 or null: a started batch waits (Queued) until then. */
  startAfter: string | null;
  /** ISO 8601 or null: a Synced batch is completed at this time. */
  completeAfter: string | null;
  autoComplete: boolean;
  /** The batch's migration endpoints, by id (their settings and secrets stay in PostgreSQL). */
  endpoints?: BatchEndpoints;
  policy?: Partial<LifecyclePolicy>;
  /** True where the MailferryBatchName/MailferryStatus search attributes are registered. */
  searchAttributes?: boolean;
  /** Absent for batches created before e-mailed reports: none are sent until an edit lists recipients. */
  reports?: ReportSettings;
  carried?: CarriedState;
}

/** A pass in progress: mailboxes with id <= cursor have been synced (continue-as-new happens between pages). */
export interface PassState {
  kind: PassKind;
  startedAt: number;
  cursor: string | null;
  scheduled: number;
  finished: number;
}

export interface QueuedCommand extends CommandRequest {
  seq: number;
  at: number;
}

/** Workflow state carried across continue-as-new. Times are absolute (epoch ms), never remaining durations. */
export interface BatchEndpoints {
  sourceEndpointId: string;
  destinationEndpointId: string;
}

export interface CarriedState {
  status: BatchStatus;
  statusSince: number;
  startedAt: number | null;
  initialSyncAt: number | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: number | null;
  lastAdminActivityAt: number;
  nextIncrementalAt: number | null;
  startAfter: number | null;
  completeAfter: number | null;
  autoComplete: boolean;
  /** Absent in runs recorded before the workflow knew its endpoints. */
  endpoints?: BatchEndpoints | null;
  retryFailed: boolean;
  counts: MailboxCounts;
  pass: PassState | null;
  inbox: QueuedCommand[];
  nextSeq: number;
  processedSeq: number;
  recentCommands: BatchSnapshot['recentCommands'];
  lastError: string | null;
  runs: number;
  /** Mailboxes whose own StartAfter is ahead (mailbox id → epoch ms); absent in runs recorded before it existed. */
  mailboxStartAfter?: Record<string, number>;
  /** Absent in runs recorded before e-mailed reports (workflows/batch-reports.ts). */
  reports?: ReportState;
  /** A verification under way (workflows/verification.ts); absent in runs recorded before it existed. */
  verification?: VerificationState | null;
}

/** A verification of the batch's mailboxes: mailboxes with id <= cursor have been verified. */
export interface VerificationState {
  deep: boolean;
  /** The last step of Complete: the batch is Completed when it ends. */
  final: boolean;
  startedAt: number;
  cursor: string | null;
  scheduled: number;
  finished: number;
}

/** The report settings and clock of a batch, carried across continue-as-new. */
export interface ReportState extends ReportSettings {
  /** When the next summary falls due (absolute epoch ms), or null while the batch does not sync. */
  nextSummaryAt: number | null;
  /** Reports asked for and not yet sent (or given up on); the next run sends them again under the same key. */
  pending: ReportRequest[];
  /** The status the last status report announced since the batch was last started. */
  lastAnnounced: BatchStatus | null;
}
