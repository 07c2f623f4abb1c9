import {
  DIFFERENCES_KEPT,
  GRADES,
  GRADES_NEEDING_APPROVAL,
  type Consistency,
  type ConsistencyDifference,
  type Grade,
  type GradeCounts,
} from '../domain/consistency';
import type { Queryable } from './transaction';

/**
 * A `verifications` row (0007_verifications.sql): the last verification of one mailbox. Times are Dates as a
 * query returns them, or ISO strings inside the users report's JSON column (`VERIFICATION_OF_MAILBOX`).
 */
export interface VerificationRow {
  mailbox_id: string;
  grade: Grade;
  deep: boolean;
  source_items: string | number;
  destination_items: string | number;
  differences: ConsistencyDifference[];
  difference_count: number;
  verified_at: Date | string;
  approved_by: string | null;
  approved_at: Date | string | null;
}

const COLUMNS = `mailbox_id, grade, deep, source_items, destination_items, differences, difference_count, verified_at,
  approved_by, approved_at`;

/** A column expression for a query over `mailboxes`: the mailbox's verification row as JSON, or null. */
export const VERIFICATION_OF_MAILBOX = `(select to_jsonb(v) from verifications v where v.mailbox_id = mailboxes.id)`;

const iso = (d: Date | string) => new Date(d).toISOString();

export function consistencyOf(r: VerificationRow): Consistency {
  return {
    grade: r.grade,
    deep: r.deep,
    verifiedAt: iso(r.verified_at),
    sourceItems: Number(r.source_items),
    destinationItems: Number(r.destination_items),
    differences: r.differences,
    differenceCount: r.difference_count,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at === null ? null : iso(r.approved_at),
  };
}

/** A verification's result (every difference; the first DIFFERENCES_KEPT are kept), replacing the mailbox's last one (and its approval). */
export interface VerificationRecord {
  grade: Grade;
  deep: boolean;
  sourceItems: number;
  destinationItems: number;
  differences: ConsistencyDifference[];
}

export async function saveVerification(db: Queryable, mailboxId: string, v: VerificationRecord): Promise<void> {
  await db.query(
    `insert into verifications (mailbox_id, grade, deep, source_items, destination_items, differences,
                                difference_count)
     values ($1::bigint, $2::text, $3::boolean, $4::bigint, $5::bigint, $6::jsonb, $7::integer)
     on conflict (mailbox_id) do update
       set grade = excluded.grade, deep = excluded.deep, source_items = excluded.source_items,
           destination_items = excluded.destination_items, differences = excluded.differences,
           difference_count = excluded.difference_count, verified_at = now(), approved_by = null,
           approved_at = null`,
    [
      mailboxId,
      v.grade,
      v.deep,
      v.sourceItems,
      v.destinationItems,
      JSON.stringify(v.differences.slice(0, DIFFERENCES_KEPT)),
      v.differences.length,
    ],
  );
}

/** The last verification of each of these mailboxes (absent: never verified). */
export async function selectVerifications(db: Queryable, mailboxIds: string[]): Promise<Map<string, Consistency>> {
  if (mailboxIds.length === 0) return new Map();
  const { rows } = await db.query<VerificationRow>(
    `select ${COLUMNS} from verifications where mailbox_id = any($1::bigint[])`,
    [mailboxIds],
  );
  return new Map(rows.map((r) => [String(r.mailbox_id), consistencyOf(r)]));
}

/**
 * Records the administrator's approval of a mailbox's differences; returns the verification as approved, or null
 * when the mailbox has none.
 */
export async function approveVerification(db: Queryable, mailboxId: string, by: string): Promise<Consistency | null> {
  const { rows } = await db.query<VerificationRow>(
    `update verifications set approved_by = $2::text, approved_at = now()
      where mailbox_id = $1::bigint returning ${COLUMNS}`,
    [mailboxId, by],
  );
  return rows[0] ? consistencyOf(rows[0]) : null;
}

/** The batch's mailboxes whose grade holds up Complete and whose differences nobody approved, in id order. */
export async function selectUnapproved(
  db: Queryable,
  batchId: string,
): Promise<Array<{ id: string; email: string; grade: Grade }>> {
  const { rows } = await db.query<{ id: string; email: string; grade: Grade }>(
    `select m.id, m.email, v.grade from verifications v join mailboxes m on m.id = v.mailbox_id
      where m.batch_id = $1 and v.grade = any($2::text[]) and v.approved_at is null
      order by m.id`,
    [batchId, GRADES_NEEDING_APPROVAL],
  );
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** How many of the batch's mailboxes have each grade; `unverified`: no verification yet. */
export async function selectGradeCounts(db: Queryable, batchId: string): Promise<GradeCounts> {
  const { rows } = await db.query<{ grade: Grade | null; n: number }>(
    `select v.grade, count(*)::int as n from mailboxes m left join verifications v on v.mailbox_id = m.id
      where m.batch_id = $1 group by v.grade`,
    [batchId],
  );
  const counts = Object.fromEntries([...GRADES, 'unverified'].map((g) => [g, 0])) as GradeCounts;
  for (const r of rows) counts[r.grade ?? 'unverified'] = r.n;
  return counts;
}
