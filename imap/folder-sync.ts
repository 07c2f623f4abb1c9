import { createHash } from 'node:crypto';
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { classifyImapError, ImapSyncError, serverText } from './errors';
import type { FolderPlan } from './folders';
import { appendMessages, appendableFlags, type AppendItem } from './multiappend';
import { exceedsDestinationLimits, type DestinationLimits } from './provider-profiles';
import type { CopiedRecord, FolderCheckpoint, SkippedRecord, SyncStore } from './sync-store';

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
  /** Called after each recorded chunk with what it added. */
  onProgress?: (delta: { copied: number; skipped: number; bytes: number }) => void;
  /**
   * Do not copy a message whose exact bytes were already copied from another folder of this mailbox; record it
   * as linked instead. For Gmail's All Mail, synced after the label folders.
   */
  dedupeAcrossFolders?: boolean;
  /** Hash every copied message (SHA-256 in the map) as it is copied; needed by `dedupeAcrossFolders`. */
  hashMessages?: boolean;
  /** What the destination is known to refuse (provider profile, APPENDLIMIT): skipped as bad items unsent. */
  destinationLimits?: DestinationLimits;
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

interface SourceState {
  uidvalidity: number;
  uidNext: number;
  exists: number;
  highestModseq: bigint | null;
}

/** UIDs whose sizes, flags and dates are fetched (and held) at once. */
const METADATA_WINDOW = 2000;

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

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImapSyncError('CANCELLED', 'sync cancelled');
}

/** True when the source folder looks exactly as it did at the end of the last completed pass. */
export function folderUnchanged(cp: FolderCheckpoint | undefined, s: SourceState): boolean {
  return (
    !!cp &&
    !!cp.completedAt &&
    cp.uidvalidity === s.uidvalidity &&
    cp.sourceUidnext === s.uidNext &&
    cp.sourceMessages === s.exists &&
    s.highestModseq !== null &&
    cp.highestModseq !== null &&
    cp.highestModseq === s.highestModseq
  );
}

/**
 * imapflow answers some failed commands (SEARCH, STORE, EXPUNGE) with `false` instead of rejecting; a sync must
 * never read that as "nothing there".
 */
function failedCommand(client: ImapFlow, side: 'source' | 'destination', what: string): ImapSyncError {
  return client.usable
    ? new ImapSyncError('SERVER_ERROR', `${side} server failed ${what}`, { side })
    : new ImapSyncError('CONNECTION_LOST', `${side} server connection lost during ${what}`, { side });
}

async function uidsAbove(client: ImapFlow, lastUid: number): Promise<number[]> {
  const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
  if (!found) throw failedCommand(client, 'source', 'UID SEARCH');
  return found.filter((u) => u > lastUid).sort((a, b) => a - b);
}

