/**
 * How an endpoint logs its mailboxes in. `plain` and `login` send a password; `xoauth2` an access token the admin
 * pasted in (it expires within the hour). The others mint per-user access tokens as the sync needs them, so a
 * migration of weeks outlives every token: `google-service-account` (a service-account key with domain-wide
 * delegation, the mailbox as the subject), `m365-client-credentials` (tenant, client id and client secret) and
 * `m365-refresh-token` (tenant, client id and a refresh token).
 */
export const AUTH_METHODS = [
  'plain',
  'login',
  'xoauth2',
  'google-service-account',
  'm365-client-credentials',
  'm365-refresh-token',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The methods whose tokens the product mints itself (credentials/access-tokens.ts). */
export const MINTED_TOKEN_METHODS = [
  'google-service-account',
  'm365-client-credentials',
  'm365-refresh-token',
] as const;
export type MintedTokenMethod = (typeof MINTED_TOKEN_METHODS)[number];

export function isMintedTokenMethod(method: AuthMethod): method is MintedTokenMethod {
  return (MINTED_TOKEN_METHODS as readonly string[]).includes(method);
}
