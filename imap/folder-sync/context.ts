import { createHash } from 'node:crypto';
import type { ImapFlow, MailboxObject } from 'imapflow';
import { ImapSyncError } from '../errors';
import type { FolderPlan } from '../folders';
import type { Side } from '../errors';
import type { MessageBuffers } from '../message-buffers';
import type { DestinationLimits } from '../provider-profiles';
import type { TransferRequest } from '../rate-limit';
import type { CopiedRecord, FolderCheckpoint, FolderKey, SkippedRecord, SyncStore } from '../sync-store';

/** Limits of a batch (the seed's BadItemLimit and LargeItemLimit). */
export interface ItemLimits {
  /** Messages the destination refuses before the mailbox fails. */
  badItemLimit: number;
  /** Messages over `largeItemMaxBytes` before the mailbox fails. */
  largeItemLimit: number;
  largeItemMaxBytes: number;
}

export interface FolderSyncOptions {
  limits: ItemLimits;
  deleteOnDestination: boolean;
  /** Messages per MULTIAPPEND. Default 100. */
  chunkMessages: number;
  /** Bytes per MULTIAPPEND (a single larger message goes alone). Default 16 MiB. */
  chunkBytes: number;
  signal?: AbortSignal;
  /**
   * Called after each recorded chunk with what it added; `skippedLarge`: of `skipped`, the messages over the
   * batch's size limit (the others the destination refuses).
   */
  onProgress?: (delta: { copied: number; skipped: number; skippedLarge: number; bytes: number }) => void;
  /**
   * Do not copy a message whose exact bytes were already copied from another folder of this mailbox; record it
   * as linked instead. For Gmail's All Mail, synced after the label folders.
   */
  dedupeAcrossFolders?: boolean;
  /** Hash every copied message (SHA-256 in the map) as it is copied; needed by `dedupeAcrossFolders`. */
  hashMessages?: boolean;
  /** What the destination is known to refuse (provider profile, APPENDLIMIT): skipped as bad items unsent. */
  destinationLimits?: DestinationLimits;
  /**
   * Waits until a chunk may go under the endpoints' rate limits: a batch's bodies before they are fetched from the
   * source, what is left of it before it is appended to the destination. Resolves early on cancellation.
   */
  beforeTransfer?: (side: Side, request: TransferRequest) => Promise<void>;
  /** Holds each batch's bodies within the process's budget, from before they are fetched until they are appended. */
  messageBuffers?: MessageBuffers;
  /** Observes the steps of each append (for diagnostics and the crash tests). */
  trace?: (event: SyncTraceEvent) => void;
}

export type SyncTraceEvent = { step: 'append-start' | 'append-done' | 'recorded'; folder: string; count: number };

export interface FolderSyncResult {
  copied: number;
  skipped: number;
  bytes: number;
  flagsUpdated: number;
  deleted: number;
  /** The source folder was unchanged since the last pass: nothing was fetched. */
  unchanged: boolean;
  /** UIDVALIDITY of the source or destination changed and the folder was matched again by content. */
  reconciled: boolean;
}

/** The source folder as it was when it was selected (what the checkpoint stores at the end). */
export interface SourceState {
  uidvalidity: number;
  uidNext: number;
  exists: number;
  highestModseq: bigint | null;
}

/**
 * Everything the phases of one folder's sync share: both connections (each with its folder selected), the store,
 * the plan and the checkpoint it started from, the options, what both folders looked like when selected, and the
 * counters of the result.
 */
export interface FolderContext {
  source: ImapFlow;
  destination: ImapFlow;
  store: SyncStore;
  plan: FolderPlan;
  checkpoint: FolderCheckpoint | undefined;
  options: FolderSyncOptions;
  srcPath: string;
  dstPath: string;
  state: SourceState;
  dstUidvalidity: number;
  /** The selected destination folder (imapflow keeps its EXISTS current). */
  dstMailbox: MailboxObject;
  /** The destination's UIDNEXT when it was selected. */
  dstUidNext: number;
  folderKey: FolderKey;
  result: FolderSyncResult;
}

/** `[1,2,3,7,9,10]` -> `1:3,7,9:10`. */
export function toSequenceSet(sorted: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImapSyncError('CANCELLED', 'sync cancelled');
}

/**
 * imapflow answers some failed commands (SEARCH, STORE, EXPUNGE) with `false` instead of rejecting; a sync must
 * never read that as "nothing there".
 */
export function failedCommand(client: ImapFlow, side: 'source' | 'destination', what: string): ImapSyncError {
  return client.usable
    ? new ImapSyncError('SERVER_ERROR', `${side} server failed ${what}`, { side })
    : new ImapSyncError('CONNECTION_LOST', `${side} server connection lost during ${what}`, { side });
}

/** Hashes every message of the selected folder (uid -> sha256, size), streaming. */
export async function hashAll(
  client: ImapFlow,
  range: string,
  side: 'source' | 'destination' = 'destination',
): Promise<Array<{ uid: number; sha256: string; size: number }>> {
  const out: Array<{ uid: number; sha256: string; size: number }> = [];
  for await (const m of client.fetch(range, { uid: true, source: true }, { uid: true })) {
    if (!m.source) continue;
    out.push({ uid: m.uid, sha256: sha256(m.source), size: m.source.length });
  }
  // A partial answer would make copies look missing and have them appended twice.
  if (!client.usable) throw failedCommand(client, side, 'FETCH');
  return out;
}

/** Pairs source messages with destination copies of the same bytes, each destination message used once. */
export function matchByContent(
  source: Array<{ uid: number; sha256: string; size: number }>,
  destination: Array<{ uid: number; sha256: string }>,
): CopiedRecord[] {
  const pool = new Map<string, number[]>();
  for (const d of [...destination].sort((a, b) => a.uid - b.uid)) {
    const list = pool.get(d.sha256) ?? [];
    list.push(d.uid);
    pool.set(d.sha256, list);
  }
  const out: CopiedRecord[] = [];
  for (const s of [...source].sort((a, b) => a.uid - b.uid)) {
    const d = pool.get(s.sha256)?.shift();
    if (d !== undefined) out.push({ sourceUid: s.uid, destinationUid: d, sha256: s.sha256, size: s.size });
  }
  return out;
}

/** A message left behind: too large for the batch's limit, or refused by the destination (its subject comes later). */
export function skippedItem(
  kind: SkippedRecord['kind'],
  message: { uid: number; internalDate?: Date | string | null },
  size: number,
  reason: string,
  hash = '',
): SkippedRecord {
  return {
    sourceUid: message.uid,
    kind,
    internalDate: message.internalDate ? new Date(message.internalDate) : null,
    subject: null,
    size,
    reason,
    sha256: hash,
  };
}

/** Fills in the subjects of skipped items (for the mailbox's report) with one FETCH ENVELOPE from the source. */
export async function fetchSubjects(ctx: FolderContext, items: SkippedRecord[]): Promise<void> {
  if (!items.length) return;
  const uids = [...new Set(items.map((x) => x.sourceUid))].sort((x, y) => x - y);
  const env = await ctx.source.fetchAll(toSequenceSet(uids), { uid: true, envelope: true }, { uid: true });
  for (const x of items) x.subject = env.find((e) => e.uid === x.sourceUid)?.envelope?.subject ?? null;
}
