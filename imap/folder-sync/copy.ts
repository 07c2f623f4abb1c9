import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { classifyImapError, ImapSyncError, serverText } from '../errors';
import { appendMessages, appendableFlags, type AppendItem } from '../multiappend';
import { exceedsDestinationLimits } from '../provider-profiles';
import type { CopiedRecord, SkippedRecord } from '../sync-store';
import {
  checkCancelled,
  failedCommand,
  fetchSubjects,
  sha256,
  skippedItem,
  toSequenceSet,
  type FolderContext,
} from './context';

/** UIDs whose sizes, flags and dates are fetched (and held) at once. */
const METADATA_WINDOW = 2000;

/** A message of a batch with its body, ready to append. */
interface Body {
  meta: FetchMessageObject;
  raw: Buffer;
  sha256: string;
}

/** The copy phase of one folder: where the destination's UIDs stand, and the chain of batches being recorded. */
interface CopyRun {
  ctx: FolderContext;
  /** The destination's UIDNEXT as far as we know: every copy of the next batch gets a UID at or above it. */
  uidNext: number;
  /** Batches are recorded while the next one is appended, in order: each record waits for the one before. */
  recording: Promise<void>;
  recordError: unknown;
}

/**
 * Copies what is new since the checkpoint (`lastUid`) and not recorded yet: sizes, flags and dates (at once for a
 * folder that fits one window, else in windows of the UIDs a UID SEARCH found), then batches (bounded by count
 * and bytes) whose bodies are fetched from the source while the previous batch is appended to the destination.
 * Returns the source UIDs found above `lastUid`.
 */
export async function copyNewMessages(ctx: FolderContext, lastUid: number): Promise<number[]> {
  checkCancelled(ctx.options.signal);
  if (ctx.state.exists === 0) return [];
  const run: CopyRun = { ctx, uidNext: ctx.dstUidNext, recording: Promise.resolve(), recordError: null };
  if (ctx.state.exists <= METADATA_WINDOW) {
    // One window holds the whole folder: the metadata FETCH of everything above the checkpoint also lists the new
    // UIDs, a round trip fewer than a UID SEARCH first.
    const [listed, mapped] = await Promise.all([
      fetchMetadata(ctx.source, `${lastUid + 1}:*`),
      ctx.store.mapped(ctx.srcPath, ctx.state.uidvalidity, lastUid),
    ]);
    // `n:*` always includes the highest UID, even one at or below the checkpoint.
    const meta = listed.filter((m) => m.uid > lastUid);
    await copyWindow(
      run,
      meta.filter((m) => !mapped.has(m.uid)),
    );
    return meta.map((m) => m.uid);
  }
  const newUids = await uidsAbove(ctx.source, lastUid);
  const mapped = await ctx.store.mapped(ctx.srcPath, ctx.state.uidvalidity, lastUid);
  const pendingUids = newUids.filter((u) => !mapped.has(u));
  // Metadata in windows, so memory stays bounded whatever the folder's size.
  for (let w = 0; w < pendingUids.length; w += METADATA_WINDOW) {
    checkCancelled(ctx.options.signal);
    await copyWindow(run, await fetchMetadata(ctx.source, toSequenceSet(pendingUids.slice(w, w + METADATA_WINDOW))));
  }
  return newUids;
}

async function uidsAbove(client: ImapFlow, lastUid: number): Promise<number[]> {
  const found = await client.search({ uid: `${lastUid + 1}:*` }, { uid: true });
  if (!found) throw failedCommand(client, 'source', 'UID SEARCH');
  return found.filter((u) => u > lastUid).sort((a, b) => a - b);
}

/** Sizes, flags and dates of the messages of a UID set, in UID order. */
async function fetchMetadata(source: ImapFlow, uidSet: string): Promise<FetchMessageObject[]> {
  const meta = await source.fetchAll(uidSet, { uid: true, size: true, flags: true, internalDate: true }, { uid: true });
  return meta.sort((x, y) => x.uid - y.uid);
}

