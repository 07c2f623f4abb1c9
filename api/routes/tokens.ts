import { z } from 'zod';
import { findTokenRow, listTokenRows, liveAdminTokenExists, lockTokens, revokeTokenRow } from '../../db/tokens';
import { withTransaction } from '../../db/transaction';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../route';
import { idParam, isoDateTime, plainText } from '../schemas';
import { insertToken, tokenView } from '../tokens-store';

const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    role: z.enum(['admin', 'viewer']),
    createdAt: z.string(),
    lastUsedAt: z
      .string()
      .nullable()
      .meta({ description: 'When the token last authenticated a request (kept to the minute); null: never' }),
    revokedAt: z.string().nullable(),
    expiresAt: z.string().nullable().meta({ description: 'After this time the token is refused (TOKEN_EXPIRED)' }),
  })
  .meta({ id: 'ApiToken' });

const createTokenBody = z
  .object({
    name: plainText(100),
    owner: plainText(254).meta({ description: 'The person or system the token belongs to (recorded as "created by")' }),
    role: z.enum(['admin', 'viewer']),
    expiresAt: isoDateTime
      .nullable()
      .optional()
      .refine((at) => !at || Date.parse(at) > Date.now(), 'must be in the future')
      .meta({ description: 'When the token stops working; omitted or null: never' }),
  })
  .strict();

export const tokenRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/tokens',
    operationId: 'listTokens',
    summary: 'API tokens (never their values)',
    tag: 'tokens',
    access: 'admin',
    responses: { 200: { description: 'Tokens, newest first', schema: z.object({ items: z.array(tokenSchema) }) } },
    async handler({ deps }) {
      const rows = await listTokenRows(deps.pool);
      return { status: 200 as const, body: { items: rows.map(tokenView) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/tokens',
    operationId: 'createToken',
    summary: 'Creates a token; the response is the only time its value is shown',
    tag: 'tokens',
    access: 'admin',
    body: createTokenBody,
    responses: {
      201: { description: 'Created', schema: tokenSchema.extend({ token: z.string() }) },
    },
    async handler({ deps, body }) {
      const { row, token } = await insertToken(deps.pool, body);
      deps.logger.info('api token created', {
        tokenId: row.id,
        name: row.name,
        role: row.role,
        expiresAt: row.expires_at?.toISOString() ?? null,
      });
      return { status: 201 as const, body: { ...tokenView(row), token } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/tokens/{id}',
    operationId: 'revokeToken',
    summary: 'Revokes a token (at once; it stays listed as revoked)',
    tag: 'tokens',
    access: 'admin',
    params: idParam,
    responses: { 200: { description: 'Revoked (or already revoked)', schema: tokenSchema } },
    async handler({ deps, params }) {
      const outcome = await withTransaction(deps.pool, async (client) => {
        // Serialise revocations so two requests cannot revoke the last two admin tokens at once.
        await lockTokens(client);
        const row = await findTokenRow(client, params.id);
        if (!row) throw new ApiError('TOKEN_NOT_FOUND', 'no token with this id');
        if (row.revoked_at) return { row, revokedNow: false };
        if (row.role === 'admin' && !(await liveAdminTokenExists(client, params.id))) {
          throw new ApiError('LAST_ADMIN_TOKEN', 'this is the last admin token; create another admin token first');
        }
        return { row: await revokeTokenRow(client, params.id), revokedNow: true };
      });
      if (outcome.revokedNow) deps.logger.info('api token revoked', { tokenId: params.id });
      return { status: 200 as const, body: tokenView(outcome.row) };
    },
  }),
];
