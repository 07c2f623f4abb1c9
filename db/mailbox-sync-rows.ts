import type { BatchRow } from './batches';
import type { EndpointRow } from './endpoints';
import type { Queryable } from './transaction';

/**
 * The rows a mailbox sync reads and writes: what to sync (the mailbox with its batch's settings), the endpoints,
 * and the mailbox's row in the read model as the sync moves it through Syncing to Synced, Completed or Failed.
 */

/** A mailbox with its sync settings (its own overrides, else its batch's). Secrets are sealed (secrets/secret-box.ts). */
export type SyncTargetRow = {
  id: string;
  batch_id: string;
  /** The batch's name, for the sync's log lines. */
  batch_name: string;
  email: string;
  source_user: string;
  source_secret: Buffer | null;
  destination_user: string | null;
  destination_secret: Buffer | null;
} & Pick<
  BatchRow,
  | 'source_endpoint_id'
  | 'destination_endpoint_id'
  | 'bad_item_limit'
  | 'large_item_limit'
  | 'large_item_max_bytes'
  | 'folder_include'
  | 'folder_exclude'
  | 'delete_on_destination'
  | 'skip_calendar'
  | 'skip_contacts'
  | 'skip_tasks'
>;

export async function loadSyncTarget(db: Queryable, mailboxId: string, batchId: string): Promise<SyncTargetRow | null> {
  const { rows } = await db.query<SyncTargetRow>(
    `select m.id, m.batch_id, b.name as batch_name, m.email, m.source_user, m.source_secret, m.destination_user,
            m.destination_secret,
            b.source_endpoint_id, b.destination_endpoint_id, b.large_item_max_bytes, b.delete_on_destination,
            -- the mailbox's own settings win over the batch's (Set-MigrationUser)
            coalesce(m.bad_item_limit, b.bad_item_limit) as bad_item_limit,
            coalesce(m.large_item_limit, b.large_item_limit) as large_item_limit,
            coalesce(m.folder_include, b.folder_include) as folder_include,
            coalesce(m.folder_exclude, b.folder_exclude) as folder_exclude,
            coalesce(m.skip_calendar, b.skip_calendar) as skip_calendar,
            coalesce(m.skip_contacts, b.skip_contacts) as skip_contacts,
            coalesce(m.skip_tasks, b.skip_tasks) as skip_tasks
       from mailboxes m join batches b on b.id = m.batch_id
      where m.id = $1 and m.batch_id = $2`,
    [mailboxId, batchId],
  );
  return rows[0] ?? null;
}

/** How to reach an endpoint's server, with its sealed admin secret. */
export type SyncEndpointRow = Pick<
  EndpointRow,
  | 'id'
  | 'name'
  | 'host'
  | 'port'
  | 'security'
  | 'accept_untrusted_certs'
  | 'auth_method'
  | 'provider'
  | 'admin_user'
  | 'admin_secret'
  | 'caldav_url'
  | 'carddav_url'
  | 'oauth_tenant_id'
  | 'oauth_client_id'
  | 'oauth_authority'
>;

