import { randomUUID } from 'node:crypto';
import { insertAuditEntries } from '../../db/audit';
import { batchNameTaken, deleteBatchRows, insertBatchRow, listBatchRows } from '../../db/batches';
import { existingEndpointIds } from '../../db/endpoints';
import { withTransaction } from '../../db/transaction';
import { percentageSynced } from '../../domain/batch-counts';
import { allowedCommands, STATUS_LABELS, type BatchCommand } from '../../domain/batch-status';
import type { BatchEdit } from '../../domain/batch-messages';
import { batchDetail, findBatch } from '../batch-store';
import { runCommand } from '../commands';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { claimMailboxes, insertMailboxes, mailboxListOptions, validateMailboxes } from '../mailbox-store';
import { defineRoute, type AnyRoute } from '../route';
import { batchRef, errorSchema, paging } from '../schemas';
import {
  isAlreadyStarted,
  queryBatch,
  waitingForWorkerSince,
  startBatchWorkflow,
  workflowIdFor,
  type BatchWorkflowInput,
} from '../workflow-client';
import {
  batchDetailSchema,
  batchList,
  commandResult,
  createBatchBody,
  createBatchCsvQuery,
  editBatchBody,
  listBatchesQuery,
} from '../contract/batches';
import { verifyBody } from '../contract/mailboxes';

async function requireEndpoints(deps: ApiDeps, ids: { field: string; id: string }[]): Promise<void> {
  const known = await existingEndpointIds(
    deps.pool,
    ids.map((i) => i.id),
  );
  const missing = ids.filter((i) => !known.has(i.id));
  if (missing.length > 0) {
    throw new ApiError('UNKNOWN_ENDPOINT', `no endpoint with id ${missing[0]!.id} (${missing[0]!.field})`, {
      fields: missing.map((m) => m.field),
    });
  }
}

/**
 * Undoes a creation whose workflow did not start: the batch, its mailboxes (cascade) and its `create accepted`
 * audit row go in one transaction. The audit row goes too rather than staying as a record of a failed attempt:
 * the answer (503, "nothing was created") tells the admin the batch does not exist, and an `accepted` entry for
 * a batch that never existed would say otherwise (the audit log has no "failed" outcome). A removed batch is
 * different: it existed, and its entries, the removal included, stay. The attempt and its cause are in the server
 * log.
 */
async function undoCreate(deps: ApiDeps, batchId: string): Promise<void> {
  try {
    await deleteBatchRows(deps.pool, batchId, { withAudit: true });
  } catch (err) {
    deps.logger.error('could not delete the rows of a batch whose workflow did not start', {
      batchId,
      error: (err as Error).message,
    });
    throw err;
  }
}

const commandErrors = {
  404: { description: 'BATCH_NOT_FOUND', schema: errorSchema },
  409: {
    description:
      'COMMAND_NOT_ALLOWED (details.status, details.allowedCommands), WORKFLOW_NOT_RUNNING, or for complete ' +
      'CONSISTENCY_NOT_APPROVED (details.mailboxes: those graded Investigate or Poor and not approved)',
    schema: errorSchema,
  },
  503: { description: 'TEMPORAL_UNAVAILABLE', schema: errorSchema },
  504: { description: 'COMMAND_TIMEOUT: the workflow did not apply the command in time', schema: errorSchema },
};

