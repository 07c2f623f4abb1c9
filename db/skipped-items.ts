import type { FolderKey, SkippedRecord } from '../imap/sync-store';
import type { Queryable } from './transaction';

/**
 * Records a message left behind: a `message_map` row in state 'skipped' (so it is not tried again) and, the first
 * time only, a `skipped_items` row for the mailbox's report.
 */
export async function insertSkipped(
  db: Queryable,
  mailboxId: string,
  folder: FolderKey,
  s: SkippedRecord,
): Promise<void> {
  const inserted = await db.query(
    `insert into message_map (mailbox_id, source_folder, source_uidvalidity, source_uid, destination_folder, sha256, size_bytes, state)
     values ($1::bigint, $2::text, $3::bigint, $4::bigint, $5::text, $6::text, $7::bigint, 'skipped')
     on conflict do nothing`,
    [
      mailboxId,
      folder.sourceFolder,
      folder.sourceUidvalidity,
      s.sourceUid,
      folder.destinationFolder,
      s.sha256 || null,
      s.size,
    ],
  );
  if (!inserted.rowCount) return;
  await db.query(
    `insert into skipped_items (mailbox_id, folder, source_uid, internal_date, subject, size_bytes, reason, kind)
     values ($1::bigint, $2::text, $3::bigint, $4::timestamptz, $5::text, $6::bigint, $7::text, $8::text)`,
    [mailboxId, folder.sourceFolder, s.sourceUid, s.internalDate, s.subject, s.size, s.reason, s.kind],
  );
}

/** Skipped items of a mailbox so far (all passes), by kind: checked against the batch's limits. */
export async function selectSkippedCounts(db: Queryable, mailboxId: string): Promise<{ bad: number; large: number }> {
  const { rows } = await db.query<{ bad: string; large: string }>(
    `select count(*) filter (where kind = 'bad') as bad, count(*) filter (where kind = 'large') as large
       from skipped_items where mailbox_id = $1::bigint`,
    [mailboxId],
  );
  return { bad: Number(rows[0]?.bad ?? 0), large: Number(rows[0]?.large ?? 0) };
}
