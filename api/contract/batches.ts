import { z } from 'zod';
import {
  DEFAULT_REPORT_INTERVAL_MS,
  isEmailAddress,
  MAX_RECIPIENTS,
  MAX_REPORT_INTERVAL_MS,
  MIN_REPORT_INTERVAL_MS,
} from '../../domain/batch-reports';
import { BATCH_COMMANDS, BATCH_STATUSES } from '../../domain/batch-status';
import { GRADES, type GradeCounts } from '../../domain/consistency';

type GradeKey = keyof GradeCounts;
import { DURATION_EXAMPLE, formatDuration, parseDuration } from '../../domain/duration';
import { mailboxJson } from './mailboxes';
import { isoDateTime, pageOf, plainText, queryBoolean, queryInt, uuid } from '../schemas';

/** Request and response schemas of the batch routes (also the OpenAPI document's). */

export const batchName = plainText(64).regex(
  /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/,
  'may contain letters, digits, spaces, dots, underscores and hyphens, and must start with a letter or digit',
);

/** A folder filter (FolderInclude / FolderExclude): patterns as imap/folders.ts matches them. */
export const folderList = z.array(plainText(512)).max(1000);

const notificationEmails = z
  .array(z.string().trim().refine(isEmailAddress, 'must be an e-mail address such as admin@contoso.com'))
  .max(MAX_RECIPIENTS)
  .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, 'lists an address twice')
  .meta({ description: 'Who receives the e-mailed reports (Exchange: NotificationEmails)' });

