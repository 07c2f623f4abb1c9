import type { Pool } from 'pg';
import { replaceRefreshToken, type EndpointRow } from '../db/endpoints';
import type { Logger } from '../observability/logger';
import { isMintedTokenMethod } from '../domain/endpoint-auth';
import { secretContext, type SecretBox } from '../secrets/secret-box';
import { createAccessTokens, type AccessTokenOptions, type AccessTokens, type TokenEndpoint } from './access-tokens';
import { TokenError } from './token-error';

/** The columns of an `endpoints` row that minting reads. */
export type TokenEndpointRow = Pick<
  EndpointRow,
  'id' | 'auth_method' | 'admin_secret' | 'oauth_tenant_id' | 'oauth_client_id' | 'oauth_authority'
>;

/**
 * A saved endpoint's minting settings, its sealed key or secret opened; null when the endpoint does not mint its
 * tokens (password or pasted-token methods). What the IMAP sync and the DAV engine hand to
 * `AccessTokens.accessTokenFor(endpoint, user)` for a mailbox's bearer token.
 */
export function tokenEndpointOf(secretBox: SecretBox, row: TokenEndpointRow): TokenEndpoint | null {
  if (!isMintedTokenMethod(row.auth_method)) return null;
  if (!row.admin_secret) {
    throw new TokenError('CREDENTIALS_INVALID', `the endpoint's ${row.auth_method} credentials are not stored`);
  }
  return {
    id: row.id,
    authMethod: row.auth_method,
    secret: secretBox.open(row.admin_secret, secretContext.endpointAdmin(row.id)),
    tenantId: row.oauth_tenant_id,
    clientId: row.oauth_client_id,
    authority: row.oauth_authority,
  };
}

/**
 * A worker's token cache, which keeps each saved endpoint's newest Microsoft refresh token sealed in its row: the
 * next process starts from it, not from one that may have expired meanwhile. A failed write is logged (the token
 * is never) and the sync goes on with the new token in memory.
 */
export function createEndpointAccessTokens(
  deps: { pool: Pool; secretBox: SecretBox; logger: Pick<Logger, 'warn'> },
  options: Omit<AccessTokenOptions, 'onRefreshTokenRotated'> = {},
): AccessTokens {
  return createAccessTokens({
    ...options,
    async onRefreshTokenRotated(endpointId, refreshToken) {
      const sealed = deps.secretBox.seal(refreshToken, secretContext.endpointAdmin(endpointId));
      await replaceRefreshToken(deps.pool, endpointId, sealed).catch((err: unknown) => {
        deps.logger.warn('the new Microsoft refresh token could not be stored; the old one is kept', {
          endpointId,
          error: (err as Error).message,
        });
      });
    },
  });
}
