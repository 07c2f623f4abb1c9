import type { CopiedRecord, FolderKey, MappedMessage } from '../imap/sync-store';
import type { NotCopied } from '../imap/verify';
import type { Queryable } from './transaction';

/**
 * A `message_map` row (0002_imap_sync.sql): one source message (folder, UIDVALIDITY, UID) and what became of it.
 * The truth of exactly once: a message is appended only when it has no row here.
 */
interface MapRow {
  source_uid: string;
  /** Null for a skipped or linked message, or a copy made without UIDPLUS. */
  destination_uid: string | null;
  /** SHA-256 of the message (hex), where it was hashed. */
  sha256: string | null;
  /** 'linked': not appended, the same bytes were copied from another folder (Gmail's All Mail). */
  state: MappedMessage['state'];
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

const byUid = (rows: MapRow[]): Map<number, MappedMessage> =>
  new Map(
    rows.map((r) => [
      Number(r.source_uid),
      { sourceUid: Number(r.source_uid), destinationUid: num(r.destination_uid), sha256: r.sha256, state: r.state },
    ]),
  );

/** A folder's map rows of one source UIDVALIDITY ($1 mailbox, $2 folder, $3 UIDVALIDITY); a condition follows. */
const SELECT_FOLDER_ROWS = `select source_uid, destination_uid, sha256, state from message_map
      where mailbox_id = $1::bigint and source_folder = $2::text and source_uidvalidity = $3::bigint`;

/** Messages of a folder already handled with UID above `aboveUid` (all of them with 0). */
export async function selectMappedAbove(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  uidvalidity: number,
  aboveUid: number,
): Promise<Map<number, MappedMessage>> {
  const { rows } = await db.query<MapRow>(`${SELECT_FOLDER_ROWS} and source_uid > $4::bigint`, [
    mailboxId,
    sourceFolder,
    uidvalidity,
    aboveUid,
  ]);
  return byUid(rows);
}

/** The map entries of these source UIDs. */
export async function selectMappedUids(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  uidvalidity: number,
  uids: number[],
): Promise<Map<number, MappedMessage>> {
  const { rows } = await db.query<MapRow>(`${SELECT_FOLDER_ROWS} and source_uid = any($4::bigint[])`, [
    mailboxId,
    sourceFolder,
    uidvalidity,
    uids,
  ]);
  return byUid(rows);
}

/** Destination UIDs from `fromUid` on already recorded for a folder (not candidates when a crash is recovered). */
export async function selectMappedDestinationUids(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  destinationUidvalidity: number,
  fromUid: number,
): Promise<Set<number>> {
  const { rows } = await db.query<{ destination_uid: string }>(
    `select destination_uid from message_map
      where mailbox_id = $1::bigint and source_folder = $2::text and destination_uidvalidity = $3::bigint
        and destination_uid >= $4::bigint`,
    [mailboxId, sourceFolder, destinationUidvalidity, fromUid],
  );
  return new Set(rows.map((r) => Number(r.destination_uid)));
}

/**
 * Inserts (or overwrites) the map rows of copied or linked messages: $1 mailbox, $2..$5 the folder key, $6..$10 the
 * copied messages' columns as arrays (see {@link insertCopiedParams}).
 */
const INSERT_COPIED = `insert into message_map (mailbox_id, source_folder, source_uidvalidity, source_uid, destination_folder,
                              destination_uidvalidity, destination_uid, sha256, size_bytes, state)
     select $1::bigint, $2::text, $3::bigint, u.source_uid, $4::text, $5::bigint, u.destination_uid, nullif(u.sha256, ''),
            u.size_bytes, u.state
       from unnest($6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::text[])
            as u(source_uid, destination_uid, sha256, size_bytes, state)
     on conflict (mailbox_id, source_folder, source_uidvalidity, source_uid) do update
       set destination_uid = excluded.destination_uid, destination_uidvalidity = excluded.destination_uidvalidity,
           destination_folder = excluded.destination_folder, sha256 = excluded.sha256, state = excluded.state`;

/** The parameters of {@link INSERT_COPIED}. */
const insertCopiedParams = (mailboxId: string, folder: FolderKey, copied: CopiedRecord[]) => [
  mailboxId,
  folder.sourceFolder,
  folder.sourceUidvalidity,
  folder.destinationFolder,
  folder.destinationUidvalidity,
  copied.map((m) => m.sourceUid),
  copied.map((m) => m.destinationUid),
  copied.map((m) => m.sha256),
  copied.map((m) => m.size),
  copied.map((m) => m.state ?? 'copied'),
];

/** Inserts (or overwrites) the map rows of copied or linked messages. */
export async function insertCopied(
  db: Queryable,
  mailboxId: string,
  folder: FolderKey,
  copied: CopiedRecord[],
): Promise<void> {
  await db.query(INSERT_COPIED, insertCopiedParams(mailboxId, folder, copied));
}

/**
 * The common case of recording a batch, in one statement (one round trip, atomic like a transaction): inserts the
 * map rows, advances the checkpoint's `last_uid` (unless null) and drops the batch's intent (unless null).
 */
export async function recordCopiedBatch(
  db: Queryable,
  mailboxId: string,
  folder: FolderKey,
  copied: CopiedRecord[],
  lastUid: number | null,
  intentUid: number | null,
): Promise<void> {
  await db.query(
    `with ins as (${INSERT_COPIED} returning 1),
     cp as (
       update folder_checkpoints set last_uid = greatest(last_uid, $11::bigint), updated_at = now()
        where mailbox_id = $1::bigint and source_folder = $2::text and $11::bigint is not null
       returning 1),
     del as (
       delete from append_intents
        where mailbox_id = $1::bigint and source_folder = $2::text and first_source_uid = $12::bigint
       returning 1)
     select (select count(*) from ins) as copied`,
    [...insertCopiedParams(mailboxId, folder, copied), lastUid, intentUid],
  );
}

/** Deletes these source UIDs from a folder's map (deleted on the source, and on the destination). */
export async function deleteMapped(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  uidvalidity: number,
  sourceUids: number[],
): Promise<void> {
  await db.query(
    `delete from message_map
      where mailbox_id = $1::bigint and source_folder = $2::text and source_uidvalidity = $3::bigint
        and source_uid = any($4::bigint[])`,
    [mailboxId, sourceFolder, uidvalidity, sourceUids],
  );
}

/** Deletes a folder's whole map, every UIDVALIDITY (before it is matched again by content). */
export async function deleteFolderMap(db: Queryable, mailboxId: string, sourceFolder: string): Promise<void> {
  await db.query('delete from message_map where mailbox_id = $1::bigint and source_folder = $2::text', [
    mailboxId,
    sourceFolder,
  ]);
}

/** Which of these contents were already copied into another folder of this mailbox (Gmail's labels). */
export async function selectCopiedElsewhere(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  sha256s: string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ sha256: string }>(
    `select distinct sha256 from message_map
      where mailbox_id = $1::bigint and sha256 = any($2::text[]) and source_folder <> $3::text and state = 'copied'`,
    [mailboxId, sha256s, sourceFolder],
  );
  return new Set(rows.map((r) => r.sha256));
}

