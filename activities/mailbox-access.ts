import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { loadSyncEndpoint, type SyncEndpointRow, type SyncTargetRow } from '../db/mailbox-sync-rows';
import type { MailboxErrorCode } from '../domain/mailbox-errors';
import type { ImapCredentials, ImapEndpoint } from '../imap/connection';
import { TokenError, type AccessTokens } from '../credentials/access-tokens';
import { tokenEndpointOf } from '../credentials/endpoint-tokens';
import { isMintedTokenMethod } from '../domain/endpoint-auth';
import { secretContext, type SecretBox } from '../secrets/secret-box';

/**
 * How an activity reaches both servers of a mailbox: its endpoints' rows and its secrets, opened by id. What the
 * sync and the verification share.
 */

/** Both sides of a mailbox, ready for the IMAP engine, with the endpoints' rows (leases, component status). */
export interface MailboxSides {
  /** Source, destination. */
  endpointRows: [SyncEndpointRow, SyncEndpointRow];
  source: { endpoint: ImapEndpoint; credentials: ImapCredentials };
  destination: { endpoint: ImapEndpoint; credentials: ImapCredentials };
}

/** Why a mailbox's sides cannot be opened: a code of domain/mailbox-errors.ts and a message naming the problem. */
export interface MailboxAccessFailure {
  code: MailboxErrorCode;
  message: string;
}

const endpointOf = (e: SyncEndpointRow): ImapEndpoint => ({
  host: e.host,
  port: e.port,
  security: e.security,
  acceptUntrustedCerts: e.accept_untrusted_certs,
  authMethod: isMintedTokenMethod(e.auth_method) ? 'xoauth2' : e.auth_method,
  provider: e.provider,
});

class CredentialsMissing extends Error {
  readonly code: MailboxErrorCode = 'CREDENTIALS_MISSING';
}

function credentialsFor(
  secretBox: SecretBox,
  tokens: AccessTokens,
  endpoint: SyncEndpointRow,
  user: string,
  sealed: Buffer | null,
  context: string,
): ImapCredentials {
  // Minted tokens: each login asks the worker's cache, so reconnects of a long sync get a fresh token.
  const minting = tokenEndpointOf(secretBox, endpoint);
  if (minting) return { user, accessToken: () => tokens.tokenFor(minting, user) };
  if (sealed) return { user, secret: secretBox.open(sealed, context) };
  if (endpoint.admin_user && endpoint.admin_secret) {
    return {
      user,
      admin: {
        user: endpoint.admin_user,
        secret: secretBox.open(endpoint.admin_secret, secretContext.endpointAdmin(endpoint.id)),
      },
    };
  }
  throw new CredentialsMissing(`no password for ${user} and no admin login on the endpoint`);
}

/** Loads the mailbox's endpoints and opens its secrets (its own passwords, else the endpoints' admin logins). */
export async function openMailboxSides(
  pool: Pool,
  secretBox: SecretBox,
  tokens: AccessTokens,
  mb: SyncTargetRow,
): Promise<MailboxSides | MailboxAccessFailure> {
  const [srcEp, dstEp] = await Promise.all([
    loadSyncEndpoint(pool, mb.source_endpoint_id),
    loadSyncEndpoint(pool, mb.destination_endpoint_id),
  ]);
  if (!srcEp || !dstEp) return { code: 'ENDPOINT_NOT_FOUND', message: 'the batch endpoint no longer exists' };
  try {
    return {
      endpointRows: [srcEp, dstEp],
      source: {
        endpoint: endpointOf(srcEp),
        credentials: credentialsFor(
          secretBox,
          tokens,
          srcEp,
          mb.source_user,
          mb.source_secret,
          secretContext.mailboxSource(mb.batch_id, mb.email),
        ),
      },
      destination: {
        endpoint: endpointOf(dstEp),
        credentials: credentialsFor(
          secretBox,
          tokens,
          dstEp,
          mb.destination_user ?? mb.email,
          mb.destination_secret,
          secretContext.mailboxDestination(mb.batch_id, mb.email),
        ),
      },
    };
  } catch (err) {
    const code: MailboxErrorCode =
      err instanceof CredentialsMissing ? err.code : err instanceof TokenError ? 'TOKEN_REFUSED' : 'SECRET_UNREADABLE';
    return { code, message: (err as Error).message };
  }
}

export function isAccessFailure(x: MailboxSides | MailboxAccessFailure): x is MailboxAccessFailure {
  return 'code' in x;
}

/** The activity's context, or null outside a worker (a direct call). */
export function currentContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}
