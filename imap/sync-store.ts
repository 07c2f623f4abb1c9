/**
 * What the engine keeps about one mailbox's sync between runs, as the engine sees it: folder checkpoints, the
 * source -> destination message map, append intents and skipped items. Types only; the engine receives a
 * {@link SyncStore} (see `SyncDatabase` in `mailbox-sync.ts`), and `db/sync-store.ts` implements it on
 * PostgreSQL (tables of 0001_init.sql and 0002_imap_sync.sql). One store per mailbox sync.
 *
 * Terms: a *checkpoint* is where one source folder's sync got to; the *map* says what became of each source
 * message (copied, skipped, linked); an *intent* is a batch of APPENDs in flight, written before the MULTIAPPEND
 * and dropped when the batch is recorded.
 */

export interface FolderCheckpoint {
  sourceFolder: string;
  destinationFolder: string;
  uidvalidity: number;
  lastUid: number;
  highestModseq: bigint | null;
  destinationUidvalidity: number | null;
  sourceUidnext: number | null;
  sourceMessages: number | null;
  completedAt: Date | null;
}

/** A new checkpoint, or one reset because UIDVALIDITY changed on either side. */
export interface CheckpointReset {
  sourceFolder: string;
  destinationFolder: string;
  uidvalidity: number;
  destinationUidvalidity: number;
  subscribed: boolean;
  specialUse: string | null;
}

/** What the source looked like when a completed folder was read (the next pass compares it). */
export interface FolderCompletion {
  highestModseq: bigint | null;
  sourceUidnext: number;
  sourceMessages: number;
  lastUid: number;
}

/** Which folder pair a map row or an intent belongs to, with both sides' UIDVALIDITY. */
export interface FolderKey {
  sourceFolder: string;
  sourceUidvalidity: number;
  destinationFolder: string;
  destinationUidvalidity: number;
}

export interface AppendIntent extends FolderKey {
  /** The destination's UIDNEXT before the append: every copy of ours has a UID at or above it. */
  destinationUidnext: number;
  sourceUids: number[];
  /** SHA-256 of each message, or '' where the batch was appended without hashing. */
  sha256s: string[];
  sizes: number[];
}

export interface MappedMessage {
  sourceUid: number;
  destinationUid: number | null;
  sha256: string | null;
  state: 'copied' | 'skipped' | 'linked';
}

export interface CopiedRecord {
  sourceUid: number;
  destinationUid: number | null;
  sha256: string;
  size: number;
  /** 'linked': not appended, because the same message was copied from another folder (Gmail's All Mail). */
  state?: 'copied' | 'linked';
}

export interface SkippedRecord {
  sourceUid: number;
  kind: 'bad' | 'large';
  internalDate: Date | null;
  subject: string | null;
  size: number;
  reason: string;
  sha256?: string | null;
}

/** Over the whole mailbox, all passes: copied messages, their bytes, skipped messages. */
export interface SyncTotals {
  copied: number;
  bytes: number;
  skipped: number;
}

/** The state of one mailbox's sync. Every method is one atomic step: a crash leaves it before or after. */
export interface SyncStore {
  /** Every folder checkpoint of the mailbox, by source folder. */
  checkpoints(): Promise<Map<string, FolderCheckpoint>>;
  /** Creates or resets a folder's checkpoint (new folder, or UIDVALIDITY changed on either side). */
  resetCheckpoint(cp: CheckpointReset): Promise<void>;
  /** Marks a folder done for this pass: what the source looked like when it was read. */
  completeFolder(sourceFolder: string, state: FolderCompletion): Promise<void>;
  /** Messages of a folder already handled with UID above `aboveUid` (all of them with 0). */
  mapped(sourceFolder: string, uidvalidity: number, aboveUid?: number): Promise<Map<number, MappedMessage>>;
  /** The map entries of these source UIDs. */
  mappedUids(sourceFolder: string, uidvalidity: number, uids: number[]): Promise<Map<number, MappedMessage>>;
  /** Destination UIDs already recorded for a folder (not candidates when a crashed append is recovered). */
  mappedDestinationUids(sourceFolder: string, destinationUidvalidity: number, fromUid: number): Promise<Set<number>>;
  /** The append intents a crashed sync left for a folder (oldest batch first). */
  intents(sourceFolder: string): Promise<AppendIntent[]>;
  /** Folders with an append in flight (a crashed sync). */
  intentFolders(): Promise<Set<string>>;
  writeIntent(intent: AppendIntent): Promise<void>;
  /** Drops every intent of a folder (all recovered, or made meaningless by a UIDVALIDITY change). */
  dropIntents(sourceFolder: string): Promise<void>;
  /**
   * Records copied and skipped messages of one folder, advances its checkpoint to `lastUid` and drops the
   * batch's append intent (`intentUid`: the first source UID of the batch; null for none), atomically: after a
   * crash either all of it happened or the intent is still there to be recovered.
   */
  record(
    folder: FolderKey,
    copied: CopiedRecord[],
    skipped: SkippedRecord[],
    lastUid: number | null,
    intentUid?: number | null,
  ): Promise<void>;
  /** Replaces a folder's map (and drops its intents) after a UIDVALIDITY change was reconciled by content. */
  replaceMap(folder: FolderKey, copied: CopiedRecord[]): Promise<void>;
  /** Forgets these source messages (deleted on the source, and now on the destination). */
  forget(sourceFolder: string, uidvalidity: number, sourceUids: number[]): Promise<void>;
  /** Which of these contents were already copied into another folder of this mailbox (Gmail's labels). */
  copiedElsewhere(sourceFolder: string, sha256s: string[]): Promise<Set<string>>;
  /** Skipped items of the mailbox so far, by kind (checked against the batch's limits). */
  skippedCounts(): Promise<{ bad: number; large: number }>;
  /** Copied messages and their bytes over the whole mailbox (all passes). */
  totals(): Promise<SyncTotals>;
}
