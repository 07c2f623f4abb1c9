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
  /** Unique when set: an entry recorded again with the same key is not inserted twice. */
  key?: string;
}

/** Appends entries to the audit log in one statement (the workflow flushes several at once). */
export async function insertAuditEntries(db: Queryable, entries: AuditRecord[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `insert into audit_log (batch_id, batch_name, actor, command, outcome, at, detail, entry_key)
     select batch_id, batch_name, actor, command, outcome, coalesce(at, now()), detail, entry_key
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[],
                   $8::text[])
         as e(batch_id, batch_name, actor, command, outcome, at, detail, entry_key)
     on conflict (entry_key) where entry_key is not null do nothing`,
    [
      entries.map((e) => e.batchId),
      entries.map((e) => e.batchName),
      entries.map((e) => e.actor),
      entries.map((e) => e.command),
      entries.map((e) => e.outcome),
      entries.map((e) => e.at ?? null),
      entries.map((e) => JSON.stringify(e.detail)),
      entries.map((e) => e.key ?? null),
    ],
  );
}

/** An `audit_log` row as `listAuditRows` returns it. */
export interface AuditRow {
  id: string;
  at: Date;
  batch_id: string | null;
  batch_name: string | null;
  actor: string;
  command: string;
  outcome: 'accepted' | 'rejected';
  detail: Record<string, unknown>;
}

/** Filters of the audit log; null matches everything. `batch` is a batch id or a (case-insensitive) name. */
export interface AuditFilter {
  batch: string | null;
  actor: string | null;
  command: string | null;
  outcome: 'accepted' | 'rejected' | null;
  since: string | null;
  until: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One page of the audit log, newest first, and how many entries match in all. */
export async function listAuditRows(
  db: Queryable,
  q: AuditFilter & { limit: number; offset: number },
): Promise<{ rows: AuditRow[]; total: number }> {
  const batchId = q.batch !== null && UUID.test(q.batch) ? q.batch : null;
  const filter = `($1::text is null or a.batch_id = $2::uuid or lower(a.batch_name) = lower($1))
      and ($3::text is null or a.actor = $3)
      and ($4::text is null or a.command = $4)
      and ($5::text is null or a.outcome = $5)
      and ($6::timestamptz is null or a.at >= $6)
      and ($7::timestamptz is null or a.at < $7)`;
  const params = [q.batch, batchId, q.actor, q.command, q.outcome, q.since, q.until];
  const { rows } = await db.query<AuditRow & { full_count: string }>(
    `select a.id::text as id, a.at, a.batch_id, a.batch_name, a.actor, a.command, a.outcome, a.detail,
            count(*) over () as full_count
       from audit_log a
      where ${filter}
      order by a.at desc, a.id desc
      limit $8 offset $9`,
    [...params, q.limit, q.offset],
  );
  let total = rows[0] ? Number(rows[0].full_count) : 0;
  if (rows.length === 0 && q.offset > 0) {
    const all = await db.query<{ n: string }>(`select count(*) as n from audit_log a where ${filter}`, params);
    total = Number(all.rows[0]!.n);
  }
  return { rows: rows.map(({ full_count: _fullCount, ...row }) => row), total };
}

/** Deletes the entries older than `ageMs` (MAILFERRY_AUDIT_RETENTION); returns how many went. */
export async function deleteAuditOlderThan(db: Queryable, ageMs: number): Promise<number> {
  const { rowCount } = await db.query(
    'delete from audit_log where at < now() - make_interval(secs => $1::double precision)',
    [ageMs / 1000],
  );
  return rowCount ?? 0;
}
