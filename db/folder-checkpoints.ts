import type { CheckpointReset, FolderCheckpoint, FolderCompletion } from '../imap/sync-store';
import type { Queryable } from './transaction';

/** A `folder_checkpoints` row (0001_init.sql, 0002_imap_sync.sql): where one source folder's sync got to. */
interface CheckpointRow {
  source_folder: string;
  destination_folder: string;
  uidvalidity: string;
  /** Highest source UID handled; every UID at or below it is in `message_map` (or gone from the source). */
  last_uid: string;
  /** The source's HIGHESTMODSEQ when the folder was last completed (numeric: up to 2^63). */
  highest_modseq: string | null;
  destination_uidvalidity: string | null;
  /** The source's UIDNEXT and MESSAGES when the folder was last completed: with the modseq, "unchanged". */
  source_uidnext: string | null;
  source_messages: string | null;
  completed_at: Date | null;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/** Every folder checkpoint of a mailbox, by source folder. */
export async function selectCheckpoints(db: Queryable, mailboxId: string): Promise<Map<string, FolderCheckpoint>> {
  const { rows } = await db.query<CheckpointRow>(
    `select source_folder, destination_folder, uidvalidity, last_uid, highest_modseq, destination_uidvalidity,
            source_uidnext, source_messages, completed_at
       from folder_checkpoints where mailbox_id = $1::bigint`,
    [mailboxId],
  );
  return new Map(
    rows.map((r) => [
      r.source_folder,
      {
        sourceFolder: r.source_folder,
        destinationFolder: r.destination_folder,
        uidvalidity: Number(r.uidvalidity),
        lastUid: Number(r.last_uid),
        highestModseq: r.highest_modseq === null ? null : BigInt(r.highest_modseq),
        destinationUidvalidity: num(r.destination_uidvalidity),
        sourceUidnext: num(r.source_uidnext),
        sourceMessages: num(r.source_messages),
        completedAt: r.completed_at,
      },
    ]),
  );
}

/** Creates or resets a folder's checkpoint (new folder, or UIDVALIDITY changed on either side). */
export async function resetCheckpoint(db: Queryable, mailboxId: string, cp: CheckpointReset): Promise<void> {
  await db.query(
    `insert into folder_checkpoints (mailbox_id, source_folder, destination_folder, uidvalidity, last_uid, highest_modseq,
                                     destination_uidvalidity, subscribed, special_use, updated_at)
     values ($1::bigint, $2::text, $3::text, $4::bigint, 0, null, $5::bigint, $6::boolean, $7::text, now())
     on conflict (mailbox_id, source_folder) do update
       set destination_folder = excluded.destination_folder, uidvalidity = excluded.uidvalidity, last_uid = 0,
           highest_modseq = null, destination_uidvalidity = excluded.destination_uidvalidity,
           source_uidnext = null, source_messages = null, subscribed = excluded.subscribed,
           special_use = excluded.special_use, completed_at = null, updated_at = now()`,
    [
      mailboxId,
      cp.sourceFolder,
      cp.destinationFolder,
      cp.uidvalidity,
      cp.destinationUidvalidity,
      cp.subscribed,
      cp.specialUse,
    ],
  );
}

/** Marks a folder done for this pass: what the source looked like when it was read. */
export async function completeCheckpoint(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  state: FolderCompletion,
): Promise<void> {
  await db.query(
    `update folder_checkpoints
        set highest_modseq = $3::numeric, source_uidnext = $4::bigint, source_messages = $5::bigint,
            last_uid = greatest(last_uid, $6::bigint), completed_at = now(), updated_at = now()
      where mailbox_id = $1::bigint and source_folder = $2::text`,
    [
      mailboxId,
      sourceFolder,
      state.highestModseq === null ? null : state.highestModseq.toString(),
      state.sourceUidnext,
      state.sourceMessages,
      state.lastUid,
    ],
  );
}

/** Moves a folder's `last_uid` forward to `lastUid` (never back). */
export async function advanceLastUid(
  db: Queryable,
  mailboxId: string,
  sourceFolder: string,
  lastUid: number,
): Promise<void> {
  await db.query(
    `update folder_checkpoints set last_uid = greatest(last_uid, $3::bigint), updated_at = now()
      where mailbox_id = $1::bigint and source_folder = $2::text`,
    [mailboxId, sourceFolder, lastUid],
  );
}
