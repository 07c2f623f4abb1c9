import type { BatchStatus } from './batch-status';

/**
 * E-mailed reports of a batch (Exchange's NotificationEmails and ReportInterval): one when the batch reaches a
 * status below, and a summary whenever no report has gone out for the report interval while the batch syncs.
 */

/** The statuses announced by a report. */
export const REPORTED_STATUSES: readonly BatchStatus[] = ['Synced', 'SyncedWithErrors', 'Completed', 'Failed'];

/** The statuses during which the summary clock runs: the batch is (being) kept in sync. */
export const SUMMARY_STATUSES: readonly BatchStatus[] = [
  'Starting',
  'Syncing',
  'Synced',
  'SyncedWithErrors',
  'Completing',
];

export const DEFAULT_REPORT_INTERVAL_MS = 24 * 3_600_000;
export const MIN_REPORT_INTERVAL_MS = 60_000;
export const MAX_REPORT_INTERVAL_MS = 365 * 24 * 3_600_000;
export const MAX_RECIPIENTS = 50;

/** A plain address (no display name): what the API, the CLI and a signal from the Web UI must give. */
export function isEmailAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(value);
}

/** What the workflow knows of a batch's report settings (the addresses themselves stay in PostgreSQL). */
export interface ReportSettings {
  /** At least one address is listed. */
  hasRecipients: boolean;
  skip: boolean;
  intervalMs: number;
}

/** A report the workflow asked for, identified by a key that a retried send sees again. */
export interface ReportRequest {
  /** `status:<status>:<epoch ms of the change>` or `summary:<epoch ms it fell due>`. */
  key: string;
  kind: 'status' | 'summary';
  /** The batch's status when the report was asked for. */
  status: BatchStatus;
  /** The workflow's times and last error then (ISO 8601): its read model may not have caught up yet. */
  batch: {
    startedAt: string | null;
    initialSyncAt: string | null;
    initialSyncDurationMs: number | null;
    lastSyncedAt: string | null;
    lastError: string | null;
  };
}
