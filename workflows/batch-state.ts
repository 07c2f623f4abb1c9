import type { BatchSnapshot, CommandRecord, MailboxCounts } from '../domain/batch-messages';
import { allowedCommands, STATUS_LABELS } from '../domain/batch-status';
import type { BatchWorkflowInput, CarriedState, LifecyclePolicy } from '../domain/batch-workflow-input';
import { percentageSynced } from '../domain/batch-counts';

export const EMPTY_COUNTS: MailboxCounts = {
  total: 0,
  queued: 0,
  syncing: 0,
  synced: 0,
  failed: 0,
  stopped: 0,
  finalized: 0,
};

const RECENT_COMMANDS_KEPT = 20;

export function initialState(input: BatchWorkflowInput, now: number): CarriedState {
  return {
    status: 'Created',
    statusSince: now,
    startedAt: null,
    initialSyncAt: null,
    initialSyncDurationMs: null,
    lastSyncedAt: null,
    lastAdminActivityAt: now,
    nextIncrementalAt: null,
    startAfter: parseTime(input.startAfter),
    completeAfter: parseTime(input.completeAfter),
    autoComplete: input.autoComplete,
    endpoints: input.endpoints ?? null,
    retryFailed: false,
    counts: EMPTY_COUNTS,
    pass: null,
    inbox: [],
    nextSeq: 1,
    processedSeq: 0,
    recentCommands: [],
    lastError: null,
    runs: 0,
  };
}

export function parseTime(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function remember(s: CarriedState, record: CommandRecord): void {
  s.recentCommands.push(record);
  if (s.recentCommands.length > RECENT_COMMANDS_KEPT) s.recentCommands.shift();
}

/** What the batch waits for next while no pass runs, and what happens when that time comes. */
export interface Deadline {
  at: number;
  action: 'start' | 'incremental' | 'autoStop' | 'complete' | 'remove' | 'startMailboxes';
  summary: string;
}

export function nextDeadline(s: CarriedState, policy: LifecyclePolicy): Deadline | null {
  switch (s.status) {
    case 'Queued':
      return { at: s.startAfter ?? 0, action: 'start', summary: 'StartAfter' };
    case 'Created':
    case 'Stopped':
    case 'Failed':
      return { at: s.statusSince + policy.stoppedRetentionMs, action: 'remove', summary: `remove ${s.status} batch` };
    case 'Completed':
      return { at: s.statusSince + policy.completedRetentionMs, action: 'remove', summary: 'remove Completed batch' };
    case 'Synced':
    case 'SyncedWithErrors': {
      const candidates: Deadline[] = [];
      if (s.completeAfter !== null)
        candidates.push({ at: s.completeAfter, action: 'complete', summary: 'CompleteAfter' });
      candidates.push({
        at: s.lastAdminActivityAt + policy.syncedInactivityStopMs,
        action: 'autoStop',
        summary: 'stop after inactivity',
      });
      if (s.nextIncrementalAt !== null) {
        candidates.push({ at: s.nextIncrementalAt, action: 'incremental', summary: 'next incremental sync' });
      }
      const mailboxStarts = Object.values(s.mailboxStartAfter ?? {});
      if (mailboxStarts.length > 0) {
        candidates.push({ at: Math.min(...mailboxStarts), action: 'startMailboxes', summary: 'mailbox StartAfter' });
      }
      // earliest first; on a tie the order above wins (complete, then stop, then sync)
      return candidates.reduce((best, c) => (c.at < best.at ? c : best));
    }
    default:
      return null;
  }
}

/** The batch's times and Complete settings as the snapshot and the read model's row both give them. */
export function scheduleFields(s: CarriedState) {
  return {
    startedAt: isoOrNull(s.startedAt),
    initialSyncAt: isoOrNull(s.initialSyncAt),
    initialSyncDurationMs: s.initialSyncDurationMs,
    lastSyncedAt: isoOrNull(s.lastSyncedAt),
    startAfter: isoOrNull(s.startAfter),
    completeAfter: isoOrNull(s.completeAfter),
    autoComplete: s.autoComplete,
  };
}

export function snapshot(input: BatchWorkflowInput, s: CarriedState, policy: LifecyclePolicy): BatchSnapshot {
  const synced = s.status === 'Synced' || s.status === 'SyncedWithErrors';
  const retention =
    s.status === 'Completed'
      ? policy.completedRetentionMs
      : ['Created', 'Stopped', 'Failed'].includes(s.status)
        ? policy.stoppedRetentionMs
        : null;
  return {
    batchId: input.batchId,
    name: input.name,
    status: s.status,
    statusLabel: STATUS_LABELS[s.status],
    allowedCommands: [...allowedCommands(s.status)],
    createdBy: input.createdBy,
    createdAt: input.createdAt,
    ...scheduleFields(s),
    endpoints: s.endpoints ?? null,
    lastAdminActivityAt: new Date(s.lastAdminActivityAt).toISOString(),
    nextIncrementalSyncAt: synced ? isoOrNull(s.nextIncrementalAt) : null,
    autoStopAt: synced ? new Date(s.lastAdminActivityAt + policy.syncedInactivityStopMs).toISOString() : null,
    removeAt: retention === null ? null : new Date(s.statusSince + retention).toISOString(),
    counts: s.counts,
    percentageSynced: percentageSynced(s.counts.synced, s.counts.total),
    pass: s.pass && {
      kind: s.pass.kind,
      startedAt: new Date(s.pass.startedAt).toISOString(),
      scheduled: s.pass.scheduled,
      finished: s.pass.finished,
    },
    verification: s.verification
      ? {
          deep: s.verification.deep,
          final: s.verification.final,
          startedAt: new Date(s.verification.startedAt).toISOString(),
          scheduled: s.verification.scheduled,
          finished: s.verification.finished,
        }
      : null,
    lastError: s.lastError,
    recentCommands: s.recentCommands,
    runs: s.runs,
  };
}
