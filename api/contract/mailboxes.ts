import { z } from 'zod';

/**
 * The mailbox side of the API's contract: the migration users report, skipped items, progress samples and the
 * statistics, as the routes answer them and the dashboard reads them, and the JSON form of a mailbox list.
 */

/** The JSON form: `[{ emailAddress, userName, password, destinationUserName?, destinationPassword? }]`. */
export const mailboxJson = z
  .object({
    emailAddress: z.string().max(1000),
    userName: z.string().max(1000),
    password: z.string().max(5000),
    destinationUserName: z.string().max(1000).optional(),
    destinationPassword: z.string().max(5000).optional(),
  })
  .strict()
  .meta({ id: 'MailboxInput' });

export const mailboxSchema = z
  .object({
    id: z.string(),
    emailAddress: z.string(),
    userName: z.string(),
    destinationUserName: z.string().nullable(),
    status: z.string(),
    foldersTotal: z.number(),
    foldersSynced: z.number(),
    itemsTotal: z.number(),
    itemsSynced: z.number(),
    itemsSkipped: z.number(),
    bytesSynced: z.number(),
    currentFolder: z.string().nullable(),
    itemsPerSecond: z.number().nullable(),
    startedAt: z.string().nullable(),
    initialSyncAt: z.string().nullable(),
    initialSyncDurationMs: z.number().nullable(),
    lastSyncedAt: z.string().nullable(),
    finalizedAt: z.string().nullable(),
    lastError: z.string().nullable(),
    lastErrorCode: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Mailbox' });

export const skippedItemSchema = z.object({
  id: z.string(),
  folder: z.string(),
  sourceUid: z.number().nullable(),
  internalDate: z.string().nullable(),
  subject: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  reason: z.string(),
  createdAt: z.string(),
});

export const progressSchema = z.object({
  items: z.array(
    z.object({
      at: z.string(),
      synced: z.number(),
      failed: z.number(),
      finalized: z.number(),
      itemsSynced: z.number(),
    }),
  ),
});

export const statisticsSchema = z.object({
  totalMailboxes: z.number(),
  syncedMailboxes: z.number(),
  finalizedMailboxes: z.number(),
  failedMailboxes: z.number(),
  batches: z.number(),
});
