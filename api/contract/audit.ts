import { z } from 'zod';
import { isoDateTime, pageQuery } from '../schemas';
import { CONTROL_CHARS } from '../unsafe-text';

/** Request and response schemas of the audit route (also the OpenAPI document's, and the dashboard's types). */

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
