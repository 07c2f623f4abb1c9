import {
  GRADES,
  GRADES_NEEDING_APPROVAL,
  type Consistency,
  type ConsistencyDifference,
  type Grade,
  type GradeCounts,
} from '../domain/consistency';
import type { Queryable } from './transaction';

/** A `verifications` row (0007_verifications.sql): the last verification of one mailbox. */
interface VerificationRow {
  mailbox_id: string;
  grade: Grade;
  deep: boolean;
  source_items: string;
  destination_items: string;
  differences: ConsistencyDifference[];
  verified_at: Date;
  approved_by: string | null;
  approved_at: Date | null;
}

const COLUMNS = `mailbox_id, grade, deep, source_items, destination_items, differences, verified_at, approved_by,
  approved_at`;

function consistencyOf(r: VerificationRow): Consistency {
  return {
    grade: r.grade,
    deep: r.deep,
    verifiedAt: r.verified_at.toISOString(),
    sourceItems: Number(r.source_items),
    destinationItems: Number(r.destination_items),
    differences: r.differences,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at?.toISOString() ?? null,
  };
}

/** A verification's result, replacing the mailbox's last one (and its approval). */
export interface VerificationRecord {
  grade: Grade;
  deep: boolean;
  sourceItems: number;
  destinationItems: number;
  differences: ConsistencyDifference[];
}

export async function saveVerification(db: Queryable, mailboxId: string, v: VerificationRecord): Promise<void> {
  await db.query(
    `insert into verifications (mailbox_id, grade, deep, source_items, destination_items, differences)
     values ($1::bigint, $2::text, $3::boolean, $4::bigint, $5::bigint, $6::jsonb)
     on conflict (mailbox_id) do update
       set grade = excluded.grade, deep = excluded.deep, source_items = excluded.source_items,
           destination_items = excluded.destination_items, differences = excluded.differences,
           verified_at = now(), approved_by = null, approved_at = null`,
    [mailboxId, v.grade, v.deep, v.sourceItems, v.destinationItems, JSON.stringify(v.differences)],
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
