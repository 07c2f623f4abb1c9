import type { Pool, PoolClient } from 'pg';
import { allowedCommands, STATUS_LABELS, type BatchStatus } from '../domain/batch-status';
import type { BatchSnapshot } from '../domain/batch-messages';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/** The `batches` row, as the API reads it. */
export interface BatchRow {
  id: string;
  name: string;
  workflow_id: string;
  status: BatchStatus;
  source_endpoint_id: string;
  destination_endpoint_id: string;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  initial_sync_at: Date | null;
  initial_sync_duration_ms: string | null;
  last_synced_at: Date | null;
  start_after: Date | null;
  complete_after: Date | null;
  auto_start: boolean;
  auto_complete: boolean;
  bad_item_limit: number;
  large_item_limit: number;
  large_item_max_bytes: string;
  folder_include: string[];
  folder_exclude: string[];
  delete_on_destination: boolean;
  last_error: string | null;
  updated_at: Date;
}

/** Mailbox counts by status, from the read model. */
export interface CountsRow {
  total: number;
  queued: number;
  syncing: number;
  synced: number;
  failed: number;
  stopped: number;
  completing: number;
  finalized: number;
}

/**
 * How mailbox statuses count (as activities/batch-activities.ts counts them for the workflow): Synced = finished
 * the initial sync (Synced, Completing, Completed, or Syncing an incremental pass); Finalized = Completed.
 */
export const COUNT_COLUMNS = `
  count(*)::int as total,
  count(*) filter (where status = 'Queued')::int as queued,
  count(*) filter (where status = 'Syncing')::int as syncing,
  count(*) filter (where status in ('Synced', 'Completing', 'Completed')
                      or (status = 'Syncing' and initial_sync_at is not null))::int as synced,
  count(*) filter (where status = 'Failed')::int as failed,
  count(*) filter (where status = 'Stopped')::int as stopped,
  count(*) filter (where status = 'Completing')::int as completing,
  count(*) filter (where status = 'Completed')::int as finalized`;

export function percentage(synced: number, total: number): number {
  return total === 0 ? 0 : Math.floor((synced * 100) / total);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A batch by id or (case-insensitive) name; 404 BATCH_NOT_FOUND otherwise. */
export async function findBatch(db: Pool | PoolClient, ref: string): Promise<BatchRow> {
  if (UUID.test(ref)) {
    const { rows } = await db.query<BatchRow>('select * from batches where id = $1', [ref]);
    if (rows[0]) return rows[0];
  }
  const { rows } = await db.query<BatchRow>('select * from batches where lower(name) = lower($1)', [ref]);
  if (!rows[0]) throw new ApiError('BATCH_NOT_FOUND', 'no batch with this id or name', { id: ref.slice(0, 200) });
  return rows[0];
}

export async function batchCounts(db: Pool | PoolClient, batchId: string): Promise<CountsRow> {
  const { rows } = await db.query<CountsRow>(`select ${COUNT_COLUMNS} from mailboxes where batch_id = $1`, [batchId]);
  return rows[0]!;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function temporalLink(deps: ApiDeps, workflowId: string): string | null {
  if (!deps.temporalUiUrl) return null;
  const base = deps.temporalUiUrl.replace(/\/+$/, '');
  const namespace = deps.temporal.options.namespace;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

interface EndpointRef {
  id: string;
  name: string;
  host: string;
}

/**
 * Everything the dashboard shows about one batch (the seed's statistics). Settings and counts come from
 * PostgreSQL; status, timers and recent commands from the workflow's live snapshot when it answers.
 */
export async function batchDetail(deps: ApiDeps, row: BatchRow, snapshot: BatchSnapshot | undefined) {
  const [counts, endpoints] = await Promise.all([
    batchCounts(deps.pool, row.id),
    deps.pool.query<EndpointRef>('select id, name, host from endpoints where id = any($1::uuid[])', [
      [row.source_endpoint_id, row.destination_endpoint_id],
    ]),
  ]);
  const endpoint = (id: string) => endpoints.rows.find((e) => e.id === id) ?? { id, name: '(deleted)', host: '' };
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
    percentageSynced: percentage(counts.synced, counts.total),
    counts,
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
    recentCommands: snapshot?.recentCommands ?? [],
    live: snapshot !== undefined,
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
    await deps.pool.query(
      `insert into audit_log (batch_id, batch_name, actor, command, outcome, detail) values ($1, $2, $3, $4, 'rejected', $5)`,
      [entry.batchId, entry.batchName, entry.actor, entry.command, JSON.stringify({ source: 'api', ...entry.detail })],
    );
  } catch (err) {
    deps.logger.warn('could not write the audit log', { error: (err as Error).message });
  }
}
