import type { Pool } from 'pg';
import type { DavSyncOptions } from '../../dav/mailbox-sync';
import { insertBatch, insertEndpoint, insertMailbox } from '../imap/helpers';

export { davSide } from '../fixtures/radicale';

/** Batch settings for calling the engine directly: every kind, no deletions, the product's default limit. */
export const DAV_DEFAULTS: DavSyncOptions = {
  skipCalendar: false,
  skipTasks: false,
  skipContacts: false,
  deleteOnDestination: false,
  badItemLimit: 10,
};

/** A mailbox row (with its batch and two endpoint rows) for the engine's checkpoints to belong to. */
export async function insertDavMailbox(pool: Pool, email: string): Promise<string> {
  const endpoint = (port: number) => insertEndpoint(pool, { host: '127.0.0.1', port });
  const batchId = await insertBatch(pool, await endpoint(1), await endpoint(2));
  return insertMailbox(pool, batchId, { email });
}
