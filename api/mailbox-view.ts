import type { MailboxReportRow, MailboxUserRow, SkippedItemRow } from '../db/mailbox-report';
import { consistencyOf } from '../db/verifications';
import type { BatchStatus, MailboxStatus } from '../domain/batch-status';
import { allowedMailboxCommands } from '../domain/mailbox-commands';

/** The API's views of mailbox rows: the users report, a migration user, a skipped item. */

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (v: string | null) => (v === null ? null : Number(v));

export function mailboxView(r: MailboxReportRow) {
  return {
    id: r.id,
    emailAddress: r.email,
    userName: r.source_user,
    destinationUserName: r.destination_user,
    status: r.status,
    foldersTotal: r.folders_total,
    foldersSynced: r.folders_synced,
    itemsTotal: Number(r.items_total),
    itemsSynced: Number(r.items_synced),
    mailItemsSynced: Number(r.mail_items_synced),
    calendarItemsSynced: Number(r.calendar_items_synced),
    contactsSynced: Number(r.contacts_synced),
    itemsSkipped: Number(r.items_skipped),
    bytesSynced: Number(r.bytes_synced),
    currentFolder: r.current_folder,
    itemsPerSecond: r.items_per_second,
    startedAt: iso(r.started_at),
    initialSyncAt: iso(r.initial_sync_at),
    initialSyncDurationMs: num(r.initial_sync_duration_ms),
    lastSyncedAt: iso(r.last_synced_at),
    finalizedAt: iso(r.finalized_at),
    lastError: r.last_error,
    lastErrorCode: r.last_error_code,
    updatedAt: r.updated_at.toISOString(),
    consistency: r.verification && consistencyOf(r.verification),
  };
}

/** A migration user, with the commands its status and its batch's allow now. */
export function userView(r: MailboxUserRow, batchStatus: BatchStatus = r.batch_status as BatchStatus) {
  return {
    ...mailboxView(r),
    batch: { id: r.batch_id, name: r.batch_name, status: batchStatus },
    overrides: {
      startAfter: iso(r.start_after),
      badItemLimit: r.bad_item_limit,
      largeItemLimit: r.large_item_limit,
      folderInclude: r.folder_include,
      folderExclude: r.folder_exclude,
      skipCalendar: r.skip_calendar,
      skipContacts: r.skip_contacts,
      skipTasks: r.skip_tasks,
    },
    allowedCommands: allowedMailboxCommands(batchStatus, r.status as MailboxStatus),
  };
}

export function skippedItemView(r: SkippedItemRow) {
  return {
    id: r.id,
    folder: r.folder,
    sourceUid: num(r.source_uid),
    internalDate: iso(r.internal_date),
    subject: r.subject,
    sizeBytes: num(r.size_bytes),
    reason: r.reason,
    itemKind: r.item_kind,
    createdAt: r.created_at.toISOString(),
  };
}
