import { z } from 'zod';
import { folderList } from './batches';
import { connectionSettings, password } from './endpoints';
import { plainText, uuid } from '../schemas';

/** The analysis route's contract (`POST /analyze`): one mailbox, both sides, the batch limits it would run with. */

/** The batches table's default LargeItemMaxBytes (150 MiB, db/migrations/0001_init.sql). */
export const DEFAULT_LARGE_ITEM_MAX_BYTES = 150 * 1024 * 1024;

const side = z
  .object({
    endpoint: z
      .union([uuid, connectionSettings])
      .meta({ description: "A saved endpoint's id, or the settings of one not saved" }),
    userName: plainText(256),
    password: password
      .optional()
      .meta({ description: "The mailbox's password; leave out when the endpoint logs in with its admin user" }),
  })
  .strict();

export const analyzeBody = z
  .object({
    source: side,
    destination: side,
    largeItemMaxBytes: z
      .number()
      .int()
      .min(1)
      .max(10 * 1024 * 1024 * 1024)
      .default(DEFAULT_LARGE_ITEM_MAX_BYTES),
    folderInclude: folderList.default([]),
    folderExclude: folderList.default([]),
  })
  .strict()
  .meta({ id: 'AnalyzeRequest' });

const count = z.number().int();

export const folderAnalysisSchema = z
  .object({
    sourceFolder: z.string(),
    role: z.string().nullable().meta({ description: 'Special-use role (Sent, Drafts, Trash, Junk, Archive, All …)' }),
    action: z.enum(['sync', 'excluded', 'virtual']).meta({
      description: 'sync; excluded by the folder filter; virtual: a Gmail view (Starred, Important) not copied',
    }),
    destinationFolder: z.string().nullable(),
    destinationExists: z.boolean(),
    sourceMessages: count,
    sourceBytes: count,
    destinationMessages: count,
    destinationBytes: count,
    largeMessages: count.meta({ description: 'Over largeItemMaxBytes: skipped as large items' }),
    largeBytes: count,
    oversizeMessages: count.meta({ description: "Over the destination's own size limit: skipped as bad items" }),
    oversizeBytes: count,
  })
  .meta({ id: 'FolderAnalysis' });

const sideSummary = z.object({ host: z.string(), port: z.number(), security: z.string(), userName: z.string() });

export const analysisSchema = z
  .object({
    source: sideSummary,
    destination: sideSummary,
    largeItemMaxBytes: count,
    destinationMaxMessageBytes: count.nullable(),
    folders: z.array(folderAnalysisSchema),
    totals: z.object({
      folders: count,
      foldersToSync: count,
      sourceMessages: count,
      sourceBytes: count,
      destinationMessages: count,
      destinationBytes: count,
      largeMessages: count,
      largeBytes: count,
      oversizeMessages: count,
      oversizeBytes: count,
      excludedFolders: count,
      excludedMessages: count,
      excludedBytes: count,
    }),
  })
  .meta({ id: 'MailboxAnalysis' });