/** Hashes every message of the selected folder (uid -> sha256, size), streaming. */
async function hashAll(
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
function matchByContent(
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

function isRefusal(err: unknown): boolean {
  const e = err as { responseStatus?: string };
  if (e.responseStatus !== 'NO' && e.responseStatus !== 'BAD') return false;
  const c = classifyImapError(err, 'destination');
  return c.code === 'SERVER_ERROR' || c.code === 'PROTOCOL_ERROR';
}

/**
 * Syncs one folder: copies the source messages not yet on the destination (exactly once, resumable), updates
 * flags changed since the last pass (CONDSTORE), and deletes on the destination what the source deleted when
 * asked. `source` and `destination` are logged-in connections that this function selects folders on.
 */
export async function syncFolder(
  source: ImapFlow,
  destination: ImapFlow,
  store: SyncStore,
  plan: FolderPlan,
  checkpoint: FolderCheckpoint | undefined,
  options: FolderSyncOptions,
): Promise<FolderSyncResult> {
  const result: FolderSyncResult = {
    copied: 0,
    skipped: 0,
    bytes: 0,
    flagsUpdated: 0,
    deleted: 0,
    unchanged: false,
    reconciled: false,
  };
  const srcPath = plan.source.path;
  const dstPath = plan.destinationPath;
  let srcLock;
  try {
    srcLock = await source.getMailboxLock(srcPath, { readOnly: true });
  } catch (err) {
    const e = classifyImapError(err, 'source');
    // Deleted on the source between LIST and SELECT: nothing to copy, and no reason to fail the mailbox.
    if (e.code === 'MAILBOX_NOT_FOUND') return { ...result, unchanged: true };
    throw e;
  }
  let dstLock: { release(): void } | undefined;
  try {
    const smb = source.mailbox;
    if (!smb)
      throw new ImapSyncError('SERVER_ERROR', `source folder "${srcPath}" could not be selected`, { side: 'source' });
    const state: SourceState = {
      uidvalidity: Number(smb.uidValidity),
      uidNext: smb.uidNext,
      exists: smb.exists,
      highestModseq: smb.highestModseq ?? null,
    };
    let intents = await store.intents(srcPath);
    if (!intents.length && folderUnchanged(checkpoint, state)) {
      result.unchanged = true;
      return result;
    }

    try {
      dstLock = await destination.getMailboxLock(dstPath);
    } catch (err) {
      throw classifyImapError(err, 'destination');
    }
    const dmb = destination.mailbox;
    if (!dmb)
      throw new ImapSyncError('SERVER_ERROR', `destination folder "${dstPath}" could not be selected`, {
        side: 'destination',
      });
    const dstUidvalidity = Number(dmb.uidValidity);
    let dstUidNext = dmb.uidNext;
    const folderKey = {
      sourceFolder: srcPath,
      sourceUidvalidity: state.uidvalidity,
      destinationFolder: dstPath,
      destinationUidvalidity: dstUidvalidity,
    };

    let lastUid = checkpoint?.lastUid ?? 0;
    const sameSource = !!checkpoint && checkpoint.uidvalidity === state.uidvalidity;
    const sameDestination =
      !!checkpoint &&
      checkpoint.destinationFolder === dstPath &&
      (checkpoint.destinationUidvalidity ?? dstUidvalidity) === dstUidvalidity;
    const incremental = sameSource && sameDestination;
    if (!incremental) {
      await store.resetCheckpoint({
        sourceFolder: srcPath,
        destinationFolder: dstPath,
        uidvalidity: state.uidvalidity,
        destinationUidvalidity: dstUidvalidity,
        subscribed: plan.source.subscribed,
        specialUse: plan.source.role,
      });
      lastUid = 0;
      if (checkpoint) {
        // UIDVALIDITY changed on one side (or the folder moved): the UIDs we stored mean nothing now. Match the
        // two folders by content so nothing already there is copied again.
        result.reconciled = true;
        const src = state.exists ? await hashAll(source, '1:*', 'source') : [];
        const dst = dmb.exists ? await hashAll(destination, '1:*') : [];
        await store.replaceMap(folderKey, matchByContent(src, dst));
        intents = [];
      }
    }

    if (intents.length) {
      // The last sync stopped during APPENDs. Whatever of them reached the destination has a UID at or above the
      // UIDNEXT recorded before the first of them and is not recorded yet; match those copies by content.
      const usable = intents.every(
        (i) =>
          i.sourceUidvalidity === state.uidvalidity &&
          i.destinationUidvalidity === dstUidvalidity &&
          i.destinationFolder === dstPath,
      );
      if (usable) {
        const from = Math.min(...intents.map((i) => i.destinationUidnext));
        const taken = await store.mappedDestinationUids(srcPath, dstUidvalidity, from);
        const candidates = dmb.exists
          ? (await hashAll(destination, `${from}:*`)).filter((c) => c.uid >= from && !taken.has(c.uid))
          : [];
        const firstPending = Math.min(...intents.flatMap((i) => i.sourceUids));
        const done = await store.mapped(srcPath, state.uidvalidity, firstPending - 1);
        let pending = intents
          .flatMap((i) => i.sourceUids.map((uid, n) => ({ uid, sha256: i.sha256s[n] ?? '', size: i.sizes[n] ?? 0 })))
          .filter((p) => !done.has(p.uid));
        // Batches appended without hashing (the usual case) are hashed now, from the source.
        const unhashed = pending
          .filter((p) => !p.sha256)
          .map((p) => p.uid)
          .sort((x, y) => x - y);
        if (unhashed.length) {
          const hashed = new Map((await hashAll(source, toSequenceSet(unhashed), 'source')).map((h) => [h.uid, h]));
          pending = pending.map((p) =>
            p.sha256
              ? p
              : { uid: p.uid, sha256: hashed.get(p.uid)?.sha256 ?? '', size: hashed.get(p.uid)?.size ?? p.size },
          );
          // A message expunged from the source since has no copy to find; what it left on the destination stays.
          pending = pending.filter((p) => p.sha256);
        }
        await store.record(folderKey, matchByContent(pending, candidates), [], null);
      }
      await store.dropIntents(srcPath);
    }

    // Copy what is new since the checkpoint and not recorded yet: one FETCH of sizes, flags and dates for all
    // of it, then batches (bounded by count and bytes) whose bodies are fetched from the source while the
    // previous batch is appended to the destination.
    checkCancelled(options.signal);
    const newUids = await uidsAbove(source, lastUid);
    const mapped = await store.mapped(srcPath, state.uidvalidity, lastUid);
    const pendingUids = newUids.filter((u) => !mapped.has(u));
    let recording: Promise<void> = Promise.resolve();
    let recordError: unknown = null;
    // Metadata in windows, so memory stays bounded whatever the folder's size.
    for (let w = 0; w < pendingUids.length; w += METADATA_WINDOW) {
      const window = pendingUids.slice(w, w + METADATA_WINDOW);
      checkCancelled(options.signal);
      const meta = (
        await source.fetchAll(
          toSequenceSet(window),
          { uid: true, size: true, flags: true, internalDate: true },
          { uid: true },
        )
      ).sort((x, y) => x.uid - y.uid);
      const batches: FetchMessageObject[][] = [];
      const large: SkippedRecord[] = [];
      let current: FetchMessageObject[] = [];
      let currentBytes = 0;
      for (const m of meta) {
        const size = m.size ?? 0;
        if (size > options.limits.largeItemMaxBytes) {
          large.push({
            sourceUid: m.uid,
            kind: 'large',
            internalDate: m.internalDate ? new Date(m.internalDate) : null,
            subject: null,
            size,
            reason: `larger than the limit of ${options.limits.largeItemMaxBytes} bytes`,
          });
          continue;
        }
        if (current.length && (current.length >= options.chunkMessages || currentBytes + size > options.chunkBytes)) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push(m);
        currentBytes += size;
      }
      if (current.length) batches.push(current);
      if (large.length) await recordLarge(large);

      let prefetch: Promise<Map<number, Buffer>> | null = batches[0] ? loadBodies(batches[0]) : null;
      for (let i = 0; i < batches.length; i++) {
        checkCancelled(options.signal);
        if (recordError) throw recordError;
        const bodies = await prefetch!;
        prefetch = batches[i + 1] ? loadBodies(batches[i + 1]!) : null;
        // A failed prefetch surfaces when it is awaited; until then keep it from being an unhandled rejection.
        prefetch?.catch(() => undefined);
        const batch = batches[i]!;
        dstUidNext = await appendBatch(batch, bodies, dstUidNext, batch[batch.length - 1]!.uid);
      }
      await recording;
    }

    // Flags changed on the source since the last pass (only for messages copied in earlier passes).
    if (incremental && lastUid > 0) {
      checkCancelled(options.signal);
      result.flagsUpdated = await syncFlags(lastUid);
    } else if (result.reconciled && state.exists) {
      // Messages matched by content after a UIDVALIDITY change may carry other flags than on the source.
      checkCancelled(options.signal);
      result.flagsUpdated = await syncFlags(state.uidNext - 1, true);
    }
    if (incremental && options.deleteOnDestination) {
      checkCancelled(options.signal);
      result.deleted = await deleteRemoved();
    }
    // Never mark a folder done on the word of a connection that has gone away meanwhile.
    if (!source.usable) throw failedCommand(source, 'source', 'the folder sync');
    if (!destination.usable) throw failedCommand(destination, 'destination', 'the folder sync');
    await store.completeFolder(srcPath, {
      highestModseq: state.highestModseq,
      sourceUidnext: state.uidNext,
      sourceMessages: state.exists,
      lastUid: newUids.length ? Math.max(lastUid, newUids[newUids.length - 1] ?? 0) : lastUid,
    });
    return result;

    async function recordLarge(skipped: SkippedRecord[]): Promise<void> {
      const env = await source.fetchAll(
        skipped.map((x) => x.sourceUid).join(','),
        { uid: true, envelope: true },
        { uid: true },
      );
      for (const x of skipped) x.subject = env.find((e) => e.uid === x.sourceUid)?.envelope?.subject ?? null;
      await store.record(folderKey, [], skipped, null);
      result.skipped += skipped.length;
      options.onProgress?.({ copied: 0, skipped: skipped.length, bytes: 0 });
      const counts = await store.skippedCounts();
      if (counts.large > options.limits.largeItemLimit) {
        throw new ImapSyncError(
          'LARGE_ITEM_LIMIT_EXCEEDED',
          `${counts.large} messages are larger than ${options.limits.largeItemMaxBytes} bytes, more than the large item limit of ${options.limits.largeItemLimit}`,
        );
      }
    }

    async function loadBodies(batch: FetchMessageObject[]): Promise<Map<number, Buffer>> {
      const bodies = new Map<number, Buffer>();
      for await (const m of source.fetch(
        toSequenceSet(batch.map((p) => p.uid)),
        { uid: true, source: true },
        { uid: true },
      )) {
        if (m.source) bodies.set(m.uid, m.source);
      }
      if (!source.usable) throw failedCommand(source, 'source', 'FETCH');
      return bodies;
    }

    async function appendBatch(
      part: FetchMessageObject[],
      bodies: Map<number, Buffer>,
      uidNextBefore: number,
      recordLastUid: number,
    ): Promise<number> {
      let items: Array<{ meta: FetchMessageObject; raw: Buffer; sha256: string }> = [];
      for (const meta of part) {
        const raw = bodies.get(meta.uid);
        // Missing: expunged since the listing. Hashes are only needed to match across folders (Gmail); a crashed
        // append is matched by hashing its source messages again at recovery.
        if (raw) items.push({ meta, raw, sha256: options.hashMessages ? sha256(raw) : '' });
      }
      const skipped: SkippedRecord[] = [];
      const linked: CopiedRecord[] = [];
      const bad: SkippedRecord[] = [];
      if (options.destinationLimits) {
        const refused: typeof items = [];
        for (const x of items) {
          const why = exceedsDestinationLimits(x.raw, options.destinationLimits);
          if (!why) continue;
          refused.push(x);
          bad.push({
            sourceUid: x.meta.uid,
            kind: 'bad',
            internalDate: x.meta.internalDate ? new Date(x.meta.internalDate) : null,
            subject: null,
            size: x.raw.length,
            reason: why,
            sha256: x.sha256,
          });
        }
        if (refused.length) {
          const env = await source.fetchAll(
            toSequenceSet(refused.map((x) => x.meta.uid)),
            { uid: true, envelope: true },
            { uid: true },
          );
          for (const b of bad) b.subject = env.find((e) => e.uid === b.sourceUid)?.envelope?.subject ?? null;
          items = items.filter((x) => !refused.includes(x));
        }
      }
      if (options.dedupeAcrossFolders) {
        const elsewhere = await store.copiedElsewhere(
          srcPath,
          items.map((x) => x.sha256),
        );
        for (const x of items) {
          if (elsewhere.has(x.sha256))
            linked.push({
              sourceUid: x.meta.uid,
              destinationUid: null,
              sha256: x.sha256,
              size: x.raw.length,
              state: 'linked',
            });
        }
        items = items.filter((x) => !elsewhere.has(x.sha256));
      }
      const toItem = (x: (typeof items)[number]): AppendItem => ({
        raw: x.raw,
        flags: appendableFlags(x.meta.flags ?? []),
        internalDate: x.meta.internalDate ? new Date(x.meta.internalDate) : null,
      });
      if (items.length)
        await store.writeIntent({
          sourceFolder: srcPath,
          sourceUidvalidity: state.uidvalidity,
          destinationFolder: dstPath,
          destinationUidvalidity: dstUidvalidity,
          destinationUidnext: uidNextBefore,
          sourceUids: items.map((x) => x.meta.uid),
          sha256s: items.map((x) => x.sha256),
          sizes: items.map((x) => x.raw.length),
        });
      const copied: CopiedRecord[] = [];
      let next = uidNextBefore;
      const noteUids = (uids: (number | null)[]) => {
        for (const u of uids) if (u !== null && u >= next) next = u + 1;
      };
      options.trace?.({ step: 'append-start', folder: srcPath, count: items.length });
      try {
        const r = await appendMessages(destination, dstPath, items.map(toItem));
        items.forEach((x, i) =>
          copied.push({
            sourceUid: x.meta.uid,
            destinationUid: r.uids[i] ?? null,
            sha256: x.sha256,
            size: x.raw.length,
          }),
        );
        noteUids(r.uids);
      } catch (err) {
        if (!isRefusal(err)) throw classifyImapError(err, 'destination');
        // One message spoiled the whole command: append them one at a time to find it.
        for (const x of items) {
          try {
            const r = await appendMessages(destination, dstPath, [toItem(x)]);
            copied.push({
              sourceUid: x.meta.uid,
              destinationUid: r.uids[0] ?? null,
              sha256: x.sha256,
              size: x.raw.length,
            });
            noteUids(r.uids);
          } catch (one) {
            if (!isRefusal(one)) throw classifyImapError(one, 'destination');
            const env = await source.fetchAll(String(x.meta.uid), { uid: true, envelope: true }, { uid: true });
            bad.push({
              sourceUid: x.meta.uid,
              kind: 'bad',
              internalDate: x.meta.internalDate ? new Date(x.meta.internalDate) : null,
              subject: env[0]?.envelope?.subject ?? null,
              size: x.raw.length,
              reason: `refused by the destination: ${serverText(one)}`,
              sha256: x.sha256,
            });
          }
        }
      }
      if (copied.some((c) => c.destinationUid === null)) {
        // No UIDPLUS: learn the next UID so a later crash still knows where our copies start.
        const st = await destination.status(dstPath, { uidNext: true });
        if (st && st.uidNext) next = Math.max(next, st.uidNext);
      }
      options.trace?.({ step: 'append-done', folder: srcPath, count: copied.length });
      // Recorded while the next batch is appended; records stay in order (each waits for the one before).
      const intentUid = items[0]?.meta.uid ?? null;
      recording = recording.then(async () => {
        await store.record(folderKey, [...copied, ...linked], [...skipped, ...bad], recordLastUid, intentUid);
        options.trace?.({ step: 'recorded', folder: srcPath, count: copied.length });
        const bytes = copied.reduce((n, c) => n + c.size, 0);
        result.copied += copied.length;
        result.bytes += bytes;
        result.skipped += bad.length;
        options.onProgress?.({ copied: copied.length, skipped: bad.length, bytes });
        if (bad.length) {
          const counts = await store.skippedCounts();
          if (counts.bad > options.limits.badItemLimit) {
            throw new ImapSyncError(
              'BAD_ITEM_LIMIT_EXCEEDED',
              `the destination refused ${counts.bad} messages, more than the bad item limit of ${options.limits.badItemLimit}`,
            );
          }
        }
      });
      recording.catch((err: unknown) => {
        recordError = err;
      });
      return next;
    }

    async function syncFlags(upTo: number, full = false): Promise<number> {
      const useModseq = !full && state.highestModseq !== null && checkpoint?.highestModseq != null;
      if (useModseq && state.highestModseq === checkpoint?.highestModseq) return 0;
      const changed: Array<{ uid: number; flags: string[] }> = [];
      const opts = useModseq ? { uid: true, changedSince: checkpoint!.highestModseq! } : { uid: true };
      for await (const m of source.fetch(`1:${upTo}`, { uid: true, flags: true }, opts)) {
        if (m.uid <= upTo) changed.push({ uid: m.uid, flags: appendableFlags(m.flags ?? []) });
      }
      if (!changed.length) return 0;
      const map = await store.mappedUids(
        srcPath,
        state.uidvalidity,
        changed.map((c) => c.uid),
      );
      const targets = new Map<number, string[]>();
      for (const c of changed) {
        const d = map.get(c.uid);
        if (d?.state === 'copied' && d.destinationUid !== null) targets.set(d.destinationUid, c.flags);
      }
      if (!targets.size) return 0;
      const current = new Map<number, string[]>();
      for await (const m of destination.fetch(
        toSequenceSet([...targets.keys()].sort((x, y) => x - y)),
        { uid: true, flags: true },
        { uid: true },
      )) {
        current.set(m.uid, appendableFlags(m.flags ?? []));
      }
      const groups = new Map<string, number[]>();
      for (const [uid, flags] of targets) {
        const have = current.get(uid);
        if (!have) continue;
        const want = [...flags].sort();
        if (want.join(' ') === [...have].sort().join(' ')) continue;
        const key = want.join(' ');
        groups.set(key, [...(groups.get(key) ?? []), uid]);
      }
      let n = 0;
      for (const [key, uids] of groups) {
        const flags = key ? key.split(' ') : [];
        const ok = await destination.messageFlagsSet(toSequenceSet(uids.sort((x, y) => x - y)), flags, {
          uid: true,
          silent: true,
        } as never);
        if (!ok && !destination.usable) throw failedCommand(destination, 'destination', 'UID STORE');
        n += uids.length;
      }
      return n;
    }

    async function deleteRemoved(): Promise<number> {
      const all = await source.search({ all: true }, { uid: true });
      if (!all) throw failedCommand(source, 'source', 'UID SEARCH ALL');
      const present = new Set(all);
      const map = await store.mapped(srcPath, state.uidvalidity, 0);
      const gone = [...map.values()].filter((m) => !present.has(m.sourceUid));
      if (!gone.length) return 0;
      const dst = gone
        .filter((m) => m.state === 'copied' && m.destinationUid !== null)
        .map((m) => m.destinationUid as number);
      if (dst.length && !(await destination.messageDelete(toSequenceSet(dst.sort((x, y) => x - y)), { uid: true }))) {
        throw failedCommand(destination, 'destination', 'UID EXPUNGE');
      }
      await store.forget(
        srcPath,
        state.uidvalidity,
        gone.map((m) => m.sourceUid),
      );
      return dst.length;
    }
  } finally {
    dstLock?.release();
    srcLock.release();
  }
}
