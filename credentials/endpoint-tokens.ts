import type { EndpointRow } from '../db/endpoints';
import { isMintedTokenMethod } from '../domain/endpoint-auth';
import { secretContext, type SecretBox } from '../secrets/secret-box';
import type { TokenEndpoint } from './access-tokens';
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
