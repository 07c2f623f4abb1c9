import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Logger } from '../observability/logger';
import { classifyImapError, ImapSyncError, type Side } from './errors';
import { imapflowLogger } from './imapflow-log';
import { PROVIDER_PROFILES, type ImapProvider } from './provider-profiles';

/** How to reach an IMAP server: the `endpoints` row, without its admin secret. */
export interface ImapEndpoint {
  host: string;
  port: number;
  /** `none`: cleartext; `starttls`: upgrade required; `tls`: implicit TLS (usually port 993). */
  security: 'none' | 'starttls' | 'tls';
  /** Certificates are verified unless this is true. */
  acceptUntrustedCerts: boolean;
  /** `xoauth2`: the secret, or the token `credentials.accessToken` gives, is an OAuth access token. */
  authMethod: 'plain' | 'login' | 'xoauth2';
  provider: ImapProvider;
}

/** An access token minted for a connection, and when it expires (epoch ms). */
export interface ConnectionToken {
  token: string;
  expiresAt: number;
}

/**
 * Who to log in as. `secret` is a password, or an OAuth access token with `xoauth2`. With `admin`, the admin
 * (master) user logs in on behalf of `user`: Dovecot's `user*admin` form for `generic`/`dovecot` endpoints, the
 * SASL PLAIN authorization identity otherwise.
 */
export interface ImapCredentials {
  user: string;
  secret?: string;
  admin?: { user: string; secret: string };
  /**
   * With `xoauth2`: asked for a token at every login instead of `secret`, so each (re)connection of a long sync
   * gets one with life left. Throws an error whose `code` is TOKEN_UNAVAILABLE (retried) or anything else (the
   * token was refused: TOKEN_REFUSED).
   */
  accessToken?: () => Promise<ConnectionToken>;
}

export interface ConnectOptions {
  side: Side;
  /** Socket inactivity timeout; default 5 minutes. */
  socketTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Where imapflow's own log goes (at debug, see imap/imapflow-log.ts); nowhere without one. */
  logger?: Logger;
  /** Aborting closes the connection while it is still being opened (a server that never greets holds it 30 s). */
  signal?: AbortSignal;
}

/** Separator of Dovecot's master-user login (`auth_master_user_separator`). */
export const MASTER_USER_SEPARATOR = '*';

export function imapFlowOptions(
  endpoint: ImapEndpoint,
  credentials: ImapCredentials,
  opts: ConnectOptions,
): ImapFlowOptions {
  let auth: ImapFlowOptions['auth'];
  if (credentials.admin) {
    const masterStyle = PROVIDER_PROFILES[endpoint.provider].adminLogin === 'separator';
    auth = masterStyle
      ? { user: `${credentials.user}${MASTER_USER_SEPARATOR}${credentials.admin.user}`, pass: credentials.admin.secret }
      : {
          user: credentials.admin.user,
          pass: credentials.admin.secret,
          authzid: credentials.user,
          loginMethod: 'AUTH=PLAIN',
        };
    if (endpoint.authMethod === 'xoauth2') auth = { user: credentials.user, accessToken: credentials.admin.secret };
  } else if (endpoint.authMethod === 'xoauth2') {
    auth = { user: credentials.user, accessToken: credentials.secret ?? '' };
  } else {
    auth = {
      user: credentials.user,
      pass: credentials.secret ?? '',
      loginMethod: endpoint.authMethod === 'login' ? 'AUTH=LOGIN' : undefined,
    };
  }
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    doSTARTTLS: endpoint.security === 'starttls' ? true : endpoint.security === 'none' ? false : undefined,
    tls: { rejectUnauthorized: !endpoint.acceptUntrustedCerts },
    auth,
    logger: opts.logger ? imapflowLogger(opts.logger.child({ component: 'imapflow', side: opts.side })) : false,
    // Raw socket data would carry every message and, in an AUTHENTICATE exchange, the credentials.
    logRaw: false,
    disableAutoIdle: true,
    // Compression costs CPU on both ends for little gain on a LAN; keep it for remote providers.
    disableCompression: !PROVIDER_PROFILES[endpoint.provider].compression,
    socketTimeout: opts.socketTimeoutMs ?? 5 * 60_000,
    connectionTimeout: opts.connectionTimeoutMs ?? 30_000,
    greetingTimeout: 30_000,
    clientInfo: { name: 'mailferry' },
  } as ImapFlowOptions;
}

/**
 * Opens and logs in an imapflow connection. Errors are classified ({@link classifyImapError}); the connection's
 * own `error` events are swallowed (the pending command rejects with the same error).
 */
/** When the token a connection logged in with expires; connections without one are not here. */
const tokenExpiry = new WeakMap<ImapFlow, number>();

/**
 * Whether the connection logged in with a token that has expired since. The session may well go on (IMAP checks
 * a token at login; Gmail and Dovecot keep the session, Exchange Online ends it), so the sync replaces such a
 * connection between folders rather than wait for the server to drop it mid-folder.
 */
export function tokenExpired(client: ImapFlow, now = Date.now()): boolean {
  const expiresAt = tokenExpiry.get(client);
  return expiresAt !== undefined && expiresAt <= now;
}

async function withToken(credentials: ImapCredentials, side: Side): Promise<[ImapCredentials, number | undefined]> {
  if (!credentials.accessToken) return [credentials, undefined];
  try {
    const { token, expiresAt } = await credentials.accessToken();
    return [{ user: credentials.user, secret: token }, expiresAt];
  } catch (err) {
    const code = (err as { code?: string }).code === 'TOKEN_UNAVAILABLE' ? 'TOKEN_UNAVAILABLE' : 'TOKEN_REFUSED';
    throw new ImapSyncError(code, `${side}: no access token for ${credentials.user}: ${(err as Error).message}`, {
      side,
    });
  }
}

export async function openImapConnection(
  endpoint: ImapEndpoint,
  credentials: ImapCredentials,
  opts: ConnectOptions,
): Promise<ImapFlow> {
  const [login, expiresAt] = await withToken(credentials, opts.side);
  const client = new ImapFlow(imapFlowOptions(endpoint, login, opts));
  if (expiresAt !== undefined) tokenExpiry.set(client, expiresAt);
  client.on('error', () => undefined);
  const onAbort = () => client.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new ImapSyncError('CANCELLED', 'cancelled before the connection opened');
    await client.connect();
  } catch (err) {
    client.close();
    throw classifyImapError(err, opts.side, true);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return client;
}

/** Logs out politely, or drops the socket when the server is gone. Never throws. */
export async function closeImapConnection(client: ImapFlow | null | undefined): Promise<void> {
  if (!client) return;
  try {
    if (client.usable) {
      await Promise.race([client.logout(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    }
  } catch {
    // already gone
  } finally {
    client.close();
  }
}
