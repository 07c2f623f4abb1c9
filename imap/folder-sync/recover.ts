import type { AppendIntent } from '../sync-store';
import { hashAll, matchByContent, toSequenceSet, type FolderContext } from './context';

/** Where this pass starts: after the checkpoint's last UID, or from scratch (`incremental` false). */
export interface PassStart {
  incremental: boolean;
  lastUid: number;
}

/**
 * Continues from the checkpoint when both folders are the ones it describes; otherwise resets it, and when the
 * folder was synced before (UIDVALIDITY changed on one side, or the folder moved), matches the two folders by
 * content so nothing already there is copied again (`result.reconciled`).
 */
export async function resumeOrReset(ctx: FolderContext): Promise<PassStart> {
  const { checkpoint, state, dstPath, dstUidvalidity } = ctx;
  const sameSource = !!checkpoint && checkpoint.uidvalidity === state.uidvalidity;
  const sameDestination =
    !!checkpoint &&
    checkpoint.destinationFolder === dstPath &&
    (checkpoint.destinationUidvalidity ?? dstUidvalidity) === dstUidvalidity;
  if (sameSource && sameDestination) return { incremental: true, lastUid: checkpoint.lastUid };
  await ctx.store.resetCheckpoint({
    sourceFolder: ctx.srcPath,
    destinationFolder: dstPath,
    uidvalidity: state.uidvalidity,
    destinationUidvalidity: dstUidvalidity,
    subscribed: ctx.plan.source.subscribed,
    specialUse: ctx.plan.source.role,
  });
  if (checkpoint) {
    // UIDVALIDITY changed on one side (or the folder moved): the UIDs we stored mean nothing now. Match the
    // two folders by content so nothing already there is copied again.
    ctx.result.reconciled = true;
    const src = state.exists ? await hashAll(ctx.source, '1:*', 'source') : [];
    const dst = ctx.dstMailbox.exists ? await hashAll(ctx.destination, '1:*') : [];
    await ctx.store.replaceMap(ctx.folderKey, matchByContent(src, dst));
  }
  return { incremental: false, lastUid: 0 };
}

/**
 * The last sync stopped during APPENDs. Whatever of them reached the destination has a UID at or above the
 * UIDNEXT recorded before the first of them and is not recorded yet; those copies are matched by content and
 * recorded. The intents are dropped either way: what was not found is copied again.
 */
export async function recoverIntents(ctx: FolderContext, intents: AppendIntent[]): Promise<void> {
  const { state, store, srcPath } = ctx;
  const usable = intents.every(
    (i) =>
      i.sourceUidvalidity === state.uidvalidity &&
      i.destinationUidvalidity === ctx.dstUidvalidity &&
      i.destinationFolder === ctx.dstPath,
  );
  if (usable) {
    const from = Math.min(...intents.map((i) => i.destinationUidnext));
    const taken = await store.mappedDestinationUids(srcPath, ctx.dstUidvalidity, from);
    const candidates = ctx.dstMailbox.exists
      ? (await hashAll(ctx.destination, `${from}:*`)).filter((c) => c.uid >= from && !taken.has(c.uid))
      : [];
    const pending = await pendingOfIntents(ctx, intents);
    const found = matchByContent(pending, candidates);
    await store.record(ctx.folderKey, found, [], null);
    // Appended by the attempt that stopped, counted now that they are recorded: each copy is reported once.
    const bytes = found.reduce((n, c) => n + c.size, 0);
    ctx.result.copied += found.length;
    ctx.result.bytes += bytes;
    ctx.options.onProgress?.({ copied: found.length, skipped: 0, skippedLarge: 0, bytes });
  }
  await store.dropIntents(srcPath);
}

/** The intents' source messages not recorded since, with their hashes (computed now where the intent has none). */
async function pendingOfIntents(
  ctx: FolderContext,
  intents: AppendIntent[],
): Promise<Array<{ uid: number; sha256: string; size: number }>> {
  const firstPending = Math.min(...intents.flatMap((i) => i.sourceUids));
  const done = await ctx.store.mapped(ctx.srcPath, ctx.state.uidvalidity, firstPending - 1);
  let pending = intents
    .flatMap((i) => i.sourceUids.map((uid, n) => ({ uid, sha256: i.sha256s[n] ?? '', size: i.sizes[n] ?? 0 })))
    .filter((p) => !done.has(p.uid));
  // Batches appended without hashing (the usual case) are hashed now, from the source.
  const unhashed = pending
    .filter((p) => !p.sha256)
    .map((p) => p.uid)
    .sort((x, y) => x - y);
  if (unhashed.length) {
    const hashed = new Map((await hashAll(ctx.source, toSequenceSet(unhashed), 'source')).map((h) => [h.uid, h]));
    pending = pending.map((p) =>
      p.sha256 ? p : { uid: p.uid, sha256: hashed.get(p.uid)?.sha256 ?? '', size: hashed.get(p.uid)?.size ?? p.size },
    );
    // A message expunged from the source since has no copy to find; what it left on the destination stays.
    pending = pending.filter((p) => p.sha256);
  }
  return pending;
}
