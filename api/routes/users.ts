import { z } from 'zod';
import { mailboxUsersPage, skippedItemsPage } from '../../db/mailbox-report';
import type { BatchStatus } from '../../domain/batch-status';
import type { MailboxCommand } from '../../domain/mailbox-commands';
import { findBatch } from '../batch-store';
import { mailboxStatusFilter } from './mailboxes';
import {
  approveSkippedItems,
  findUser,
  runMailboxCommand,
  setMailboxPassword,
  type MailboxCommandArgs,
} from '../mailbox-commands';
import { skippedItemView, userView } from '../mailbox-view';
import { queryBatch } from '../workflow-client';
import { defineRoute, type AnyRoute } from '../route';
import { emailAddress, errorSchema, pageOf, pageQuery, paging, queryBoolean } from '../schemas';
import {
  approvalReply,
  mailboxCommandReply,
  mailboxPasswordBody,
  mailboxPasswordReply,
  migrationUserSchema,
  moveMailboxBody,
  setMailboxBody,
  skippedItemSchema,
  verifyBody,
} from '../contract/mailboxes';

/**
 * Migration users (Exchange's Get-, Set-, Start-, Stop- and Remove-MigrationUser): a mailbox found by its address
 * across batches, and the per-mailbox commands, which the mailbox's batch workflow applies.
 */

const mailboxIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be a mailbox id') }).strict();

const userQuery = z
  .object({
    email: emailAddress.optional().meta({ description: 'The mailbox address, exactly (any case)' }),
    batch: z.string().min(1).max(200).optional().meta({ description: 'Only this batch (id or name)' }),
    status: mailboxStatusFilter.optional().meta({ description: 'One mailbox status or several, comma-separated' }),
    ...pageQuery,
  })
  .strict();

const userErrors = {
  404: { description: 'MAILBOX_NOT_FOUND / BATCH_NOT_FOUND (the target of move)', schema: errorSchema },
  409: {
    description:
      'MAILBOX_COMMAND_NOT_ALLOWED (details.status, details.batchStatus, details.allowedCommands), ' +
      'MAILBOX_ALREADY_IN_BATCH, BATCH_ENDPOINTS_DIFFER, BATCH_NOT_EDITABLE or WORKFLOW_NOT_RUNNING',
    schema: errorSchema,
  },
  503: { description: 'TEMPORAL_UNAVAILABLE', schema: errorSchema },
  504: { description: 'COMMAND_TIMEOUT: the workflow did not apply the command in time', schema: errorSchema },
};

const SKIPPED_ITEMS_SHOWN = 1000;

const commandRoute = (
  verb: MailboxCommand,
  summary: string,
  body: z.ZodType | undefined,
  toArgs: (body: unknown) => MailboxCommandArgs,
) =>
  defineRoute({
    method: 'post',
    path: `/mailboxes/{id}/${verb}`,
    operationId: `${verb}Mailbox`,
    summary,
    tag: 'migration users',
    access: 'admin',
    params: mailboxIdParam,
    ...(body ? { body } : {}),
    responses: { 200: { description: 'Applied', schema: mailboxCommandReply }, ...userErrors },
    async handler({ deps, params, actor, body: given }) {
      return { status: 200 as const, body: await runMailboxCommand(deps, actor, params.id, verb, toArgs(given)) };
    },
  });

const none = () => ({});