/** A duration (`24h`, `7d`, `90m`), in milliseconds once parsed. */
const reportInterval = z
  .string()
  .max(32)
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null || ms < MIN_REPORT_INTERVAL_MS || ms > MAX_REPORT_INTERVAL_MS) {
      ctx.addIssue({ code: 'custom', message: `must be ${DURATION_EXAMPLE}, between 1m and 365d` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'Time between summary reports while the batch syncs (Exchange: ReportInterval)' });

const settingsFields = {
  startAfter: isoDateTime
    .nullable()
    .optional()
    .meta({ description: 'Start no earlier than this time (with AutoStart)' }),
  completeAfter: isoDateTime.nullable().optional().meta({ description: 'Complete automatically after this time' }),
  autoStart: z.boolean().default(false),
  autoComplete: z.boolean().default(false),
  badItemLimit: z.number().int().min(0).max(1_000_000).default(10),
  largeItemLimit: z.number().int().min(0).max(1_000_000).default(0),
  folderInclude: folderList.default([]),
  folderExclude: folderList.default([]),
  notificationEmails: notificationEmails.default([]),
  reportInterval: reportInterval.prefault(formatDuration(DEFAULT_REPORT_INTERVAL_MS)),
  skipReports: z.boolean().default(false).meta({ description: 'No e-mailed reports, whoever is listed' }),
  skipCalendar: z
    .boolean()
    .default(false)
    .meta({ description: "Leave the mailboxes' calendars (events) out of the migration (Exchange: SkipCalendar)" }),
  skipContacts: z
    .boolean()
    .default(false)
    .meta({ description: "Leave the mailboxes' address books out (Exchange: SkipContacts)" }),
  skipTasks: z.boolean().default(false).meta({ description: "Leave the mailboxes' tasks out (Exchange: SkipTasks)" }),
};

export const createBatchBody = z
  .object({
    name: batchName,
    sourceEndpointId: uuid,
    destinationEndpointId: uuid,
    csv: z
      .string()
      .optional()
      .meta({ description: 'CSV text: EmailAddress,UserName,Password[,DestinationUserName,DestinationPassword]' }),
    mailboxes: z.array(mailboxJson).optional(),
    ...settingsFields,
  })
  .strict()
  .refine((b) => (b.csv === undefined) !== (b.mailboxes === undefined), {
    message: 'give the mailboxes either as csv or as mailboxes, exactly one of them',
    path: ['csv'],
  })
  .meta({ id: 'BatchCreate' });

const commaList = z
  .string()
  .max(100_000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

/** With `Content-Type: text/csv`, the settings come as query parameters. */
export const createBatchCsvQuery = z
  .object({
    name: z.string(),
    sourceEndpointId: z.string(),
    destinationEndpointId: z.string(),
    startAfter: z.string().optional(),
    completeAfter: z.string().optional(),
    autoStart: queryBoolean.optional(),
    autoComplete: queryBoolean.optional(),
    badItemLimit: queryInt(0, 1_000_000).optional(),
    largeItemLimit: queryInt(0, 1_000_000).optional(),
    folderInclude: commaList.optional(),
    folderExclude: commaList.optional(),
    notificationEmails: commaList.optional(),
    reportInterval: z.string().optional(),
    skipReports: queryBoolean.optional(),
    skipCalendar: queryBoolean.optional(),
    skipContacts: queryBoolean.optional(),
    skipTasks: queryBoolean.optional(),
  })
  .strict();

export const editBatchBody = z
  .object({
    startAfter: isoDateTime.nullable().optional(),
    completeAfter: isoDateTime.nullable().optional(),
    autoComplete: z.boolean().optional(),
    sourceEndpointId: uuid.optional(),
    destinationEndpointId: uuid.optional(),
    badItemLimit: z.number().int().min(0).max(1_000_000).optional(),
    largeItemLimit: z.number().int().min(0).max(1_000_000).optional(),
    largeItemMaxBytes: z
      .number()
      .int()
      .min(1)
      .max(10 * 1024 * 1024 * 1024)
      .optional(),
    folderInclude: folderList.optional(),
    folderExclude: folderList.optional(),
    deleteOnDestination: z.boolean().optional(),
    notificationEmails: notificationEmails.optional(),
    reportInterval: reportInterval.optional(),
    skipReports: z.boolean().optional(),
    skipCalendar: z.boolean().optional(),
    skipContacts: z.boolean().optional(),
    skipTasks: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one setting to change' })
  .meta({ id: 'BatchEdit' });

export const addMailboxesBody = z
  .object({ csv: z.string().optional(), mailboxes: z.array(mailboxJson).optional() })
  .strict()
  .refine((b) => (b.csv === undefined) !== (b.mailboxes === undefined), {
    message: 'give the mailboxes either as csv or as mailboxes, exactly one of them',
    path: ['csv'],
  });

export const LIST_SORTS = [
  'name',
  'status',
  'createdAt',
  'total',
  'synced',
  'finalized',
  'failed',
  'percentageSynced',
] as const;

const statusList = z
  .string()
  .max(1000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(z.enum(BATCH_STATUSES)));

export const listBatchesQuery = z
  .object({
    status: statusList.optional().meta({ description: 'One status or several, comma-separated' }),
    search: z.string().max(200).optional().meta({ description: 'Part of the batch name' }),
    sort: z.enum(LIST_SORTS).optional(),
    order: z.enum(['asc', 'desc']).optional(),
    page: queryInt(1, 1_000_000).optional(),
    pageSize: queryInt(1, 500).optional(),
  })
  .strict();

const status = z.enum(BATCH_STATUSES);
const commands = z.array(z.enum(BATCH_COMMANDS));

export const batchListItem = z
  .object({
    id: z.string(),
    name: z.string(),
    status,
    statusLabel: z.string(),
    percentageSynced: z.number(),
    total: z.number(),
    synced: z.number(),
    finalized: z.number(),
    failed: z.number(),
    allowedCommands: commands,
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'BatchListItem' });

export const batchList = pageOf(batchListItem);

const endpointRef = z.object({ id: z.string(), name: z.string(), host: z.string() });
const nullableTime = z.string().nullable();

export const batchDetailSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.literal('IMAP'),
    direction: z.literal('Onboarding'),
    status,
    statusLabel: z.string(),
    allowedCommands: commands,
    requested: z.number(),
    total: z.number(),
    synced: z.number(),
    finalized: z.number(),
    failed: z.number(),
    percentageSynced: z.number(),
    counts: z.object({
      total: z.number(),
      queued: z.number(),
      syncing: z.number(),
      synced: z.number(),
      failed: z.number(),
      stopped: z.number(),
      completing: z.number(),
      finalized: z.number(),
    }),
    items: z
      .object({
        synced: z.number().meta({ description: 'Every kind: mail, calendar items and contacts' }),
        mail: z.number(),
        calendar: z.number().meta({ description: 'Events and tasks' }),
        contacts: z.number().meta({ description: 'Contacts and groups' }),
        skipped: z.number(),
      })
      .meta({ description: "Items over all the batch's mailboxes" }),
    createdBy: z.string(),
    createdAt: z.string(),
    startedAt: nullableTime,
    initialSyncAt: nullableTime,
    initialSyncDurationMs: z.number().nullable(),
    lastSyncedAt: nullableTime,
    startAfter: nullableTime,
    completeAfter: nullableTime,
    autoStart: z.boolean(),
    autoComplete: z.boolean(),
    badItemLimit: z.number(),
    largeItemLimit: z.number(),
    largeItemMaxBytes: z.number(),
    folderInclude: z.array(z.string()),
    folderExclude: z.array(z.string()),
    deleteOnDestination: z.boolean(),
    notificationEmails: z.array(z.string()),
    reportInterval: z.string().meta({ description: 'e.g. 1d' }),
    skipReports: z.boolean(),
    skipCalendar: z.boolean(),
    skipContacts: z.boolean(),
    skipTasks: z.boolean(),
    lastReportAt: nullableTime.meta({ description: 'When the last e-mailed report went out' }),
    lastReportError: z
      .string()
      .nullable()
      .meta({ description: 'Why the last report could not be sent; null once one goes out' }),
    sourceEndpoint: endpointRef,
    destinationEndpoint: endpointRef,
    associatedEndpoints: z.array(endpointRef),
    workflowId: z.string(),
    temporalUiUrl: z.string().nullable(),
    nextIncrementalSyncAt: nullableTime,
    autoStopAt: nullableTime,
    removeAt: nullableTime,
    lastAdminActivityAt: nullableTime,
    lastError: z.string().nullable(),
    pass: z.object({ kind: z.string(), startedAt: z.string(), scheduled: z.number(), finished: z.number() }).nullable(),
    grades: z
      .object(
        Object.fromEntries([...GRADES, 'unverified'].map((g) => [g, z.number()])) as Record<GradeKey, z.ZodNumber>,
      )
      .meta({ description: 'Mailboxes per grade of their last verification; unverified: none yet' }),
    verification: z
      .object({
        deep: z.boolean(),
        final: z.boolean().meta({ description: 'The verification that ends Complete' }),
        startedAt: z.string(),
        scheduled: z.number(),
        finished: z.number(),
      })
      .nullable()
      .meta({ description: 'A verification under way (live batches only)' }),
    recentCommands: z.array(
      z.object({
        command: z.string(),
        by: z.string(),
        at: z.string(),
        outcome: z.string(),
        status: z.string().optional(),
      }),
    ),
    live: z.boolean().meta({ description: 'true when status and timers come from the running workflow' }),
    waitingForWorkerSince: nullableTime.meta({
      description:
        'Since when work of the batch (a mailbox sync, or the workflow itself) has waited for a worker to pick it ' +
        'up; null when nothing waits. Read in GET /batches/{id}; null in other replies',
    }),
  })
  .meta({ id: 'BatchDetail' });

export const commandResult = z
  .object({
    command: z.enum(BATCH_COMMANDS),
    outcome: z.enum(['accepted', 'alreadyApplied']),
    batch: batchDetailSchema,
  })
  .meta({ id: 'CommandResult' });

export const problemsDetails = z.object({
  problems: z.array(
    z.object({
      line: z.number().optional(),
      item: z.number().optional(),
      column: z.string().optional(),
      code: z.string(),
      message: z.string(),
    }),
  ),
  truncated: z.boolean(),
});