export const batchRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/batches',
    operationId: 'listBatches',
    summary: "Migration batches with the seed's columns; filter by status, sort, page",
    tag: 'batches',
    access: 'viewer',
    query: listBatchesQuery,
    responses: { 200: { description: 'One page of batches', schema: batchList } },
    async handler({ deps, query }) {
      const { page, pageSize, offset } = paging(query, 50);
      const sort = query.sort ?? 'createdAt';
      const order =
        (query.order ?? (query.sort && query.sort !== 'createdAt' ? 'asc' : 'desc')) === 'asc' ? 'asc' : 'desc';
      const { rows, total } = await listBatchRows(deps.pool, {
        statuses: query.status ?? null,
        search: query.search ?? null,
        sort,
        order,
        limit: pageSize,
        offset,
      });
      return {
        status: 200 as const,
        body: {
          items: rows.map((r) => ({
            id: r.id,
            name: r.name,
            status: r.status,
            statusLabel: STATUS_LABELS[r.status] ?? r.status,
            percentageSynced: percentageSynced(r.synced, r.total),
            total: r.total,
            synced: r.synced,
            finalized: r.finalized,
            failed: r.failed,
            allowedCommands: [...(allowedCommands(r.status) ?? [])],
            createdAt: r.created_at.toISOString(),
            createdBy: r.created_by,
          })),
          total,
          page,
          pageSize,
        },
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/batches',
    operationId: 'createBatch',
    summary: 'Creates a batch from CSV or JSON mailboxes (all or nothing) and starts its workflow',
    description:
      'JSON body, or `Content-Type: text/csv` with the CSV as body and the settings as query parameters ' +
      '(folderInclude/folderExclude comma-separated). The batch is created only if every row is valid.',
    tag: 'batches',
    access: 'admin',
    body: createBatchBody,
    csvQuery: createBatchCsvQuery,
    largeBody: true,
    responses: {
      201: { description: 'Created (status Created, or Queued with autoStart)', schema: batchDetailSchema },
      400: { description: 'VALIDATION_FAILED', schema: errorSchema },
      409: { description: 'BATCH_NAME_TAKEN', schema: errorSchema },
      413: { description: 'CSV_TOO_LARGE / PAYLOAD_TOO_LARGE', schema: errorSchema },
      415: { description: 'UNSUPPORTED_MEDIA_TYPE', schema: errorSchema },
      422: {
        description: 'CSV_INVALID / MAILBOXES_INVALID (details.problems with line numbers) or UNKNOWN_ENDPOINT',
        schema: errorSchema,
      },
      503: { description: 'WORKFLOW_START_FAILED (nothing is left behind)', schema: errorSchema },
    },
    async handler({ deps, body, actor }) {
      if (await batchNameTaken(deps.pool, body.name)) {
        throw new ApiError('BATCH_NAME_TAKEN', `a batch named "${body.name}" exists`);
      }
      await requireEndpoints(deps, [
        { field: 'sourceEndpointId', id: body.sourceEndpointId },
        { field: 'destinationEndpointId', id: body.destinationEndpointId },
      ]);
      const list = validateMailboxes(body, await mailboxListOptions(deps.pool, body.sourceEndpointId));
      const { mailboxes } = list;

      const batchId = randomUUID();
      const workflowId = workflowIdFor(body.name);
      const row = await withTransaction(deps.pool, async (client) => {
        // Under the mailbox-assignment lock until commit: a concurrent creation cannot take the same mailboxes.
        await claimMailboxes(client, list);
        const inserted = await insertBatchRow(client, {
          id: batchId,
          name: body.name,
          workflowId,
          sourceEndpointId: body.sourceEndpointId,
          destinationEndpointId: body.destinationEndpointId,
          createdBy: actor.owner,
          startAfter: body.startAfter ?? null,
          completeAfter: body.completeAfter ?? null,
          autoStart: body.autoStart,
          autoComplete: body.autoComplete,
          badItemLimit: body.badItemLimit,
          largeItemLimit: body.largeItemLimit,
          folderInclude: body.folderInclude,
          folderExclude: body.folderExclude,
          notificationEmails: body.notificationEmails,
          reportIntervalMs: body.reportInterval,
          skipReports: body.skipReports,
          skipCalendar: body.skipCalendar,
          skipContacts: body.skipContacts,
          skipTasks: body.skipTasks,
        });
        await insertMailboxes(client, deps.secretBox, batchId, mailboxes);
        await insertAuditEntries(client, [
          {
            batchId,
            batchName: body.name,
            actor: actor.owner,
            command: 'create',
            outcome: 'accepted',
            detail: { source: 'api', mailboxes: mailboxes.length },
          },
        ]);
        return inserted;
      });

      const input: BatchWorkflowInput = {
        batchId,
        name: body.name,
        createdBy: actor.owner,
        createdAt: row.created_at.toISOString(),
        autoStart: body.autoStart,
        startAfter: row.start_after?.toISOString() ?? null,
        completeAfter: row.complete_after?.toISOString() ?? null,
        autoComplete: body.autoComplete,
        endpoints: { sourceEndpointId: body.sourceEndpointId, destinationEndpointId: body.destinationEndpointId },
        reports: {
          hasRecipients: body.notificationEmails.length > 0,
          skip: body.skipReports,
          intervalMs: body.reportInterval,
        },
      };
      try {
        await startBatchWorkflow(deps, workflowId, input);
      } catch (err) {
        await undoCreate(deps, batchId);
        if (isAlreadyStarted(err)) {
          throw new ApiError(
            'BATCH_NAME_TAKEN',
            `a workflow ${workflowId} is still running (a batch of this name is being removed)`,
            {
              workflowId,
            },
          );
        }
        deps.logger.error('batch workflow did not start; batch rows deleted', {
          batchId,
          workflowId,
          name: body.name,
          by: actor.owner,
          error: (err as Error).message,
        });
        throw new ApiError('WORKFLOW_START_FAILED', 'the batch workflow could not be started; nothing was created', {
          reason: (err as Error).message.slice(0, 200),
        });
      }
      deps.logger.info('batch created', { batchId, name: body.name, mailboxes: mailboxes.length, by: actor.owner });
      return { status: 201 as const, body: await batchDetail(deps, row, undefined) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/batches/{id}',
    operationId: 'getBatch',
    summary: 'Every statistic of one batch (id or name); live from the workflow when it answers',
    tag: 'batches',
    access: 'viewer',
    params: batchRef,
    responses: {
      200: { description: 'The batch', schema: batchDetailSchema },
      404: { description: 'BATCH_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, params }) {
      const row = await findBatch(deps.pool, params.id);
      const [snapshot, waitingSince] = await Promise.all([
        queryBatch(deps, row.workflow_id),
        waitingForWorkerSince(deps, row.workflow_id),
      ]);
      return { status: 200 as const, body: await batchDetail(deps, row, snapshot, waitingSince) };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/batches/{id}',
    operationId: 'editBatch',
    summary: 'Edit: finalization times, endpoints, limits, folders, reports (the workflow applies it)',
    tag: 'batches',
    access: 'admin',
    params: batchRef,
    body: editBatchBody,
    responses: {
      200: { description: 'Applied', schema: commandResult },
      ...commandErrors,
      422: { description: 'UNKNOWN_ENDPOINT', schema: errorSchema },
    },
    async handler({ deps, params, body, actor }) {
      const ids = [
        ...(body.sourceEndpointId ? [{ field: 'sourceEndpointId', id: body.sourceEndpointId }] : []),
        ...(body.destinationEndpointId ? [{ field: 'destinationEndpointId', id: body.destinationEndpointId }] : []),
      ];
      if (ids.length > 0) await requireEndpoints(deps, ids);
      const { reportInterval, ...settings } = body;
      const edit: BatchEdit = {
        ...settings,
        ...(reportInterval !== undefined ? { reportIntervalMs: reportInterval } : {}),
      };
      const result = await runCommand(deps, actor, params.id, 'edit', { edit });
      // The workflow's applyEdit activity has written the settings before the update returned.
      const row = await findBatch(deps.pool, result.batch.id);
      return {
        status: 200 as const,
        body: { ...result, batch: await batchDetail(deps, row, await queryBatch(deps, row.workflow_id)) },
      };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/batches/{id}',
    operationId: 'deleteBatch',
    summary: 'Delete (the remove command): the workflow deletes the batch rows and ends',
    tag: 'batches',
    access: 'admin',
    params: batchRef,
    responses: {
      202: { description: 'Removal accepted (or already under way)', schema: commandResult },
      ...commandErrors,
    },
    async handler({ deps, params, actor }) {
      return { status: 202 as const, body: await runCommand(deps, actor, params.id, 'remove') };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/batches/{id}/verify',
    operationId: 'verifyBatch',
    summary:
      'Verify: compare every synced mailbox on both servers (read-only) and grade it; deep compares full contents',
    tag: 'batch commands',
    access: 'admin',
    params: batchRef,
    body: verifyBody,
    responses: {
      200: { description: 'Accepted: the verification runs while the batch stays as it is', schema: commandResult },
      ...commandErrors,
    },
    async handler({ deps, params, actor, body }) {
      const result = await runCommand(deps, actor, params.id, 'verify', { deep: body.deep === true });
      return { status: 200 as const, body: result };
    },
  }),
  ...(
    [
      ['start', 'start', 'Start a created or stopped batch'],
      ['stop', 'stop', 'Stop (pause) a batch'],
      ['resume', 'resume', 'Resume a stopped or failed batch; retries failed mailboxes'],
      ['complete', 'complete', 'Complete: a final incremental sync, then Completed'],
      ['sync-now', 'syncNow', 'Run an incremental sync now'],
    ] as const
  ).map(([verb, command, summary]: readonly [string, BatchCommand, string]) =>
    defineRoute({
      method: 'post',
      path: `/batches/{id}/${verb}`,
      operationId: `${command}Batch`,
      summary,
      tag: 'batch commands',
      access: 'admin',
      params: batchRef,
      responses: {
        200: {
          description: 'Accepted, or alreadyApplied when the command had already taken effect',
          schema: commandResult,
        },
        ...commandErrors,
      },
      async handler({ deps, params, actor }) {
        return { status: 200 as const, body: await runCommand(deps, actor, params.id, command) };
      },
    }),
  ),
];
