import { z } from 'zod';
import { BATCH_STATUSES } from '../../domain/batch-status';
import { CONSISTENCY_KINDS, DIFFERENCE_TYPES, GRADES } from '../../domain/consistency';
import { MAILBOX_COMMANDS } from '../../domain/mailbox-commands';
import { isoDateTime, plainText } from '../schemas';

/**
 * The mailbox side of the API's contract: the migration users report, skipped items, progress samples and the
 * statistics, as the routes answer them and the dashboard reads them, and the JSON form of a mailbox list.
 */

export const differenceSchema = z
  .object({
    kind: z.enum(CONSISTENCY_KINDS),
    type: z.enum(DIFFERENCE_TYPES),
    folder: z.string().meta({ description: 'The source folder, calendar or address book' }),
    side: z.enum(['source', 'destination']).meta({ description: 'The side that holds the item' }),
    messageId: z.string().nullable().meta({ description: 'Message-ID; UID of a calendar object or contact' }),
    subject: z.string().nullable().meta({ description: 'Subject; SUMMARY or FN' }),
    date: z.string().nullable().meta({ description: 'INTERNALDATE on that side (mail only)' }),
    size: z.number().nullable().meta({ description: 'Bytes on that side' }),
    detail: z.string().nullable(),
    count: z.number().meta({ description: 'Items it stands for (a missing folder: its messages)' }),
  })
  .meta({ id: 'ConsistencyDifference' });

/** A mailbox's last verification: its grade (domain/consistency.ts) and what differs. */
export const consistencySchema = z
  .object({
    grade: z.enum(GRADES),
    deep: z.boolean(),
    verifiedAt: z.string(),
    sourceItems: z.number(),
    destinationItems: z.number(),
    differences: z.array(differenceSchema).meta({ description: 'The first 1,000 differences' }),
    differenceCount: z.number(),
    approvedBy: z.string().nullable(),
    approvedAt: z.string().nullable(),
  })
  .meta({ id: 'Consistency' });

/** Verify: header data (Message-ID, size, INTERNALDATE, flags), or with `deep` the full contents too. */
export const verifyBody = z.object({ deep: z.boolean().optional() }).strict();

/** The JSON form: `[{ emailAddress, userName, password?, destinationUserName?, destinationPassword? }]`. */
export const mailboxJson = z
  .object({
    emailAddress: z.string().max(1000),
    userName: z.string().max(1000),
    /** Required unless the source endpoint mints its tokens. */
    password: z.string().max(5000).optional(),
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
    itemsSynced: z.number().meta({ description: 'Items of every kind: mail, calendar items and contacts' }),
    mailItemsSynced: z.number(),
    calendarItemsSynced: z.number().meta({ description: 'Events and tasks (CalDAV)' }),
    contactsSynced: z.number().meta({ description: 'Contacts and groups (CardDAV)' }),
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
    consistency: consistencySchema
      .nullable()
      .meta({ description: 'The last verification (POST /batches/{id}/verify); null before the first' }),
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
  itemKind: z.enum(['mail', 'calendar', 'contact']).meta({
    description: 'A message (folder: its folder), a calendar item or a contact (folder: its calendar or address book)',
  }),
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

/** Per-mailbox settings that win over the batch's (Set-MigrationUser); null: the batch's value. */
export const mailboxOverridesSchema = z
  .object({
    startAfter: z.string().nullable(),
    badItemLimit: z.number().nullable(),
    largeItemLimit: z.number().nullable(),
    folderInclude: z.array(z.string()).nullable(),
    folderExclude: z.array(z.string()).nullable(),
    skipCalendar: z.boolean().nullable(),
    skipContacts: z.boolean().nullable(),
    skipTasks: z.boolean().nullable(),
  })
  .meta({ id: 'MailboxOverrides' });

/** A migration user: the mailbox's report row with its batch, its overrides and the commands it allows now. */
export const migrationUserSchema = mailboxSchema
  .extend({
    batch: z.object({ id: z.string(), name: z.string(), status: z.enum(BATCH_STATUSES) }),
    overrides: mailboxOverridesSchema,
    allowedCommands: z.array(z.enum(MAILBOX_COMMANDS)),
  })
  .meta({ id: 'MigrationUser' });

export const mailboxCommandReply = z.object({
  command: z.enum(MAILBOX_COMMANDS),
  outcome: z.literal('accepted'),
  /** null once the mailbox has left the batch (remove). */
  user: migrationUserSchema.nullable(),
});

const folderList = z.array(plainText(512)).max(1000);

/** Set: only the fields given change; null puts one back to the batch's value. */
export const setMailboxBody = z
  .object({
    startAfter: isoDateTime.nullable().optional().meta({ description: 'Do not sync this mailbox before this time' }),
    badItemLimit: z.number().int().min(0).max(1_000_000).nullable().optional(),
    largeItemLimit: z.number().int().min(0).max(1_000_000).nullable().optional(),
    folderInclude: folderList.nullable().optional(),
    folderExclude: folderList.nullable().optional(),
    skipCalendar: z.boolean().nullable().optional().meta({ description: "Leave this mailbox's calendars out (or in)" }),
    skipContacts: z.boolean().nullable().optional(),
    skipTasks: z.boolean().nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one setting to change');

export const moveMailboxBody = z
  .object({ targetBatch: z.string().min(1).max(200).meta({ description: 'The batch to move to: its id or name' }) })
  .strict();

/** A new password for one side of a mailbox (it changed on the server); never returned, never logged. */
export const mailboxPasswordBody = z
  .object({
    side: z.enum(['source', 'destination']).default('source'),
    password: z.string().min(1).max(5000),
    resume: z.boolean().default(false).meta({ description: 'Resume the mailbox at once (when Failed or Stopped)' }),
  })
  .strict();

export const approvalReply = z.object({
  outcome: z.literal('accepted'),
  user: migrationUserSchema.nullable(),
});

export const mailboxPasswordReply = z.object({
  outcome: z.literal('accepted'),
  resumed: z.boolean(),
  user: migrationUserSchema.nullable(),
});
