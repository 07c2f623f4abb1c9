import type { createBatchActivities } from '../activities/batch-activities';
import type { PassKind } from '../domain/batch-messages';

/** What the workflow needs from the per-mailbox sync activity (activities/sync-mailbox.ts implements it). */
export interface SyncMailboxInput {
  batchId: string;
  mailboxId: string;
  pass: PassKind;
}

export interface SyncMailboxResult {
  mailboxId: string;
  status: 'Synced' | 'Failed' | 'Completed';
  errorCode?: string;
  error?: string;
}

export interface SyncActivities {
  syncMailbox(input: SyncMailboxInput): Promise<SyncMailboxResult>;
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