/** Copies the messages of one metadata window, a batch's bodies fetched while the one before is appended. */
async function copyWindow(run: CopyRun, meta: FetchMessageObject[]): Promise<void> {
  const { ctx } = run;
  const { batches, large } = planBatches(ctx, meta);
  if (large.length) await recordLarge(ctx, large);

  let prefetch: Promise<LoadedBodies> | null = batches[0] ? loadBodies(ctx, batches[0]) : null;
  try {
    for (let i = 0; i < batches.length; i++) {
      checkCancelled(ctx.options.signal);
      if (run.recordError) throw run.recordError;
      const { bodies, release } = await prefetch!;
      prefetch = batches[i + 1] ? loadBodies(ctx, batches[i + 1]!) : null;
      // A failed prefetch surfaces when it is awaited; until then keep it from being an unhandled rejection.
      prefetch?.catch(() => undefined);
      const batch = batches[i]!;
      try {
        await appendBatch(run, batch, bodies, batch[batch.length - 1]!.uid);
      } finally {
        release();
      }
    }
  } finally {
    // A batch failed while the next one was being fetched: that one's bodies go back to the budget when it lands.
    void prefetch?.then(
      ({ release }) => release(),
      () => undefined,
    );
  }
  await run.recording;
}

/** Splits a window into MULTIAPPEND batches; messages over the batch's size limit are set aside as large items. */
function planBatches(
  ctx: FolderContext,
  meta: FetchMessageObject[],
): { batches: FetchMessageObject[][]; large: SkippedRecord[] } {
  const { limits, chunkMessages, chunkBytes } = ctx.options;
  const batches: FetchMessageObject[][] = [];
  const large: SkippedRecord[] = [];
  let current: FetchMessageObject[] = [];
  let currentBytes = 0;
  for (const m of meta) {
    const size = m.size ?? 0;
    if (size > limits.largeItemMaxBytes) {
      large.push(skippedItem('large', m, size, `larger than the limit of ${limits.largeItemMaxBytes} bytes`));
      continue;
    }
    if (current.length && (current.length >= chunkMessages || currentBytes + size > chunkBytes)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(m);
    currentBytes += size;
  }
  if (current.length) batches.push(current);
  return { batches, large };
}

async function recordLarge(ctx: FolderContext, skipped: SkippedRecord[]): Promise<void> {
  const { options, store } = ctx;
  await fetchSubjects(ctx, skipped);
  await store.record(ctx.folderKey, [], skipped, null);
  ctx.result.skipped += skipped.length;
  options.onProgress?.({ copied: 0, skipped: skipped.length, skippedLarge: skipped.length, bytes: 0 });
  const counts = await store.skippedCounts();
  if (counts.large > options.limits.largeItemLimit) {
    throw new ImapSyncError(
      'LARGE_ITEM_LIMIT_EXCEEDED',
      `${counts.large} messages are larger than ${options.limits.largeItemMaxBytes} bytes, more than the large item limit of ${options.limits.largeItemLimit}`,
    );
  }
}

/** A batch's bodies by UID, and the function that gives their bytes back to the process's budget. */
interface LoadedBodies {
  bodies: Map<number, Buffer>;
  release: () => void;
}

async function loadBodies(ctx: FolderContext, batch: FetchMessageObject[]): Promise<LoadedBodies> {
  const { source, options } = ctx;
  const bytes = batch.reduce((n, m) => n + (m.size ?? 0), 0);
  const release = (await options.messageBuffers?.reserve(bytes, options.signal)) ?? (() => undefined);
  try {
    await options.beforeTransfer?.('source', { messages: batch.length, bytes });
    checkCancelled(options.signal);
    const bodies = new Map<number, Buffer>();
    for await (const m of source.fetch(
      toSequenceSet(batch.map((p) => p.uid)),
      { uid: true, source: true },
      { uid: true },
    )) {
      if (m.source) bodies.set(m.uid, m.source);
    }
    if (!source.usable) throw failedCommand(source, 'source', 'FETCH');
    return { bodies, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * One batch: what the destination would refuse and what another folder already copied are set aside, an intent is
 * written, the rest goes in one MULTIAPPEND (one at a time when it is refused), and the batch is queued for
 * recording while the next one is appended.
 */
async function appendBatch(
  run: CopyRun,
  part: FetchMessageObject[],
  bodies: Map<number, Buffer>,
  recordLastUid: number,
): Promise<void> {
  const { ctx } = run;
  const { options } = ctx;
  const withBodies: Body[] = [];
  for (const meta of part) {
    const raw = bodies.get(meta.uid);
    // Missing: expunged since the listing. Hashes are only needed to match across folders (Gmail); a crashed
    // append is matched by hashing its source messages again at recovery.
    if (raw) withBodies.push({ meta, raw, sha256: options.hashMessages ? sha256(raw) : '' });
  }
  const { items, bad } = await setAsideRefused(ctx, withBodies);
  const { toAppend, linked } = await setAsideCopiedElsewhere(ctx, items);
  const uidNextBefore = run.uidNext;
  if (toAppend.length) {
    await options.beforeTransfer?.('destination', {
      messages: toAppend.length,
      bytes: toAppend.reduce((n, x) => n + x.raw.length, 0),
    });
    checkCancelled(options.signal);
  }
  if (toAppend.length)
    await ctx.store.writeIntent({
      ...ctx.folderKey,
      destinationUidnext: uidNextBefore,
      sourceUids: toAppend.map((x) => x.meta.uid),
      sha256s: toAppend.map((x) => x.sha256),
      sizes: toAppend.map((x) => x.raw.length),
    });
  options.trace?.({ step: 'append-start', folder: ctx.srcPath, count: toAppend.length });
  const appended = await appendOrIsolate(ctx, toAppend, uidNextBefore);
  bad.push(...appended.refused);
  run.uidNext = appended.next;
  if (appended.copied.some((c) => c.destinationUid === null)) {
    // No UIDPLUS: learn the next UID so a later crash still knows where our copies start.
    const st = await ctx.destination.status(ctx.dstPath, { uidNext: true });
    if (st && st.uidNext) run.uidNext = Math.max(run.uidNext, st.uidNext);
  }
  options.trace?.({ step: 'append-done', folder: ctx.srcPath, count: appended.copied.length });
  queueRecord(run, {
    copied: appended.copied,
    linked,
    bad,
    lastUid: recordLastUid,
    intentUid: toAppend[0]?.meta.uid ?? null,
  });
}

/** Messages the destination is known to refuse (provider limits, APPENDLIMIT) become bad items, unsent. */
async function setAsideRefused(ctx: FolderContext, items: Body[]): Promise<{ items: Body[]; bad: SkippedRecord[] }> {
  const limits = ctx.options.destinationLimits;
  const bad: SkippedRecord[] = [];
  if (!limits) return { items, bad };
  const refused: Body[] = [];
  for (const x of items) {
    const why = exceedsDestinationLimits(x.raw, limits);
    if (!why) continue;
    refused.push(x);
    bad.push(skippedItem('bad', x.meta, x.raw.length, why, x.sha256));
  }
  if (!refused.length) return { items, bad };
  await fetchSubjects(ctx, bad);
  return { items: items.filter((x) => !refused.includes(x)), bad };
}

/** Gmail's All Mail: a message whose bytes another folder of the mailbox copied is linked, not appended again. */
async function setAsideCopiedElsewhere(
  ctx: FolderContext,
  items: Body[],
): Promise<{ toAppend: Body[]; linked: CopiedRecord[] }> {
  if (!ctx.options.dedupeAcrossFolders) return { toAppend: items, linked: [] };
  const elsewhere = await ctx.store.copiedElsewhere(
    ctx.srcPath,
    items.map((x) => x.sha256),
  );
  const linked: CopiedRecord[] = items
    .filter((x) => elsewhere.has(x.sha256))
    .map((x) => ({
      sourceUid: x.meta.uid,
      destinationUid: null,
      sha256: x.sha256,
      size: x.raw.length,
      state: 'linked',
    }));
  return { toAppend: items.filter((x) => !elsewhere.has(x.sha256)), linked };
}

const toAppendItem = (x: Body): AppendItem => ({
  raw: x.raw,
  flags: appendableFlags(x.meta.flags ?? []),
  internalDate: x.meta.internalDate ? new Date(x.meta.internalDate) : null,
});

const copiedRecord = (x: Body, destinationUid: number | null): CopiedRecord => ({
  sourceUid: x.meta.uid,
  destinationUid,
  sha256: x.sha256,
  size: x.raw.length,
});

function isRefusal(err: unknown): boolean {
  const e = err as { responseStatus?: string };
  if (e.responseStatus !== 'NO' && e.responseStatus !== 'BAD') return false;
  const c = classifyImapError(err, 'destination');
  return c.code === 'SERVER_ERROR' || c.code === 'PROTOCOL_ERROR';
}

/**
 * One MULTIAPPEND. It is all or nothing, so when the destination refuses it the messages go again one at a time
 * and the ones refused on their own become bad items. `next`: the destination's UIDNEXT after what was appended.
 */
async function appendOrIsolate(
  ctx: FolderContext,
  items: Body[],
  uidNextBefore: number,
): Promise<{ copied: CopiedRecord[]; refused: SkippedRecord[]; next: number }> {
  const { destination, dstPath } = ctx;
  const copied: CopiedRecord[] = [];
  const refused: SkippedRecord[] = [];
  let next = uidNextBefore;
  const noteUids = (uids: (number | null)[]) => {
    for (const u of uids) if (u !== null && u >= next) next = u + 1;
  };
  try {
    const r = await appendMessages(destination, dstPath, items.map(toAppendItem));
    items.forEach((x, i) => copied.push(copiedRecord(x, r.uids[i] ?? null)));
    noteUids(r.uids);
  } catch (err) {
    if (!isRefusal(err)) throw classifyImapError(err, 'destination');
    // One message spoiled the whole command: append them one at a time to find it.
    for (const x of items) {
      try {
        const r = await appendMessages(destination, dstPath, [toAppendItem(x)]);
        copied.push(copiedRecord(x, r.uids[0] ?? null));
        noteUids(r.uids);
      } catch (one) {
        if (!isRefusal(one)) throw classifyImapError(one, 'destination');
        refused.push(
          skippedItem('bad', x.meta, x.raw.length, `refused by the destination: ${serverText(one)}`, x.sha256),
        );
      }
    }
    await fetchSubjects(ctx, refused);
  }
  return { copied, refused, next };
}

/**
 * Records a batch (map rows, checkpoint, its intent dropped) after the batches before it, while the next one is
 * appended; a failure stops the copy at the next batch.
 */
function queueRecord(
  run: CopyRun,
  batch: {
    copied: CopiedRecord[];
    linked: CopiedRecord[];
    bad: SkippedRecord[];
    lastUid: number;
    intentUid: number | null;
  },
): void {
  const { ctx } = run;
  const { options, store, result } = ctx;
  const { copied, bad } = batch;
  run.recording = run.recording.then(async () => {
    await store.record(ctx.folderKey, [...copied, ...batch.linked], bad, batch.lastUid, batch.intentUid);
    options.trace?.({ step: 'recorded', folder: ctx.srcPath, count: copied.length });
    const bytes = copied.reduce((n, c) => n + c.size, 0);
    result.copied += copied.length;
    result.bytes += bytes;
    result.skipped += bad.length;
    options.onProgress?.({ copied: copied.length, skipped: bad.length, skippedLarge: 0, bytes });
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
  run.recording.catch((err: unknown) => {
    run.recordError = err;
  });
}
