import type { CollectionKind } from './client';

/**
 * What the calendar and contact engine keeps about one mailbox between runs, as the engine sees it: one
 * checkpoint per source collection (where it is copied to, the sync token or ctag the last complete pass saw)
 * and one row per source object (its ETag, and what it became on the destination: href and ETag, or skipped).
 * Types only; `db/dav-sync-store.ts` implements it on PostgreSQL (0009_dav_sync.sql). One store per mailbox sync.
 *
 * Hrefs are decoded URL paths (`/alice/work/e1.ics`); a collection is named by its source path.
 */

/** What a source object is, for the per-kind statistics and the skip settings. */
export type DavItemKind = 'event' | 'task' | 'journal' | 'contact' | 'group';

export interface CollectionCheckpoint {
  kind: CollectionKind;
  sourcePath: string;
  destinationUrl: string;
  displayName: string | null;
  /** The RFC 6578 token the last complete pass ended with (null: none, or the server has no sync-collection). */
  syncToken: string | null;
  /** The collection's ctag when the last complete pass began. */
  ctag: string | null;
  /** What the last complete pass copied of it (see {@link includedKinds}): another choice now lists it all again. */
  included: string | null;
  completedAt: Date | null;
}

export interface ObjectRecord {
  sourceHref: string;
  sourceEtag: string | null;
  destinationHref: string;
  destinationEtag: string | null;
  itemKind: DavItemKind;
  state: 'copied' | 'skipped';
}

/** An object the destination refused: reported like a bad mail item (the BadItemLimit counts it). */
export interface SkippedObject {
  sourceHref: string;
  sourceEtag: string | null;
  destinationHref: string;
  itemKind: DavItemKind;
  /** The calendar's or address book's display name (else its path). */
  collection: string;
  /** SUMMARY of the event or task, FN of the contact. */
  summary: string | null;
  size: number;
  reason: string;
}

/** Objects over the whole mailbox (all passes): copied by kind, and refused. */
export interface DavTotals {
  calendarItems: number;
  contacts: number;
  skipped: number;
}

/** The state of one mailbox's calendar and contact sync. Every method is one atomic step. */
export interface DavSyncStore {
  /** Every collection checkpoint of the mailbox, by source path. */
  collections(): Promise<Map<string, CollectionCheckpoint>>;
  /** Records where a source collection is copied to (before its first object is). */
  saveCollection(cp: Omit<CollectionCheckpoint, 'syncToken' | 'ctag' | 'included' | 'completedAt'>): Promise<void>;
  /** A complete pass of the collection: the token and ctag the next pass starts from, and what it copied. */
  completeCollection(
    sourcePath: string,
    state: { syncToken: string | null; ctag: string | null; included: string },
  ): Promise<void>;
  /** The object rows of a collection, by source href. */
  objects(sourcePath: string): Promise<Map<string, ObjectRecord>>;
  /** Records a copied (or updated) object. */
  recordCopied(sourcePath: string, record: Omit<ObjectRecord, 'state'>): Promise<void>;
  /** Records a refused object: its row in state 'skipped' and, the first time for this version, a skipped item. */
  recordSkipped(sourcePath: string, skipped: SkippedObject): Promise<void>;
  /** Forgets objects deleted on the source. */
  forget(sourcePath: string, sourceHrefs: string[]): Promise<void>;
  /** Bad items of the mailbox so far, mail and DAV together (checked against the BadItemLimit). */
  badItems(): Promise<number>;
  totals(): Promise<DavTotals>;
}
