import { z } from 'zod';
import { CONTROL_CHARS, INVISIBLE_CHARS, invisibleCodePoints } from './unsafe-text';

/** Schemas shared by several route groups. */

/**
 * A single-line, trimmed, human-readable text (a name shown to admins): no control characters, and no invisible
 * or bidirectional formatting characters (api/unsafe-text.ts says which and why).
 */
export function plainText(max: number) {
  return z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    .refine((s) => !INVISIBLE_CHARS.test(s), {
      error: (issue) =>
        `must not contain invisible or bidirectional formatting characters (${invisibleCodePoints(String(issue.input))})`,
    });
}

export const uuid = z.uuid('must be a UUID');

/** Batch ids in paths: the batch's UUID, or its name (the CLI and operators use names). */
export const batchRef = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      // A lookup key, not a name shown to anyone: an invisible character only makes it match nothing (404).
      .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters'),
  })
  .strict();
export const idParam = z.object({ id: uuid }).strict();

export const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });

/** Query-string booleans: `true`/`false`/`1`/`0`. */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const pageQuery = {
  page: queryInt(1, 1_000_000).optional(),
  pageSize: queryInt(1, 500).optional(),
};

export function paging(q: { page?: number; pageSize?: number }, defaultSize = 50) {
  const page = q.page ?? 1;
  const pageSize = q.pageSize ?? defaultSize;
  return { page, pageSize, offset: (page - 1) * pageSize };
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code, SCREAMING_SNAKE_CASE' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  });
}

export const emailAddress = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'));
