import type { Pool } from 'pg';
import type { SyncStore } from '../imap/sync-store';
import { deleteFolderIntents, deleteIntent, selectIntentFolders, selectIntents, upsertIntent } from './append-intents';
import { advanceLastUid, completeCheckpoint, resetCheckpoint, selectCheckpoints } from './folder-checkpoints';
import {
  deleteFolderMap,
  deleteMapped,
  insertCopied,
  recordCopiedBatch,
  selectCopiedElsewhere,
  selectMapTotals,
  selectMappedAbove,
  selectMappedDestinationUids,
  selectMappedUids,
} from './message-map';
import { insertSkipped, selectSkippedCounts } from './skipped-items';
import { withTransaction } from './transaction';

/**
 * The IMAP engine's {@link SyncStore} for one mailbox, on PostgreSQL: each method one statement on the pool, or
 * one short transaction where a step writes several tables row by row (skipped items, a reconciled map).
 */
export function createSyncStore(pool: Pool, mailboxId: string): SyncStore {
  const store: SyncStore = {
    checkpoints: () => selectCheckpoints(pool, mailboxId),
    resetCheckpoint: (cp) => resetCheckpoint(pool, mailboxId, cp),
    completeFolder: (sourceFolder, state) => completeCheckpoint(pool, mailboxId, sourceFolder, state),
    mapped: (sourceFolder, uidvalidity, aboveUid = 0) =>
      selectMappedAbove(pool, mailboxId, sourceFolder, uidvalidity, aboveUid),
    mappedUids: (sourceFolder, uidvalidity, uids) => selectMappedUids(pool, mailboxId, sourceFolder, uidvalidity, uids),
    mappedDestinationUids: (sourceFolder, destinationUidvalidity, fromUid) =>
      selectMappedDestinationUids(pool, mailboxId, sourceFolder, destinationUidvalidity, fromUid),
    intents: (sourceFolder) => selectIntents(pool, mailboxId, sourceFolder),
    intentFolders: () => selectIntentFolders(pool, mailboxId),
    writeIntent: (intent) => upsertIntent(pool, mailboxId, intent),
    dropIntents: (sourceFolder) => deleteFolderIntents(pool, mailboxId, sourceFolder),
    async record(folder, copied, skipped, lastUid, intentUid = null) {
      // The common case in one statement (one round trip, atomic like a transaction).
      if (!skipped.length) return recordCopiedBatch(pool, mailboxId, folder, copied, lastUid, intentUid);
      await withTransaction(pool, async (c) => {
        if (copied.length) await insertCopied(c, mailboxId, folder, copied);
        for (const s of skipped) await insertSkipped(c, mailboxId, folder, s);
        if (lastUid !== null) await advanceLastUid(c, mailboxId, folder.sourceFolder, lastUid);
        if (intentUid !== null) await deleteIntent(c, mailboxId, folder.sourceFolder, intentUid);
      });
    },
    async replaceMap(folder, copied) {
      await withTransaction(pool, async (c) => {
        await deleteFolderMap(c, mailboxId, folder.sourceFolder);
        await deleteFolderIntents(c, mailboxId, folder.sourceFolder);
      });
      await store.record(folder, copied, [], null);
    },
    forget: (sourceFolder, uidvalidity, sourceUids) =>
      deleteMapped(pool, mailboxId, sourceFolder, uidvalidity, sourceUids),
    async copiedElsewhere(sourceFolder, sha256s) {
      if (!sha256s.length) return new Set();
      return selectCopiedElsewhere(pool, mailboxId, sourceFolder, sha256s);
    },
    skippedCounts: () => selectSkippedCounts(pool, mailboxId),
    totals: () => selectMapTotals(pool, mailboxId),
  };
  return store;
}
