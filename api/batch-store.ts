import { selectGradeCounts } from '../db/verifications';
import { insertAuditEntries } from '../db/audit';
import { findBatchRow, type BatchRow } from '../db/batches';
import { listEndpointRefs } from '../db/endpoints';
import { countBatchItems, countMailboxes } from '../db/mailbox-counts';
import type { Queryable } from '../db/transaction';
import { percentageSynced } from '../domain/batch-counts';
import { allowedCommands, STATUS_LABELS } from '../domain/batch-status';
import { formatDuration } from '../domain/duration';
import type { BatchSnapshot } from '../domain/batch-messages';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

export type { BatchRow };

/** A batch by id or (case-insensitive) name; 404 BATCH_NOT_FOUND otherwise. */
export async function findBatch(db: Queryable, ref: string): Promise<BatchRow> {
  const row = await findBatchRow(db, ref);
  if (!row) throw new ApiError('BATCH_NOT_FOUND', 'no batch with this id or name', { id: ref.slice(0, 200) });
  return row;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function temporalLink(deps: ApiDeps, workflowId: string): string | null {
  if (!deps.temporalUiUrl) return null;
  const base = deps.temporalUiUrl.replace(/\/+$/, '');
  const namespace = deps.temporal.options.namespace;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Everything the dashboard shows about one batch (the seed's statistics). Settings and counts come from
 * PostgreSQL; status, timers and recent commands from the workflow's live snapshot when it answers; since when
 * its work waits for a worker from Temporal's description of the workflow (GET /batches/{id} only).
 */
export async function batchDetail(
  deps: ApiDeps,
  row: BatchRow,
  snapshot: BatchSnapshot | undefined,
  waitingForWorkerSince: string | null = null,
) {
  const [counts, items, endpoints, grades] = await Promise.all([
    countMailboxes(deps.pool, row.id),
    countBatchItems(deps.pool, row.id),
    listEndpointRefs(deps.pool, [row.source_endpoint_id, row.destination_endpoint_id]),
    selectGradeCounts(deps.pool, row.id),
  ]);
  const endpoint = (id: string) => endpoints.find((e) => e.id === id) ?? { id, name: '(deleted)', host: '' };
  const status = snapshot?.status ?? row.status;
  const source = endpoint(row.source_endpoint_id);
  const destination = endpoint(row.destination_endpoint_id);
  return {
    id: row.id,
    name: row.name,
    type: 'IMAP' as const,
    direction: 'Onboarding' as const,
    status,
    statusLabel: STATUS_LABELS[status] ?? status,
    allowedCommands: [...(allowedCommands(status) ?? [])],
    requested: counts.total,
    total: counts.total,
    synced: counts.synced,
    finalized: counts.finalized,
    failed: counts.failed,
    percentageSynced: percentageSynced(counts.synced, counts.total),
    counts,
    items,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    startedAt: snapshot ? snapshot.startedAt : iso(row.started_at),
    initialSyncAt: snapshot ? snapshot.initialSyncAt : iso(row.initial_sync_at),
    initialSyncDurationMs: snapshot
      ? snapshot.initialSyncDurationMs
      : row.initial_sync_duration_ms === null
        ? null
        : Number(row.initial_sync_duration_ms),
    lastSyncedAt: snapshot ? snapshot.lastSyncedAt : iso(row.last_synced_at),
    startAfter: snapshot ? snapshot.startAfter : iso(row.start_after),
    completeAfter: snapshot ? snapshot.completeAfter : iso(row.complete_after),
    autoStart: row.auto_start,
    autoComplete: snapshot ? snapshot.autoComplete : row.auto_complete,
    badItemLimit: row.bad_item_limit,
    largeItemLimit: row.large_item_limit,
    largeItemMaxBytes: Number(row.large_item_max_bytes),
    folderInclude: row.folder_include,
    folderExclude: row.folder_exclude,
    deleteOnDestination: row.delete_on_destination,
    notificationEmails: row.notification_emails,
    reportInterval: formatDuration(Number(row.report_interval_ms)),
    skipReports: row.skip_reports,
    skipCalendar: row.skip_calendar,
    skipContacts: row.skip_contacts,
    skipTasks: row.skip_tasks,
    lastReportAt: iso(row.last_report_at),
    lastReportError: row.last_report_error,
    sourceEndpoint: source,
    destinationEndpoint: destination,
    associatedEndpoints: [source, destination],
    workflowId: row.workflow_id,
    temporalUiUrl: temporalLink(deps, row.workflow_id),
    nextIncrementalSyncAt: snapshot?.nextIncrementalSyncAt ?? null,
    autoStopAt: snapshot?.autoStopAt ?? null,
    removeAt: snapshot?.removeAt ?? null,
    lastAdminActivityAt: snapshot?.lastAdminActivityAt ?? null,
    lastError: snapshot ? snapshot.lastError : row.last_error,
    pass: snapshot?.pass ?? null,
    grades,
    verification: snapshot?.verification ?? null,
    recentCommands: snapshot?.recentCommands ?? [],
    live: snapshot !== undefined,
    waitingForWorkerSince,
  };
}

export type BatchDetail = Awaited<ReturnType<typeof batchDetail>>;

/** API-side refusals go to the audit log too (the workflow records the commands it receives). */
export async function auditRejection(
  deps: ApiDeps,
  entry: {
    batchId: string | null;
    batchName: string | null;
    actor: string;
    command: string;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  try {
    await insertAuditEntries(deps.pool, [
      { ...entry, outcome: 'rejected', detail: { source: 'api', ...entry.detail } },
    ]);
  } catch (err) {
    deps.logger.warn('could not write the audit log', { error: (err as Error).message });
  }
}