export async function loadSyncEndpoint(db: Queryable, id: string): Promise<SyncEndpointRow | null> {
  const { rows } = await db.query<SyncEndpointRow>(
    `select id, name, host, port, security, accept_untrusted_certs, auth_method, provider, admin_user, admin_secret,
            caldav_url, carddav_url, oauth_tenant_id, oauth_client_id, oauth_authority
       from endpoints where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function markMailboxFailed(
  db: Queryable,
  mailboxId: string,
  code: string,
  message: string,
): Promise<void> {
  await db.query(
    `update mailboxes set status = 'Failed', last_error = $2, last_error_code = $3, current_folder = null,
            items_per_second = null, updated_at = now()
      where id = $1`,
    [mailboxId, message, code],
  );
}

export async function markMailboxSyncing(db: Queryable, mailboxId: string): Promise<void> {
  await db.query(
    `update mailboxes set status = 'Syncing', started_at = coalesce(started_at, now()), updated_at = now() where id = $1`,
    [mailboxId],
  );
}

/**
 * Where a sync stands, over the whole mailbox (all passes) for the item and byte counts. Items are of every kind
 * (mail, calendar items, contacts); of them, `calendarItemsSynced` and `contactsSynced` are the DAV ones.
 */
export interface SyncProgressRecord {
  foldersTotal: number;
  foldersSynced: number;
  itemsTotal: number;
  itemsSynced: number;
  calendarItemsSynced: number;
  contactsSynced: number;
  itemsSkipped: number;
  bytesSynced: number;
  currentFolder: string | null;
  itemsPerSecond: number | null;
}

/** Progress of a running sync; only while the row still says Syncing (a Stop may have moved it on). */
export async function writeSyncProgress(db: Queryable, mailboxId: string, p: SyncProgressRecord): Promise<void> {
  await db.query(
    `update mailboxes set status = 'Syncing', folders_total = $2, folders_synced = $3, items_total = greatest($4::bigint, $5::bigint),
            items_synced = $5::bigint, items_skipped = $6::bigint, bytes_synced = $7::bigint, current_folder = $8, items_per_second = $9::real,
            calendar_items_synced = $10::bigint, contacts_synced = $11::bigint, updated_at = now()
      where id = $1 and status = 'Syncing'`,
    [
      mailboxId,
      p.foldersTotal,
      p.foldersSynced,
      p.itemsTotal,
      p.itemsSynced,
      p.itemsSkipped,
      p.bytesSynced,
      p.currentFolder,
      p.itemsPerSecond,
      p.calendarItemsSynced,
      p.contactsSynced,
    ],
  );
}

/** A finished pass: Synced, or Completed after the final one; the first also sets the initial-sync statistics. */
export async function writeSyncFinished(
  db: Queryable,
  mailboxId: string,
  p: Omit<SyncProgressRecord, 'foldersSynced' | 'currentFolder'> & { final: boolean },
): Promise<void> {
  await db.query(
    `update mailboxes
        set status = $2, folders_total = $3, folders_synced = $3, items_total = greatest($4::bigint, $5::bigint), items_synced = $5,
            items_skipped = $6::bigint, bytes_synced = $7::bigint, current_folder = null, items_per_second = $8::real,
            calendar_items_synced = $10::bigint, contacts_synced = $11::bigint, last_synced_at = now(), initial_sync_at = coalesce(initial_sync_at, now()),
            initial_sync_duration_ms = coalesce(initial_sync_duration_ms,
              (extract(epoch from (now() - coalesce(started_at, now()))) * 1000)::bigint),
            finalized_at = case when $9::boolean then now() else finalized_at end,
            last_error = null, last_error_code = null, updated_at = now()
      where id = $1`,
    [
      mailboxId,
      p.final ? 'Completed' : 'Synced',
      p.foldersTotal,
      p.itemsTotal,
      p.itemsSynced,
      p.itemsSkipped,
      p.bytesSynced,
      p.itemsPerSecond,
      p.final,
      p.calendarItemsSynced,
      p.contactsSynced,
    ],
  );
}

/** The reason of a failed attempt that Temporal will retry; the status stays. */
export async function recordSyncError(db: Queryable, mailboxId: string, code: string, message: string): Promise<void> {
  await db.query('update mailboxes set last_error = $2, last_error_code = $3, updated_at = now() where id = $1', [
    mailboxId,
    message,
    code,
  ]);
}

/** Clears the mailbox's error if it is still `code` (a wait that ended: the sync goes on). */
export async function clearSyncError(db: Queryable, mailboxId: string, code: string): Promise<void> {
  await db.query(
    'update mailboxes set last_error = null, last_error_code = null, updated_at = now() where id = $1 and last_error_code = $2',
    [mailboxId, code],
  );
}
