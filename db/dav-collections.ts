import type { CollectionCheckpoint } from '../dav/sync-store';
import type { Queryable } from './transaction';

/** A `dav_collections` row (0009_dav_sync.sql): a source calendar or address book and its last complete pass. */
interface DavCollectionRow {
  source_path: string;
  kind: 'calendar' | 'addressbook';
  destination_url: string;
  display_name: string | null;
  /** The RFC 6578 token the last complete pass ended with. */
  sync_token: string | null;
  /** The ctag when the last complete pass began. */
  ctag: string | null;
  /** What the last complete pass copied (the skip settings then). */
  included: string | null;
  completed_at: Date | null;
}

/** Every collection checkpoint of a mailbox, by source path. */
export async function selectDavCollections(
  db: Queryable,
  mailboxId: string,
): Promise<Map<string, CollectionCheckpoint>> {
  const { rows } = await db.query<DavCollectionRow>(
    `select source_path, kind, destination_url, display_name, sync_token, ctag, included, completed_at
       from dav_collections where mailbox_id = $1::bigint`,
    [mailboxId],
  );
  return new Map(
    rows.map((r) => [
      r.source_path,
      {
        sourcePath: r.source_path,
        kind: r.kind,
        destinationUrl: r.destination_url,
        displayName: r.display_name,
        syncToken: r.sync_token,
        ctag: r.ctag,
        included: r.included,
        completedAt: r.completed_at,
      },
    ]),
  );
}

/** Records where a source collection is copied to; a known one keeps its token and ctag. */
export async function upsertDavCollection(
  db: Queryable,
  mailboxId: string,
  cp: Pick<CollectionCheckpoint, 'sourcePath' | 'kind' | 'destinationUrl' | 'displayName'>,
): Promise<void> {
  await db.query(
    `insert into dav_collections (mailbox_id, source_path, kind, destination_url, display_name)
     values ($1::bigint, $2::text, $3::text, $4::text, $5::text)
     on conflict (mailbox_id, source_path) do update
       set destination_url = excluded.destination_url, display_name = excluded.display_name, updated_at = now()`,
    [mailboxId, cp.sourcePath, cp.kind, cp.destinationUrl, cp.displayName],
  );
}

/** A complete pass of a collection: the sync token and ctag the next pass starts from, and what it copied. */
export async function completeDavCollection(
  db: Queryable,
  mailboxId: string,
  sourcePath: string,
  state: { syncToken: string | null; ctag: string | null; included: string },
): Promise<void> {
  await db.query(
    `update dav_collections set sync_token = $3::text, ctag = $4::text, included = $5::text, completed_at = now(),
            updated_at = now()
      where mailbox_id = $1::bigint and source_path = $2::text`,
    [mailboxId, sourcePath, state.syncToken, state.ctag, state.included],
  );
}
