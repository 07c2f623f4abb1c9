import { z } from 'zod';

/** Reply schemas of the system routes (also the OpenAPI document's, and the dashboard's types). */

export const checkSchema = z.object({ ok: z.boolean(), latencyMs: z.number(), message: z.string().optional() });

export const workersSchema = checkSchema.extend({
  pollers: z
    .number()
    .int()
    .meta({ description: 'Distinct workers polling the task queue (workflow or activity tasks)' }),
});

/** A part the process depends on, as the process has seen it (observability/component-status.ts). */
export const componentSchema = z.object({
  ok: z.boolean(),
  since: z.string().meta({ description: 'ISO time it went down or came back (or was first checked)' }),
  lastError: z.string().optional().meta({ description: 'While down: why' }),
});

/** GET /health's 200; a 503 UNHEALTHY carries the same `checks` in its details. */
export const healthSchema = z.object({
  status: z.literal('ok'),
  checks: z.object({ postgres: checkSchema, temporal: checkSchema, workers: workersSchema }),
  components: z.record(z.string(), componentSchema).meta({
    description: "By name (PostgreSQL, Temporal, 'IMAP server <endpoint> (host:port)'): up or down since when",
  }),
});