/** Copied messages and their bytes, and skipped messages, over the whole mailbox (all passes). */
export async function selectMapTotals(
  db: Queryable,
  mailboxId: string,
): Promise<{ copied: number; bytes: number; skipped: number }> {
  const { rows } = await db.query<{ copied: string; bytes: string; skipped: string }>(
    `select count(*) filter (where state = 'copied') as copied,
            coalesce(sum(size_bytes) filter (where state = 'copied'), 0) as bytes,
            count(*) filter (where state = 'skipped') as skipped
       from message_map where mailbox_id = $1::bigint`,
    [mailboxId],
  );
  return {
    copied: Number(rows[0]?.copied ?? 0),
    bytes: Number(rows[0]?.bytes ?? 0),
    skipped: Number(rows[0]?.skipped ?? 0),
  };
}

/**
 * The source messages of a mailbox the sync did not copy on purpose: skipped (with the kind and reason of their
 * `skipped_items` row) or linked (copied from another folder).
 */
export async function selectNotCopied(db: Queryable, mailboxId: string): Promise<NotCopied[]> {
  const { rows } = await db.query<{
    source_folder: string;
    source_uidvalidity: string;
    source_uid: string;
    state: 'skipped' | 'linked';
    kind: 'bad' | 'large' | null;
    reason: string | null;
  }>(
    `select m.source_folder, m.source_uidvalidity, m.source_uid, m.state, s.kind, s.reason
       from message_map m
       left join lateral (
         select kind, reason from skipped_items s
          where s.mailbox_id = m.mailbox_id and s.folder = m.source_folder and s.source_uid = m.source_uid
          order by s.id desc limit 1
       ) s on true
      where m.mailbox_id = $1::bigint and m.state in ('skipped', 'linked')`,
    [mailboxId],
  );
  return rows.map((r) => ({
    sourceFolder: r.source_folder,
    uidvalidity: Number(r.source_uidvalidity),
    uid: Number(r.source_uid),
    reason: r.state === 'linked' ? 'linked' : (r.kind ?? 'bad'),
    detail: r.reason,
  }));
}
