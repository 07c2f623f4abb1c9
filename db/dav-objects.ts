import type { DavTotals, ObjectRecord, SkippedObject } from '../dav/sync-store';
import type { Queryable } from './transaction';

/** A `dav_objects` row (0009_dav_sync.sql): one source object and what it became on the destination. */
interface DavObjectRow {
  source_href: string;
  source_etag: string | null;
  destination_href: string;
  destination_etag: string | null;
  item_kind: ObjectRecord['itemKind'];
  state: ObjectRecord['state'];
}

/** The object rows of one source collection, by source href. */
export async function selectDavObjects(
  db: Queryable,
  mailboxId: string,
  sourcePath: string,
): Promise<Map<string, ObjectRecord>> {
  const { rows } = await db.query<DavObjectRow>(
    `select source_href, source_etag, destination_href, destination_etag, item_kind, state
       from dav_objects where mailbox_id = $1::bigint and source_path = $2::text`,
    [mailboxId, sourcePath],
  );
  return new Map(
    rows.map((r) => [
      r.source_href,
      {
        sourceHref: r.source_href,
        sourceEtag: r.source_etag,
        destinationHref: r.destination_href,
        destinationEtag: r.destination_etag,
        itemKind: r.item_kind,
        state: r.state,
      },
    ]),
  );
}

/** Records a copied (or updated) object. */
export async function upsertDavObject(
  db: Queryable,
  mailboxId: string,
  sourcePath: string,
  r: Omit<ObjectRecord, 'state'>,
): Promise<void> {
  await db.query(
    `insert into dav_objects (mailbox_id, source_path, source_href, source_etag, destination_href, destination_etag,
                              item_kind, state)
     values ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, 'copied')
     on conflict (mailbox_id, source_path, source_href) do update
       set source_etag = excluded.source_etag, destination_href = excluded.destination_href,
           destination_etag = excluded.destination_etag, item_kind = excluded.item_kind, state = 'copied',
           updated_at = now()`,
    [mailboxId, sourcePath, r.sourceHref, r.sourceEtag, r.destinationHref, r.destinationEtag, r.itemKind],
  );
}

/**
 * Records a refused object in state 'skipped' and, unless this version of it was already skipped, a
 * `skipped_items` row for the mailbox's report (a bad item: the BadItemLimit counts it).
 */
export async function insertSkippedDavObject(
  db: Queryable,
  mailboxId: string,
  sourcePath: string,
  s: SkippedObject,
): Promise<void> {
  const changed = await db.query(
    `insert into dav_objects (mailbox_id, source_path, source_href, source_etag, destination_href, item_kind, state)
     values ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, 'skipped')
     on conflict (mailbox_id, source_path, source_href) do update
       set source_etag = excluded.source_etag, item_kind = excluded.item_kind, state = 'skipped', updated_at = now()
       where dav_objects.state <> 'skipped' or dav_objects.source_etag is distinct from excluded.source_etag`,
    [mailboxId, sourcePath, s.sourceHref, s.sourceEtag, s.destinationHref, s.itemKind],
  );
  if (!changed.rowCount) return;
  const itemKind = s.itemKind === 'contact' || s.itemKind === 'group' ? 'contact' : 'calendar';
  await db.query(
    `insert into skipped_items (mailbox_id, folder, subject, size_bytes, reason, kind, item_kind)
     values ($1::bigint, $2::text, $3::text, $4::bigint, $5::text, 'bad', $6::text)`,
    [mailboxId, s.collection, s.summary, s.size, s.reason, itemKind],
  );
}

/** Forgets objects deleted on the source. */
export async function deleteDavObjects(
  db: Queryable,
  mailboxId: string,
  sourcePath: string,
  sourceHrefs: string[],
): Promise<void> {
  await db.query(
    `delete from dav_objects
      where mailbox_id = $1::bigint and source_path = $2::text and source_href = any($3::text[])`,
    [mailboxId, sourcePath, sourceHrefs],
  );
}

/** Objects of a mailbox (all passes): copied events, tasks and journals; copied contacts and groups; refused. */
export async function selectDavTotals(db: Queryable, mailboxId: string): Promise<DavTotals> {
  const { rows } = await db.query<{ calendar: string; contacts: string; skipped: string }>(
    `select count(*) filter (where state = 'copied' and item_kind in ('event', 'task', 'journal')) as calendar,
            count(*) filter (where state = 'copied' and item_kind in ('contact', 'group')) as contacts,
            count(*) filter (where state = 'skipped') as skipped
       from dav_objects where mailbox_id = $1::bigint`,
    [mailboxId],
  );
  return {
    calendarItems: Number(rows[0]?.calendar ?? 0),
    contacts: Number(rows[0]?.contacts ?? 0),
    skipped: Number(rows[0]?.skipped ?? 0),
  };
}
