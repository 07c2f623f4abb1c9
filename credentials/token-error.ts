/**
 * Why no access token: `TOKEN_REFUSED` (the provider refused the key, secret, refresh token or subject: a mailbox
 * error, retrying cannot help), `TOKEN_UNAVAILABLE` (the token endpoint could not be reached or failed: transient),
 * `CREDENTIALS_INVALID` (the stored key or settings cannot be used at all). Messages never carry a secret.
 */
export class TokenError extends Error {
  constructor(
    readonly code: 'TOKEN_REFUSED' | 'TOKEN_UNAVAILABLE' | 'CREDENTIALS_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}
