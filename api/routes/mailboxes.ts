import { z } from 'zod';
import { insertAuditEntries } from '../../db/audit';
import { progressSamples } from '../../db/batches';
import { countAllMailboxes } from '../../db/mailbox-counts';
import {
  countBatchMailboxes,
  mailboxInBatch,
  mailboxReportPages,
  mailboxReportPage,
  skippedItemsPage,
} from '../../db/mailbox-report';
import { withTransaction } from '../../db/transaction';
import { CLOSED_STATUSES, MAILBOX_STATUSES } from '../../domain/batch-status';
import { USERS_REPORT_CSV_HEADER, usersReportCsvLine, usersReportFileName } from '../../domain/users-report-csv';
import { findBatch } from '../batch-store';
import { ApiError } from '../errors';
import { mailboxView, skippedItemView } from '../mailbox-view';
import { claimMailboxes, insertMailboxes, mailboxListOptions, validateMailboxes } from '../mailbox-store';
import { notifyMailboxesChanged } from '../workflow-client';
import { defineRoute, type AnyRoute } from '../route';
import { batchRef, errorSchema, pageOf, pageQuery, paging, queryInt } from '../schemas';
import { addMailboxesBody, problemsDetails } from '../contract/batches';
import { mailboxSchema, progressSchema, skippedItemSchema, statisticsSchema } from '../contract/mailboxes';

/** Mailbox statuses in a query: one or several, comma-separated (the users report and the user lookup). */
export const mailboxStatusFilter = z
  .string()
  .max(500)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  )
  .pipe(z.array(z.enum(MAILBOX_STATUSES)));

const listQuery = z
  .object({
    status: mailboxStatusFilter.optional().meta({ description: 'One mailbox status or several, comma-separated' }),
    search: z.string().max(254).optional().meta({ description: 'Part of the email address' }),
    ...pageQuery,
  })
  .strict();

const exportQuery = z
  .object({
    status: mailboxStatusFilter.optional().meta({ description: 'Only mailboxes in these statuses, comma-separated' }),
    search: z.string().max(254).optional().meta({ description: 'Part of the email address' }),
  })
  .strict();

