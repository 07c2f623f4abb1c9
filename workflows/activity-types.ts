import type { createBatchActivities } from '../activities/batch-activities';
import type { createMailboxCommandActivities } from '../activities/mailbox-commands';
import type { createReportActivities } from '../activities/batch-reports';
import type { createSyncMailboxActivities } from '../activities/sync-mailbox';
import type { createVerifyMailboxActivities } from '../activities/verify-mailbox';

export type { SyncMailboxInput, SyncMailboxResult } from '../activities/sync-mailbox';
export type { VerifyMailboxInput, VerifyMailboxResult } from '../activities/verify-mailbox';

/** The per-mailbox sync activity, as the workflow calls it. */
export type SyncActivities = Pick<ReturnType<typeof createSyncMailboxActivities>, 'syncMailbox'>;

export type BatchActivities = ReturnType<typeof createBatchActivities>;

export type MailboxCommandActivities = ReturnType<typeof createMailboxCommandActivities>;
/** The e-mailed reports (activities/batch-reports.ts). */
export type ReportActivities = ReturnType<typeof createReportActivities>;
/** The per-mailbox verification (activities/verify-mailbox.ts). */
export type VerifyActivities = ReturnType<typeof createVerifyMailboxActivities>;
