import type { Pool } from 'pg';
import type { DavSyncStore } from '../dav/sync-store';
import { completeDavCollection, selectDavCollections, upsertDavCollection } from './dav-collections';
import {
  deleteDavObjects,
  insertSkippedDavObject,
  selectDavObjects,
  selectDavTotals,
  upsertDavObject,
} from './dav-objects';
import { selectSkippedCounts } from './skipped-items';
import { withTransaction } from './transaction';

/** The calendar and contact engine's {@link DavSyncStore} for one mailbox, on PostgreSQL. */
export function createDavSyncStore(pool: Pool, mailboxId: string): DavSyncStore {
  return {
    collections: () => selectDavCollections(pool, mailboxId),
    saveCollection: (cp) => upsertDavCollection(pool, mailboxId, cp),
    completeCollection: (sourcePath, state) => completeDavCollection(pool, mailboxId, sourcePath, state),
    objects: (sourcePath) => selectDavObjects(pool, mailboxId, sourcePath),
    recordCopied: (sourcePath, record) => upsertDavObject(pool, mailboxId, sourcePath, record),
    recordSkipped: (sourcePath, skipped) =>
      withTransaction(pool, (c) => insertSkippedDavObject(c, mailboxId, sourcePath, skipped)),
    forget: (sourcePath, hrefs) => deleteDavObjects(pool, mailboxId, sourcePath, hrefs),
    badItems: async () => (await selectSkippedCounts(pool, mailboxId)).bad,
    totals: () => selectDavTotals(pool, mailboxId),
  };
}
