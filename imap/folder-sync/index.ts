import type { ImapFlow, MailboxObject } from 'imapflow';
import { classifyImapError, ImapSyncError } from '../errors';
import type { FolderPlan } from '../folders';
import type { AppendIntent, FolderCheckpoint, SyncStore } from '../sync-store';
import {
  checkCancelled,
  failedCommand,
  type FolderContext,
  type FolderSyncOptions,
  type FolderSyncResult,
  type SourceState,
} from './context';
import { copyNewMessages } from './copy';
import { deleteRemoved } from './deletions';
import { syncFlags } from './flags';
import { recoverIntents, resumeOrReset } from './recover';

export type { FolderSyncOptions, FolderSyncResult, ItemLimits, SyncTraceEvent } from './context';
export { toSequenceSet } from './context';

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
 * Syncs one folder: copies the source messages not yet on the destination (exactly once, resumable), updates
 * flags changed since the last pass (CONDSTORE), and deletes on the destination what the source deleted when
 * asked. `source` and `destination` are logged-in connections that this function selects folders on.
 *
 * The phases, in order, over one {@link FolderContext}: resume or reset the checkpoint (`recover.ts`), recover
 * from append intents a crashed sync left (`recover.ts`), copy new messages (`copy.ts`), flag changes
 * (`flags.ts`), deletions (`deletions.ts`), then the checkpoint is completed.
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
  // Both folders are selected at once (one round trip, not two), the append intents read meanwhile.
  const [srcLocked, dstLocked, pending] = await Promise.allSettled([
    source.getMailboxLock(srcPath, { readOnly: true }),
    destination.getMailboxLock(dstPath),
    store.intents(srcPath),
  ]);
  const srcLock = srcLocked.status === 'fulfilled' ? srcLocked.value : undefined;
  const dstLock = dstLocked.status === 'fulfilled' ? dstLocked.value : undefined;
  try {
    if (srcLocked.status === 'rejected') {
      const e = classifyImapError(srcLocked.reason, 'source');
      // Deleted on the source between LIST and SELECT: nothing to copy, and no reason to fail the mailbox.
      if (e.code === 'MAILBOX_NOT_FOUND') return { ...result, unchanged: true };
      throw e;
    }
    if (dstLocked.status === 'rejected') throw classifyImapError(dstLocked.reason, 'destination');
    if (pending.status === 'rejected') throw pending.reason;
    const intents = pending.value;
    const state = selectedState(source, srcPath);
    if (!intents.length && folderUnchanged(checkpoint, state)) {
      result.unchanged = true;
      return result;
    }
    const dmb = selectedDestination(destination, dstPath);
    const dstUidvalidity = Number(dmb.uidValidity);
    const ctx: FolderContext = {
      source,
      destination,
      store,
      plan,
      checkpoint,
      options,
      srcPath,
      dstPath,
      state,
      dstUidvalidity,
      dstMailbox: dmb,
      dstUidNext: dmb.uidNext,
      folderKey: {
        sourceFolder: srcPath,
        sourceUidvalidity: state.uidvalidity,
        destinationFolder: dstPath,
        destinationUidvalidity: dstUidvalidity,
      },
      result,
    };
    await runPhases(ctx, intents);
    return result;
  } finally {
    dstLock?.release();
    srcLock?.release();
  }
}

function selectedState(source: ImapFlow, srcPath: string): SourceState {
  const smb = source.mailbox;
  if (!smb)
    throw new ImapSyncError('SERVER_ERROR', `source folder "${srcPath}" could not be selected`, { side: 'source' });
  return {
    uidvalidity: Number(smb.uidValidity),
    uidNext: smb.uidNext,
    exists: smb.exists,
    highestModseq: smb.highestModseq ?? null,
  };
}

function selectedDestination(destination: ImapFlow, dstPath: string): MailboxObject {
  const dmb = destination.mailbox;
  if (!dmb)
    throw new ImapSyncError('SERVER_ERROR', `destination folder "${dstPath}" could not be selected`, {
      side: 'destination',
    });
  return dmb;
}

/** The phases of a folder whose source and destination are selected. */
async function runPhases(ctx: FolderContext, intents: AppendIntent[]): Promise<void> {
  const { options, result, state, source, destination } = ctx;
  const { incremental, lastUid } = await resumeOrReset(ctx);
  // After a reconciliation by content the intents are gone with the map they referred to.
  if (intents.length && !result.reconciled) await recoverIntents(ctx, intents);

  const newUids = await copyNewMessages(ctx, lastUid);

  // Flags changed on the source since the last pass (only for messages copied in earlier passes).
  if (incremental && lastUid > 0) {
    checkCancelled(options.signal);
    result.flagsUpdated = await syncFlags(ctx, lastUid);
  } else if (result.reconciled && state.exists) {
    // Messages matched by content after a UIDVALIDITY change may carry other flags than on the source.
    checkCancelled(options.signal);
    result.flagsUpdated = await syncFlags(ctx, state.uidNext - 1, true);
  }
  if (incremental && options.deleteOnDestination) {
    checkCancelled(options.signal);
    result.deleted = await deleteRemoved(ctx);
  }
  // Never mark a folder done on the word of a connection that has gone away meanwhile.
  if (!source.usable) throw failedCommand(source, 'source', 'the folder sync');
  if (!destination.usable) throw failedCommand(destination, 'destination', 'the folder sync');
  await ctx.store.completeFolder(ctx.srcPath, {
    highestModseq: state.highestModseq,
    sourceUidnext: state.uidNext,
    sourceMessages: state.exists,
    lastUid: newUids.length ? Math.max(lastUid, newUids[newUids.length - 1] ?? 0) : lastUid,
  });
}
