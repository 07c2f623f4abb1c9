import { z } from 'zod';
import { pingDatabase } from '../../db/health';
import { POSTGRES_COMPONENT, TEMPORAL_COMPONENT } from '../../observability/component-status';
import type { ApiDeps } from '../deps';
import { type checkSchema, healthSchema, type workersSchema } from '../contract/system';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../route';
import { errorSchema } from '../schemas';

async function timed(fn: () => Promise<unknown>, timeoutMs: number): Promise<z.infer<typeof checkSchema>> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Date.now() - started };
  } catch (err) {
    // The message of a connection error names host and port at most; never credentials.
    return { ok: false, latencyMs: Date.now() - started, message: (err as Error).message.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

/** Temporal's TaskQueueType values (temporal.api.enums.v1.TaskQueueType), for describeTaskQueue. */
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/**
 * Whether a worker polls the task queue, for workflow tasks and for activity tasks: without one, batches are
 * accepted but never progress. Reported, never gating: the API works without a worker.
 */
async function checkWorkers(deps: ApiDeps, timeoutMs: number): Promise<z.infer<typeof workersSchema>> {
  const identities = { workflow: new Set<string>(), activity: new Set<string>() };
  const check = await timed(async () => {
    const describe = (taskQueueType: typeof TASK_QUEUE_TYPE_WORKFLOW | typeof TASK_QUEUE_TYPE_ACTIVITY) =>
      deps.temporal.workflowService.describeTaskQueue({
        namespace: deps.temporal.options.namespace,
        taskQueue: { name: deps.taskQueue },
        taskQueueType,
      });
    const [workflow, activity] = await Promise.all([
      describe(TASK_QUEUE_TYPE_WORKFLOW),
      describe(TASK_QUEUE_TYPE_ACTIVITY),
    ]);
    for (const p of workflow.pollers ?? []) identities.workflow.add(p.identity ?? '');
    for (const p of activity.pollers ?? []) identities.activity.add(p.identity ?? '');
  }, timeoutMs);
  const pollers = new Set([...identities.workflow, ...identities.activity]).size;
  if (!check.ok) return { ...check, pollers };
  if (identities.workflow.size === 0 || identities.activity.size === 0) {
    return {
      ok: false,
      latencyMs: check.latencyMs,
      pollers,
      message: `no worker is polling task queue ${deps.taskQueue}: batches will not progress`,
    };
  }
  return { ...check, pollers };
}

export const systemRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary:
      'Checks PostgreSQL and Temporal, reports whether a worker polls the task queue and since when each part is up or down (no authentication)',
    tag: 'system',
    access: 'public',
    responses: {
      200: {
        description: 'PostgreSQL and Temporal reachable; `checks.workers.ok` is false when no worker polls (not a 503)',
        schema: healthSchema,
      },
      503: {
        description: 'One of them is not reachable (code UNHEALTHY, details.checks and details.components)',
        schema: errorSchema,
      },
    },
    async handler({ deps }) {
      const checkedAt = Date.now();
      const [postgres, temporal, workers] = await Promise.all([
        timed(() => pingDatabase(deps.pool), 3000),
        timed(() => deps.temporal.workflowService.getSystemInfo({}), 3000),
        checkWorkers(deps, 3000),
      ]);
      const checks = { postgres, temporal, workers };
      for (const [component, check] of [
        [POSTGRES_COMPONENT, postgres],
        [TEMPORAL_COMPONENT, temporal],
      ] as const) {
        if (check.ok) deps.components?.up(component, checkedAt);
        else deps.components?.down(component, check.message, checkedAt);
      }
      const components = deps.components?.all() ?? {};
      if (!postgres.ok || !temporal.ok) {
        const failing = [postgres.ok ? null : 'PostgreSQL', temporal.ok ? null : 'Temporal'].filter(Boolean);
        throw new ApiError('UNHEALTHY', `${failing.join(' and ')} not reachable`, { checks, components });
      }
      return { status: 200 as const, body: { status: 'ok' as const, checks, components } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/me',
    operationId: 'getMe',
    summary: 'The caller: token name, owner and role',
    tag: 'system',
    access: 'viewer',
    responses: {
      200: {
        description: 'The token used',
        schema: z.object({
          name: z.string(),
          owner: z.string(),
          role: z.enum(['admin', 'viewer']),
          tokenId: z.string(),
        }),
      },
    },
    async handler({ actor }) {
      return {
        status: 200 as const,
        body: { name: actor.name, owner: actor.owner, role: actor.role, tokenId: actor.tokenId },
      };
    },
  }),
];
