import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * Custom search attributes that let operators find batches in the Temporal Web UI
 * (`MailferryBatchName = "Finance wave 1"`, `MailferryStatus = "SyncedWithErrors"`). The start command registers
 * them on the dev server; docker-compose registers them on the production server. The time-skipping test server
 * has none, so the workflow upserts them only when its input says they exist.
 */
export const batchNameAttribute = defineSearchAttributeKey('MailferryBatchName', 'KEYWORD');
export const batchStatusAttribute = defineSearchAttributeKey('MailferryStatus', 'KEYWORD');
export const SEARCH_ATTRIBUTES = [batchNameAttribute, batchStatusAttribute];
