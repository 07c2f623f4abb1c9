import type { Queryable } from './transaction';

/**
 * What the metrics endpoint reads from the read model at scrape time (observability/metrics-gauges.ts): counts
 * by status and lease usage, labelled by batch and endpoint names only, never by a mailbox address.
 */

export interface StatusCountRow {
  status: string;
  count: number;
}

export async function countBatchesByStatus(db: Queryable): Promise<StatusCountRow[]> {
  const { rows } = await db.query<StatusCountRow>(
    'select status, count(*)::int as count from batches group by status order by status',
  );
  return rows;
}

export interface BatchStatusCountRow extends StatusCountRow {
  batch: string;
}

export async function countMailboxesByBatchAndStatus(db: Queryable): Promise<BatchStatusCountRow[]> {
  const { rows } = await db.query<BatchStatusCountRow>(
    `select b.name as batch, m.status, count(*)::int as count
       from mailboxes m join batches b on b.id = m.batch_id
      group by b.name, m.status order by b.name, m.status`,
  );
  return rows;
}

/** One endpoint's live leases (db/endpoint-leases.ts) beside its limits. */
export interface EndpointLeaseUsageRow {
  endpoint: string;
  /** Every live lease counts against `max_concurrent_migrations`, incremental ones also against their own limit. */
  leases: number;
  incremental_leases: number;
  max_concurrent_migrations: number;
  max_concurrent_incremental_syncs: number;
}

export async function selectEndpointLeaseUsage(db: Queryable): Promise<EndpointLeaseUsageRow[]> {
  const { rows } = await db.query<EndpointLeaseUsageRow>(
    `select e.name as endpoint,
            count(l.mailbox_id)::int as leases,
            count(l.mailbox_id) filter (where l.kind = 'incremental')::int as incremental_leases,
            e.max_concurrent_migrations, e.max_concurrent_incremental_syncs
       from endpoints e
       left join endpoint_leases l on l.endpoint_id = e.id and l.expires_at >= now()
      group by e.id order by e.name`,
  );
  return rows;
}

/**
 * Batches running a pass, by its kind: a pass shows as Syncing (initial until the batch's first initial sync
 * ended, incremental after) or Completing (the final pass); see `beginPass` in workflows/batch-workflow.ts.
 */
export async function countRunningPasses(
  db: Queryable,
): Promise<{ initial: number; incremental: number; final: number }> {
  const { rows } = await db.query<{ initial: number; incremental: number; final: number }>(
    `select count(*) filter (where status = 'Syncing' and initial_sync_at is null)::int as initial,
            count(*) filter (where status = 'Syncing' and initial_sync_at is not null)::int as incremental,
            count(*) filter (where status = 'Completing')::int as final
       from batches`,
  );
  return rows[0]!;
}
