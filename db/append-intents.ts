import type { AppendIntent } from '../imap/sync-store';
import type { Queryable } from './transaction';

/**
 * An `append_intents` row (0002_imap_sync.sql): one batch of APPENDs in flight, written before the MULTIAPPEND and
 * deleted in the statement that records it, so a crash in between leaves it for the next run to recover from.
 */
interface IntentRow {
  source_uidvalidity: string;
  destination_folder: string;
  destination_uidvalidity: string;
  /** The destination's UIDNEXT before the append: every copy of ours has a UID at or above it. */
  destination_uidnext: string;
  source_uids: string[];
  /** SHA-256 of each message, or '' where the batch was appended without hashing. */
  sha256s: string[];
  sizes: string[];
}

/** The append intents a crashed sync left for a folder (oldest batch first). */
export async function selectIntents(db: Queryable, mailboxId: string, sourceFolder: string): Promise<AppendIntent[]> {
  const { rows } = await db.query<IntentRow>(
    `select source_uidvalidity, destination_folder, destination_uidvalidity, destination_uidnext, source_uids, sha256s, sizes
       from append_intents where mailbox_id = $1::bigint and source_folder = $2::text order by first_source_uid`,
    [mailboxId, sourceFolder],
  );
  return rows.map((r) => ({
    sourceFolder,
    sourceUidvalidity: Number(r.source_uidvalidity),
    destinationFolder: r.destination_folder,
    destinationUidvalidity: Number(r.destination_uidvalidity),
    destinationUidnext: Number(r.destination_uidnext),
    sourceUids: r.source_uids.map(Number),
    sha256s: r.sha256s,
    sizes: r.sizes.map(Number),
  }));
}

/** Folders with an append in flight (a crashed sync). */
export async function selectIntentFolders(db: Queryable, mailboxId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ source_folder: string }>(
    'select source_folder from append_intents where mailbox_id = $1::bigint',
    [mailboxId],
  );
  return new Set(rows.map((r) => r.source_folder));
}

/** Writes the intent of one batch (keyed by its first source UID; a batch sent again replaces it). */
export async function upsertIntent(db: Queryable, mailboxId: string, intent: AppendIntent): Promise<void> {
  await db.query(
    `insert into append_intents (mailbox_id, source_folder, source_uidvalidity, destination_folder, destination_uidvalidity,
                                 destination_uidnext, source_uids, sha256s, sizes, first_source_uid)
     values ($1::bigint, $2::text, $3::bigint, $4::text, $5::bigint, $6::bigint, $7::bigint[], $8::text[], $9::bigint[],
             coalesce(($7::bigint[])[1], 0))
     on conflict (mailbox_id, source_folder, first_source_uid) do update
       set source_uidvalidity = excluded.source_uidvalidity, destination_folder = excluded.destination_folder,
           destination_uidvalidity = excluded.destination_uidvalidity, destination_uidnext = excluded.destination_uidnext,
           source_uids = excluded.source_uids, sha256s = excluded.sha256s, sizes = excluded.sizes, created_at = now()`,
    [
      mailboxId,
      intent.sourceFolder,
      intent.sourceUidvalidity,
      intent.destinationFolder,
      intent.destinationUidvalidity,
      intent.destinationUidnext,
      intent.sourceUids,
      intent.sha256s,
      intent.sizes,
    ],
  );
}

/** Drops every intent of a folder (all recovered, or made meaningless by a UIDVALIDITY change). */
export async function deleteFolderIntents(db: Queryable, mailboxId: string, sourceFolder: string): Promise<void> {
  await db.query('delete from append_intents where mailbox_id = $1::bigint and source_folder = $2::text', [
    mailboxId,
    sourceFolder,
  ]);
}

/** Drops the intent of one recorded batch (its first source UID). */
export async function deleteIntent(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  firstSourceUid: number,
): Promise<void> {
  await db.query(
    'delete from append_intents where mailbox_id = $1::bigint and source_folder = $2::text and first_source_uid = $3::bigint',
    [mailboxId, sourceFolder, firstSourceUid],
  );
}
