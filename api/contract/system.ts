import { z } from 'zod';

/** Reply schemas of the system routes (also the OpenAPI document's, and the dashboard's types). */

export const checkSchema = z.object({ ok: z.boolean(), latencyMs: z.number(), message: z.string().optional() });

export const workersSchema = checkSchema.extend({
  pollers: z
    .number()
    .int()
    .meta({ description: 'Distinct workers polling the task queue (workflow or activity tasks)' }),
});

/** GET /health's 200; a 503 UNHEALTHY carries the same `checks` in its details. */
export const healthSchema = z.object({
  status: z.literal('ok'),
  checks: z.object({ postgres: checkSchema, temporal: checkSchema, workers: workersSchema }),
});
