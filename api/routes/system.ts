import { z } from 'zod';
import { pingDatabase } from '../../db/health';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../route';
import { errorSchema } from '../schemas';

const checkSchema = z.object({ ok: z.boolean(), latencyMs: z.number(), message: z.string().optional() });

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

export const systemRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Checks PostgreSQL and Temporal (no authentication)',
    tag: 'system',
    access: 'public',
    responses: {
      200: {
        description: 'Both reachable',
        schema: z.object({
          status: z.literal('ok'),
          checks: z.object({ postgres: checkSchema, temporal: checkSchema }),
        }),
      },
      503: { description: 'One of them is not reachable (code UNHEALTHY, details.checks)', schema: errorSchema },
    },
    async handler({ deps }) {
      const [postgres, temporal] = await Promise.all([
        timed(() => pingDatabase(deps.pool), 3000),
        timed(() => deps.temporal.workflowService.getSystemInfo({}), 3000),
      ]);
      const checks = { postgres, temporal };
      if (!postgres.ok || !temporal.ok) {
        const failing = [postgres.ok ? null : 'PostgreSQL', temporal.ok ? null : 'Temporal'].filter(Boolean);
        throw new ApiError('UNHEALTHY', `${failing.join(' and ')} not reachable`, { checks });
      }
      return { status: 200 as const, body: { status: 'ok' as const, checks } };
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
