/**
 * Terminology
 * - verification: one comparison of a mailbox's source and destination, folder by folder (imap/verify.ts), never
 *   changing either server. Its result is a {@link Consistency}: a grade and the differences found.
 * - difference: one thing the two sides disagree on: a folder or a message present on one side only, or a message
 *   on both whose size, INTERNALDATE, flags or (deep only) content differ, or a message the batch's limits
 *   skipped on purpose.
 * - kind: what a difference is about. Mail only for now; the calendar and contact engine adds its own kinds.
 * - grade: Exchange's data consistency score, see {@link gradeOf}.
 */

/** What a difference is about. */
export const CONSISTENCY_KINDS = ['mail', 'calendar', 'contact'] as const;
export type ConsistencyKind = (typeof CONSISTENCY_KINDS)[number];

/**
 * What is different:
 * - `missingFolder`: a synced source folder has no destination folder (`count` its source messages);
 * - `missing`: a message only on the source; `extra`: only on the destination;
 * - `size`, `internalDate`: the same message (Message-ID) on both, with another RFC822.SIZE or INTERNALDATE;
 * - `flags`: the same message with other flags or keywords;
 * - `content`: the same message whose bytes differ (deep verification only);
 * - `skipped`: left out by the batch's limits (large or bad item), as the sync recorded it.
 */
export const DIFFERENCE_TYPES = [
  'missingFolder',
  'missing',
  'extra',
  'size',
  'internalDate',
  'flags',
  'content',
  'skipped',
] as const;
export type DifferenceType = (typeof DIFFERENCE_TYPES)[number];

/** One difference between the source and the destination of a mailbox. */
export interface ConsistencyDifference {
  kind: ConsistencyKind;
  type: DifferenceType;
  /** The source folder (for `extra`, the source folder whose destination holds it). */
  folder: string;
  /** The side that holds the item: `source` for what the destination lacks, `destination` for what it has more or different. */
  side: 'source' | 'destination';
  messageId: string | null;
  subject: string | null;
  /** INTERNALDATE (ISO 8601) of the item on `side`. */
  date: string | null;
  /** RFC822.SIZE on `side`. */
  size: number | null;
  /** What differs, for a person: `source \Seen, destination none`, `large item: over 10485760 bytes` … */
  detail: string | null;
  /** Items this difference stands for (a missing folder's messages); 1 otherwise. */
  count: number;
}

export const GRADES = ['Perfect', 'Good', 'Investigate', 'Poor'] as const;
export type Grade = (typeof GRADES)[number];

/** Grades that hold up Complete until an administrator approves the differences. */
export const GRADES_NEEDING_APPROVAL: readonly Grade[] = ['Investigate', 'Poor'];

/**
 * Where Investigate ends and Poor begins: more than `ratio` of the source's items, and at least `minimum` items,
 * differ (skipped items not counted).
 */
export const POOR_THRESHOLD = { ratio: 0.01, minimum: 5 } as const;

/**
 * The grade of a verification, as Exchange grades data consistency:
 * - Perfect: both sides hold the same;
 * - Good: the only differences are items the batch's limits skipped (listed as `skipped`);
 * - Investigate: other differences, affecting at most {@link POOR_THRESHOLD} of the items;
 * - Poor: more than that.
 */
export function gradeOf(differences: readonly ConsistencyDifference[], sourceItems: number): Grade {
  if (differences.length === 0) return 'Perfect';
  const affected = differences.filter((d) => d.type !== 'skipped').reduce((n, d) => n + d.count, 0);
  if (affected === 0) return 'Good';
  const limit = Math.max(POOR_THRESHOLD.minimum, Math.floor(sourceItems * POOR_THRESHOLD.ratio));
  return affected > limit ? 'Poor' : 'Investigate';
}

/** What a verification found, as kept per mailbox and returned with each row of the users report. */
export interface Consistency {
  grade: Grade;
  /** True when full contents were compared (BODY.PEEK[]), not only the header data. */
  deep: boolean;
  /** ISO 8601. */
  verifiedAt: string;
  sourceItems: number;
  destinationItems: number;
  /** The first {@link DIFFERENCES_KEPT} differences found. */
  differences: ConsistencyDifference[];
  /** All the differences found (more than `differences` holds when over {@link DIFFERENCES_KEPT}). */
  differenceCount: number;
  /** Who approved the differences (Complete then goes ahead despite Investigate or Poor), and when. */
  approvedBy: string | null;
  approvedAt: string | null;
}

/** Differences kept per mailbox; the grade counts them all. */
export const DIFFERENCES_KEPT = 1000;

/** True when this result keeps Complete from going ahead. */
export function needsApproval(c: Pick<Consistency, 'grade' | 'approvedAt'>): boolean {
  return GRADES_NEEDING_APPROVAL.includes(c.grade) && c.approvedAt === null;
}

/** Mailbox counts per grade, as the batch shows them; `unverified` had no verification yet. */
export type GradeCounts = Record<Grade | 'unverified', number>;
