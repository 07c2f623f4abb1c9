import type { Queryable } from './transaction';

/** One row of `audit_log`: who asked for what, on which batch, and whether it was done. */
export interface AuditRecord {
  /** Null for a refusal that named no existing batch. */
  batchId: string | null;
  batchName: string | null;
  actor: string;
  command: string;
  outcome: 'accepted' | 'rejected';
  /** ISO 8601; the database's clock when absent. */
  at?: string;
  detail: Record<string, unknown>;
}

/** Appends entries to the audit log in one statement (the workflow flushes several at once). */
export async function insertAuditEntries(db: Queryable, entries: AuditRecord[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `insert into audit_log (batch_id, batch_name, actor, command, outcome, at, detail)
     select batch_id, batch_name, actor, command, outcome, coalesce(at, now()), detail
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])
         as e(batch_id, batch_name, actor, command, outcome, at, detail)`,
    [
      entries.map((e) => e.batchId),
      entries.map((e) => e.batchName),
      entries.map((e) => e.actor),
      entries.map((e) => e.command),
      entries.map((e) => e.outcome),
      entries.map((e) => e.at ?? null),
      entries.map((e) => JSON.stringify(e.detail)),
    ],
  );
}
