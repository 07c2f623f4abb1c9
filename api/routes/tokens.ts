import { z } from 'zod';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../route';
import { idParam, plainText } from '../schemas';
import { insertToken, tokenView, type TokenRow } from '../tokens-store';

const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    role: z.enum(['admin', 'viewer']),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });

const createTokenBody = z
  .object({
    name: plainText(100),
    owner: plainText(254).meta({ description: 'The person or system the token belongs to (recorded as "created by")' }),
    role: z.enum(['admin', 'viewer']),
  })
  .strict();

const ROW = 'id, name, owner, role, created_at, last_used_at, revoked_at';

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
      const { rows } = await deps.pool.query<TokenRow>(`select ${ROW} from api_tokens order by created_at desc, id`);
      return { status: 200, body: { items: rows.map(tokenView) } };
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
      deps.logger.info('api token created', { tokenId: row.id, name: row.name, role: row.role });
      return { status: 201, body: { ...tokenView(row), token } };
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
      const client = await deps.pool.connect();
      try {
        await client.query('begin');
        // Serialise revocations so two requests cannot revoke the last two admin tokens at once.
        await client.query(`select pg_advisory_xact_lock(hashtext('mailferry.api_tokens'))`);
        const { rows } = await client.query<TokenRow>(`select ${ROW} from api_tokens where id = $1`, [params.id]);
        const row = rows[0];
        if (!row) throw new ApiError('TOKEN_NOT_FOUND', 'no token with this id');
        if (row.revoked_at) {
          await client.query('commit');
          return { status: 200, body: tokenView(row) };
        }
        if (row.role === 'admin') {
          const { rows: others } = await client.query(
            `select 1 from api_tokens where role = 'admin' and revoked_at is null and id <> $1 limit 1`,
            [params.id],
          );
          if (others.length === 0) {
            throw new ApiError('LAST_ADMIN_TOKEN', 'this is the last admin token; create another admin token first');
          }
        }
        const { rows: revoked } = await client.query<TokenRow>(
          `update api_tokens set revoked_at = now() where id = $1 returning ${ROW}`,
          [params.id],
        );
        await client.query('commit');
        deps.logger.info('api token revoked', { tokenId: params.id });
        return { status: 200, body: tokenView(revoked[0]!) };
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  }),
];
