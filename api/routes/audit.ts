import { z } from 'zod';
import { listAuditRows } from '../../db/audit';
import { defineRoute, type AnyRoute } from '../route';
import { isoDateTime, pageOf, pageQuery, paging } from '../schemas';
import { CONTROL_CHARS } from '../unsafe-text';

/** A filter value: one line of at most `max` characters, no control characters. */
const filterText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // A lookup key, like batchRef: an invisible character only makes it match nothing.
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

export const listAuditQuery = z
  .object({
    batch: filterText(200).optional().meta({ description: 'A batch id or name (also of a removed batch)' }),
    actor: filterText(254).optional().meta({ description: 'Who gave the command (a token owner, or "policy")' }),
    command: filterText(64).optional().meta({ description: 'create, start, stop, complete, edit, remove, ...' }),
    outcome: z.enum(['accepted', 'rejected']).optional(),
    since: isoDateTime.optional().meta({ description: 'Entries at or after this time (ISO 8601)' }),
    until: isoDateTime.optional().meta({ description: 'Entries before this time (ISO 8601)' }),
    ...pageQuery,
  })
  .strict();

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    batchId: z.string().nullable(),
    batchName: z.string().nullable(),
    actor: z.string(),
    command: z.string(),
    outcome: z.enum(['accepted', 'rejected']),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/audit',
    operationId: 'listAudit',
    summary: 'The audit log: every command given to a batch, accepted or rejected, and who gave it; newest first',
    tag: 'audit',
    access: 'viewer',
    query: listAuditQuery,
    responses: { 200: { description: 'One page of audit entries, newest first', schema: pageOf(auditEntrySchema) } },
    async handler({ deps, query }) {
      const { page, pageSize, offset } = paging(query, 50);
      const { rows, total } = await listAuditRows(deps.pool, {
        batch: query.batch ?? null,
        actor: query.actor ?? null,
        command: query.command ?? null,
        outcome: query.outcome ?? null,
        since: query.since ?? null,
        until: query.until ?? null,
        limit: pageSize,
        offset,
      });
      return {
        status: 200 as const,
        body: {
          items: rows.map((r) => ({
            id: r.id,
            at: r.at.toISOString(),
            batchId: r.batch_id,
            batchName: r.batch_name,
            actor: r.actor,
            command: r.command,
            outcome: r.outcome,
            detail: r.detail,
          })),
          total,
          page,
          pageSize,
        },
      };
    },
  }),
];
