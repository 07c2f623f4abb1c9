import { condition, patched, proxyActivities } from '@temporalio/workflow';
import type { BatchEdit } from '../domain/batch-messages';
import {
  DEFAULT_REPORT_INTERVAL_MS,
  REPORTED_STATUSES,
  SUMMARY_STATUSES,
  type ReportRequest,
} from '../domain/batch-reports';
import type { BatchStatus } from '../domain/batch-status';
import type { BatchWorkflowInput, CarriedState, ReportState } from '../domain/batch-workflow-input';
import type { ReportActivities } from './activity-types';
import { isoOrNull } from './batch-state';

/**
 * The batch's e-mailed reports, beside its main loop: a report when the batch reaches Synced, Synced with errors,
 * Completed or Failed (once per start: the daily incremental passes that return to Synced are not news), and a
 * summary whenever none has gone out for the report interval while it syncs. Sends
 * run on their own coroutine, never awaited by the main loop, so an SMTP server that refuses or does not answer
 * holds up neither commands nor passes; the activity retries with backoff, bounded, and writes its last error
 * where the batch detail shows it.
 *
 * Every command this module emits is guarded by the `batch-reports` patch, so histories recorded before it
 * replay unchanged (and batches created before it send nothing until an edit lists recipients).
 */
export const REPORTS_PATCH = 'batch-reports';

const reportActivities = proxyActivities<ReportActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 12 },
});

export interface BatchReports {
  /** The workflow's status changed (called by its setStatus). */
  statusChanged(status: BatchStatus): void;
  /** An accepted edit, which may change who gets reports, how often, or whether at all. */
  edited(edit: BatchEdit): void;
}

export function startBatchReports(input: BatchWorkflowInput, s: CarriedState): BatchReports {
  const r: ReportState = (s.reports ??= {
    ...(input.reports ?? { hasRecipients: false, skip: false, intervalMs: DEFAULT_REPORT_INTERVAL_MS }),
    nextSummaryAt: null,
    pending: [],
    lastAnnounced: null,
  });
  /** Bumped on every change the summary clock must look at again. */
  let changes = 0;
  let sending = false;
  let clockRunning = false;
  const enabled = () => r.hasRecipients && !r.skip;

  const send = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    while (r.pending.length > 0) {
      try {
        await reportActivities.sendBatchReport({ batchId: input.batchId, ...r.pending[0]! });
      } catch {
        // Out of retries: the activity has written the reason to the batch (lastReportError); the next report
        // is a new chance.
      }
      r.pending.shift();
    }
    sending = false;
  };

  /** Queues a report; the next summary falls due an interval after `since` (a summary's due time: no drift). */
  const queue = (report: Omit<ReportRequest, 'status' | 'batch'>, since = Date.now()): void => {
    r.pending.push({
      ...report,
      status: s.status,
      batch: {
        startedAt: isoOrNull(s.startedAt),
        initialSyncAt: isoOrNull(s.initialSyncAt),
        initialSyncDurationMs: s.initialSyncDurationMs,
        lastSyncedAt: isoOrNull(s.lastSyncedAt),
        lastError: s.lastError,
      },
    });
    r.nextSummaryAt = SUMMARY_STATUSES.includes(s.status) ? since + r.intervalMs : null;
    changes++;
    void send();
  };

  const clock = async (): Promise<void> => {
    for (;;) {
      const seen = changes;
      const due = r.nextSummaryAt;
      const moved = () => changes !== seen;
      if (!enabled() || due === null) {
        await condition(moved);
        continue;
      }
      const remaining = due - Date.now();
      if (remaining > 0 && (await condition(moved, remaining, { summary: 'summary report' }))) continue;
      queue({ key: `summary:${due}`, kind: 'summary' }, due);
    }
  };

  /** True once this run may emit report commands; starts the summary clock and the carried sends then. */
  const active = (): boolean => {
    if (!enabled() || !patched(REPORTS_PATCH)) return false;
    if (!clockRunning) {
      clockRunning = true;
      void clock();
      void send();
    }
    return true;
  };

  if (r.pending.length > 0 || r.nextSummaryAt !== null) active();

  return {
    statusChanged(status) {
      if (!active()) return;
      // Each incremental pass passes through Syncing back to Synced: that is news only once per start.
      if (status === 'Starting') r.lastAnnounced = null;
      if (REPORTED_STATUSES.includes(status) && status !== r.lastAnnounced) {
        r.lastAnnounced = status;
        queue({ key: `status:${status}:${Date.now()}`, kind: 'status' });
        return;
      }
      const summarising = SUMMARY_STATUSES.includes(status);
      if (summarising && r.nextSummaryAt === null) r.nextSummaryAt = Date.now() + r.intervalMs;
      else if (!summarising) r.nextSummaryAt = null;
      changes++;
    },
    edited(edit) {
      if (edit.notificationEmails !== undefined) r.hasRecipients = edit.notificationEmails.length > 0;
      if (edit.skipReports !== undefined) r.skip = edit.skipReports;
      if (edit.reportIntervalMs !== undefined) {
        r.intervalMs = edit.reportIntervalMs;
        if (r.nextSummaryAt !== null) r.nextSummaryAt = Date.now() + r.intervalMs;
      }
      if (SUMMARY_STATUSES.includes(s.status) && r.nextSummaryAt === null) r.nextSummaryAt = Date.now() + r.intervalMs;
      changes++;
      active();
    },
  };
}