export const mailboxRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/batches/{id}/mailboxes',
    operationId: 'addMailboxes',
    summary: 'Adds mailboxes (CSV or JSON, all or nothing); they are synced from the next pass',
    tag: 'mailboxes',
    access: 'admin',
    params: batchRef,
    body: addMailboxesBody,
    csvQuery: z.object({}).strict(),
    largeBody: true,
    responses: {
      201: { description: 'Added', schema: z.object({ added: z.number(), total: z.number() }) },
      409: {
        description: 'BATCH_NOT_EDITABLE: the batch is completing, completed or being removed',
        schema: errorSchema,
      },
      422: { description: 'CSV_INVALID / MAILBOXES_INVALID', schema: errorSchema.extend({ details: problemsDetails }) },
    },
    async handler({ deps, params, body, actor }) {
      const batch = await findBatch(deps.pool, params.id);
      if (CLOSED_STATUSES.includes(batch.status)) {
        throw new ApiError('BATCH_NOT_EDITABLE', `mailboxes cannot be added while the batch is ${batch.status}`, {
          status: batch.status,
        });
      }
      const list = validateMailboxes(body, await mailboxListOptions(deps.pool, batch.source_endpoint_id));
      const { mailboxes } = list;
      let existing: number;
      try {
        existing = await withTransaction(deps.pool, async (client) => {
          // Under the mailbox-assignment lock until commit: the checks below and the insert are one step.
          await claimMailboxes(client, list, batch.id);
          const before = await countBatchMailboxes(client, batch.id);
          if (before + mailboxes.length > 50_000) {
            throw new ApiError('MAILBOXES_INVALID', 'a batch holds at most 50000 mailboxes', {
              problems: [{ code: 'TOO_MANY_ROWS', message: `the batch has ${before} mailboxes already` }],
              truncated: false,
            });
          }
          await insertMailboxes(client, deps.secretBox, batch.id, mailboxes);
          await insertAuditEntries(client, [
            {
              batchId: batch.id,
              batchName: batch.name,
              actor: actor.owner,
              command: 'addMailboxes',
              outcome: 'accepted',
              detail: { source: 'api', mailboxes: mailboxes.length },
            },
          ]);
          return before;
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ApiError('MAILBOXES_INVALID', 'a mailbox was added to this batch at the same time', {
            problems: [],
            truncated: false,
          });
        }
        throw err;
      }
      deps.logger.info('mailboxes added', { batchId: batch.id, added: mailboxes.length, by: actor.owner });
      await notifyMailboxesChanged(deps, batch.workflow_id);
      return { status: 201 as const, body: { added: mailboxes.length, total: existing + mailboxes.length } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/batches/{id}/mailboxes',
    operationId: 'listMailboxes',
    summary: 'Migration users report: paged, filter by status, search by address',
    tag: 'mailboxes',
    access: 'viewer',
    params: batchRef,
    query: listQuery,
    responses: {
      200: { description: 'One page', schema: pageOf(mailboxSchema) },
      404: { description: 'BATCH_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, params, query }) {
      const batch = await findBatch(deps.pool, params.id);
      const { page, pageSize, offset } = paging(query, 100);
      const report = await mailboxReportPage(
        deps.pool,
        { batchId: batch.id, statuses: query.status ?? null, search: query.search ?? null },
        { limit: pageSize, offset },
      );
      return {
        status: 200 as const,
        body: { items: report.rows.map(mailboxView), total: report.total, page, pageSize },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/batches/{id}/mailboxes.csv',
    operationId: 'exportMailboxes',
    summary: 'Migration users report as CSV (optionally filtered like the list)',
    tag: 'mailboxes',
    access: 'viewer',
    params: batchRef,
    query: exportQuery,
    responses: { 200: { description: 'CSV, one line per mailbox', contentType: 'text/csv' } },
    async handler({ deps, params, query, res }) {
      const batch = await findBatch(deps.pool, params.id);
      res.status(200);
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${usersReportFileName(batch.name)}"`);
      res.write(USERS_REPORT_CSV_HEADER);
      const filter = { batchId: batch.id, statuses: query.status ?? null, search: query.search ?? null };
      for await (const rows of mailboxReportPages(deps.pool, filter)) res.write(rows.map(usersReportCsvLine).join(''));
      res.end();
      return undefined;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/batches/{id}/mailboxes/{mailboxId}/skipped-items',
    operationId: 'listSkippedItems',
    summary: 'Items a mailbox left behind (too large, refused by the destination)',
    tag: 'mailboxes',
    access: 'viewer',
    params: z
      .object({ id: z.string().min(1).max(200), mailboxId: z.string().regex(/^\d{1,18}$/, 'must be a mailbox id') })
      .strict(),
    query: z.object(pageQuery).strict(),
    responses: {
      200: {
        description: 'One page of skipped items',
        schema: pageOf(skippedItemSchema),
      },
      404: { description: 'BATCH_NOT_FOUND / MAILBOX_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, params, query }) {
      const batch = await findBatch(deps.pool, params.id);
      if (!(await mailboxInBatch(deps.pool, params.mailboxId, batch.id))) {
        throw new ApiError('MAILBOX_NOT_FOUND', 'no mailbox with this id in the batch');
      }
      const { page, pageSize, offset } = paging(query, 100);
      const items = await skippedItemsPage(deps.pool, params.mailboxId, { limit: pageSize, offset });
      return {
        status: 200 as const,
        body: {
          items: items.rows.map(skippedItemView),
          total: items.total,
          page,
          pageSize,
        },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/batches/{id}/progress',
    operationId: 'getBatchProgress',
    summary: 'Progress over time (for a chart), oldest first',
    tag: 'batches',
    access: 'viewer',
    params: batchRef,
    query: z
      .object({
        since: z.iso.datetime({ offset: true }).optional(),
        limit: queryInt(1, 10_000).optional(),
      })
      .strict(),
    responses: {
      200: {
        description: 'Samples',
        schema: progressSchema,
      },
    },
    async handler({ deps, params, query }) {
      const batch = await findBatch(deps.pool, params.id);
      const rows = await progressSamples(deps.pool, batch.id, query.since ?? null, query.limit ?? 1000);
      return {
        status: 200 as const,
        body: {
          items: rows.map((r) => ({
            at: r.at.toISOString(),
            synced: r.synced,
            failed: r.failed,
            finalized: r.finalized,
            itemsSynced: Number(r.items_synced),
          })),
        },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/statistics',
    operationId: 'getStatistics',
    summary: 'Overall statistics across all batches',
    tag: 'batches',
    access: 'viewer',
    responses: {
      200: {
        description: 'Mailbox totals',
        schema: statisticsSchema,
      },
    },
    async handler({ deps }) {
      const r = await countAllMailboxes(deps.pool);
      return {
        status: 200 as const,
        body: {
          totalMailboxes: r.total,
          syncedMailboxes: r.synced,
          finalizedMailboxes: r.finalized,
          failedMailboxes: r.failed,
          batches: r.batches,
        },
      };
    },
  }),
];
