import { listAuditRows } from '../../db/audit';
import { auditEntrySchema, listAuditQuery } from '../contract/audit';
import { defineRoute, type AnyRoute } from '../route';
import { pageOf, paging } from '../schemas';

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