export const userRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/mailboxes',
    operationId: 'listMigrationUsers',
    summary: 'Migration users across batches: find a mailbox by address, or list a batch',
    tag: 'migration users',
    access: 'viewer',
    query: userQuery,
    responses: {
      200: { description: 'One page', schema: pageOf(migrationUserSchema) },
      404: { description: 'BATCH_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, query }) {
      const batchId = query.batch ? (await findBatch(deps.pool, query.batch)).id : null;
      const { page, pageSize, offset } = paging(query, 100);
      const users = await mailboxUsersPage(
        deps.pool,
        { email: query.email ?? null, batchId, statuses: query.status ?? null },
        { limit: pageSize, offset },
      );
      return {
        status: 200 as const,
        body: { items: users.rows.map((r) => userView(r)), total: users.total, page, pageSize },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/mailboxes/{id}',
    operationId: 'getMigrationUser',
    summary: 'One migration user with its statistics (Get-MigrationUserStatistics), skipped items on request',
    tag: 'migration users',
    access: 'viewer',
    params: mailboxIdParam,
    query: z
      .object({
        includeSkippedItems: queryBoolean
          .optional()
          .meta({ description: `The items it left behind (the first ${SKIPPED_ITEMS_SHOWN})` }),
      })
      .strict(),
    responses: {
      200: {
        description: 'The user',
        schema: migrationUserSchema.extend({
          skippedItems: z.object({ items: z.array(skippedItemSchema), total: z.number().int() }).optional(),
        }),
      },
      404: { description: 'MAILBOX_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, params, query }) {
      const user = await findUser(deps, params.id);
      const live = await queryBatch(deps, user.workflow_id);
      const view = userView(user, live?.status ?? (user.batch_status as BatchStatus));
      if (!query.includeSkippedItems) return { status: 200 as const, body: view };
      const skipped = await skippedItemsPage(deps.pool, user.id, { limit: SKIPPED_ITEMS_SHOWN, offset: 0 });
      return {
        status: 200 as const,
        body: { ...view, skippedItems: { items: skipped.rows.map(skippedItemView), total: skipped.total } },
      };
    },
  }),
  commandRoute('stop', 'Stop this mailbox only; the rest of the batch goes on', undefined, none),
  commandRoute('start', 'Sync this mailbox now (retry a failed one, resync a synced one)', undefined, none),
  commandRoute('resume', 'Resume a stopped or failed mailbox now', undefined, none),
  commandRoute('remove', 'Remove the mailbox from its batch (mail already copied stays)', undefined, none),
  commandRoute('move', 'Move the mailbox to another batch with the same endpoints', moveMailboxBody, (b) => ({
    targetBatch: (b as z.infer<typeof moveMailboxBody>).targetBatch,
  })),
  commandRoute('set', 'Per-mailbox settings that win over the batch (Set-MigrationUser)', setMailboxBody, (b) => ({
    overrides: b as z.infer<typeof setMailboxBody>,
  })),
  commandRoute(
    'verify',
    'Verify the mailbox: compare it on both servers (read-only) and grade it; deep compares full contents',
    verifyBody,
    (b) => ({ deep: (b as z.infer<typeof verifyBody>).deep }),
  ),
  defineRoute({
    method: 'post',
    path: '/mailboxes/{id}/approve-skipped-items',
    operationId: 'approveSkippedItems',
    summary: "Approve the differences of the mailbox's last verification, so Complete goes ahead (audited)",
    tag: 'migration users',
    access: 'admin',
    params: mailboxIdParam,
    responses: {
      200: { description: 'Approved', schema: approvalReply },
      404: { description: 'MAILBOX_NOT_FOUND', schema: errorSchema },
      409: { description: 'NOT_VERIFIED: the mailbox has no verification yet', schema: errorSchema },
    },
    async handler({ deps, params, actor }) {
      return { status: 200 as const, body: await approveSkippedItems(deps, actor, params.id) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/mailboxes/{id}/set-password',
    operationId: 'setMailboxPassword',
    summary: "A new password for the mailbox's source (or destination) login, e.g. after AUTH_FAILED",
    tag: 'migration users',
    access: 'admin',
    params: mailboxIdParam,
    body: mailboxPasswordBody,
    responses: { 200: { description: 'Stored (and resumed)', schema: mailboxPasswordReply }, ...userErrors },
    async handler({ deps, params, actor, body }) {
      return { status: 200 as const, body: await setMailboxPassword(deps, actor, params.id, body) };
    },
  }),
];
