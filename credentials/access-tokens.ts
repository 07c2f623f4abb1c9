import { createHash } from 'node:crypto';
import type * as Msal from '@azure/msal-node';
import type { INetworkModule } from '@azure/msal-node';
import type * as GoogleAuth from 'google-auth-library';
import type { MintedTokenMethod } from '../domain/endpoint-auth';
import { parseServiceAccountKey } from './service-account-key';
import { TokenError } from './token-error';

/**
 * Access tokens an endpoint mints itself, per user, for IMAP XOAUTH2 and for Google's CalDAV/CardDAV (a bearer
 * token): from a Google service account with domain-wide delegation (`google-auth-library`, the user as the JWT's
 * subject) or Microsoft 365 OAuth client credentials or a refresh token (`@azure/msal-node`).
 *
 * Tokens are cached in the process per (endpoint, user) and minted again before they expire: a connection opened
 * at any time of a weeks-long migration gets a token with life left. They are never written anywhere: not to
 * PostgreSQL, a workflow's input or history, a log line or an API reply.
 */

/** Google's scopes: the mail over IMAP, and the calendars and contacts over CalDAV/CardDAV (one token for all). */
export const GOOGLE_SCOPES = [
  'https://mail.google.com/',
  'https://www.googleapis.com/auth/calendar',
  'https://www.googleapis.com/auth/carddav',
];
/** Exchange Online's IMAP, as an application (client credentials) or a delegated user (refresh token). */
export const M365_SCOPES = ['https://outlook.office365.com/.default'];
export const M365_AUTHORITY = 'https://login.microsoftonline.com';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** What minting needs of an endpoint: its method, its opened secret and the OAuth settings (the `endpoints` row). */
export interface TokenEndpoint {
  /** The endpoint's id; tokens of unsaved settings (a connection test) are cached under `null` too, by secret. */
  id: string | null;
  authMethod: MintedTokenMethod;
  /** The service-account key JSON, the client secret or the refresh token. */
  secret: string;
  /** Microsoft 365: the directory (tenant) id or domain. */
  tenantId: string | null;
  /** Microsoft 365: the application (client) id. */
  clientId: string | null;
  /** Microsoft 365: the authority host; null for https://login.microsoftonline.com. */
  authority: string | null;
}

/** Why no token: see credentials/token-error.ts. */
export { TokenError };

/** An access token and when it expires (epoch ms). */
export interface MintedToken {
  token: string;
  expiresAt: number;
}

export interface AccessTokens {
  /**
   * A bearer token for `user` (IMAP XOAUTH2, CalDAV/CardDAV `Authorization: Bearer`), from the cache or minted,
   * with at least 5 minutes (or a third of its lifetime) left. Throws {@link TokenError}.
   */
  accessTokenFor(endpoint: TokenEndpoint, user: string): Promise<string>;
  /** The same, with its expiry: a connection opened with it knows when its token ran out. */
  tokenFor(endpoint: TokenEndpoint, user: string): Promise<MintedToken>;
}

export interface AccessTokenOptions {
  /** Mint again when less than this is left (capped at a third of the token's lifetime). Default 5 minutes. */
  refreshMarginMs?: number;
  /** msal's HTTP client; Node's fetch when unset (tests pass one that trusts their token endpoint's certificate). */
  msalNetworkClient?: INetworkModule;
  now?: () => number;
  /**
   * A saved endpoint's refresh token was replaced: Microsoft answers each refresh with a new refresh token, and
   * the old one lasts only to its own expiry (90 days after it was issued), so a migration that runs longer must
   * keep the newest. The caller stores it sealed in place of the old (its failures are its own to report); this
   * process uses the new one from now on either way.
   */
  onRefreshTokenRotated?: (endpointId: string, refreshToken: string) => Promise<void>;
}

interface CacheEntry {
  pending: Promise<MintedToken>;
  minted: MintedToken | null;
  refreshAt: number;
}

const fingerprint = (e: TokenEndpoint) =>
  createHash('sha256')
    .update(JSON.stringify([e.authMethod, e.secret, e.tenantId, e.clientId, e.authority]))
    .digest('base64url');

/** How an HTTP failure of a token endpoint counts: a 4xx refused the credentials; anything else may pass later. */
function tokenError(provider: string, status: number | undefined, reason: string): TokenError {
  if (status !== undefined && status >= 400 && status < 500) {
    return new TokenError('TOKEN_REFUSED', `${provider} refused to issue an access token: ${reason}`);
  }
  return new TokenError('TOKEN_UNAVAILABLE', `${provider}'s token endpoint failed: ${reason}`);
}

// The two providers' libraries are loaded when an endpoint first mints a token, not with the module: together about
// 10 MB of memory that a worker whose endpoints take passwords never needs (docs/deployment.md, "Memory").
/* eslint-disable @typescript-eslint/no-require-imports */
const googleAuth = () => require('google-auth-library') as typeof GoogleAuth;
const msal = () => require('@azure/msal-node') as typeof Msal;
/* eslint-enable @typescript-eslint/no-require-imports */

async function mintGoogle(endpoint: TokenEndpoint, user: string): Promise<Minted> {
  const key = parseServiceAccountKey(endpoint.secret);
  const { gaxios, JWT } = googleAuth();
  // google-auth-library posts to Google's token URL; a key whose token_uri says otherwise is honoured.
  // Node's own fetch: gaxios would otherwise import node-fetch dynamically, which a VM sandbox (jest) refuses.
  const transporter = new gaxios.Gaxios({ fetchImplementation: fetch });
  if (key.token_uri && key.token_uri !== GOOGLE_TOKEN_URL) {
    const tokenUri = key.token_uri;
    transporter.interceptors.request.add({
      resolved: async (opts) => (String(opts.url) === GOOGLE_TOKEN_URL ? { ...opts, url: new URL(tokenUri) } : opts),
    });
  }
  const jwt = new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: GOOGLE_SCOPES,
    subject: user,
    transporter,
  });
  try {
    const credentials = await jwt.authorize();
    if (!credentials.access_token) throw new TokenError('TOKEN_UNAVAILABLE', 'Google answered without a token');
    return { minted: { token: credentials.access_token, expiresAt: credentials.expiry_date ?? Date.now() + 60_000 } };
  } catch (err) {
    if (err instanceof TokenError) throw err;
    const e = err as { status?: number; response?: { status?: number; data?: { error?: string } }; code?: string };
    const status = e.response?.status ?? e.status;
    const reason = e.response?.data?.error ?? (status ? `HTTP ${status}` : (e.code ?? 'no answer'));
    throw tokenError('Google', status, `${reason} (service account ${key.client_email}, user ${user})`);
  }
}

/** A minted token, and the refresh token Microsoft handed back with it when it differs from the one used. */
interface Minted {
  minted: MintedToken;
  refreshToken?: string;
}

/** The refresh token msal cached from the answer (msal keeps it to itself; its cache's JSON holds it). */
function refreshTokenIn(app: { getTokenCache(): { serialize(): string } }): string | undefined {
  const cache = JSON.parse(app.getTokenCache().serialize()) as { RefreshToken?: Record<string, { secret?: string }> };
  return Object.values(cache.RefreshToken ?? {})[0]?.secret;
}

async function mintMicrosoft(endpoint: TokenEndpoint, network: INetworkModule | undefined): Promise<Minted> {
  if (!endpoint.tenantId || !endpoint.clientId) {
    throw new TokenError('CREDENTIALS_INVALID', 'a Microsoft 365 endpoint needs a tenant id and a client id');
  }
  const host = endpoint.authority ?? M365_AUTHORITY;
  const auth = {
    clientId: endpoint.clientId,
    authority: `${host.replace(/\/+$/, '')}/${endpoint.tenantId}`,
    ...(endpoint.authority ? { knownAuthorities: [new URL(host).host] } : {}),
  };
  const system = network ? { networkClient: network } : {};
  const { ConfidentialClientApplication, PublicClientApplication } = msal();
  try {
    let refreshToken: string | undefined;
    let result;
    if (endpoint.authMethod === 'm365-client-credentials') {
      result = await new ConfidentialClientApplication({
        auth: { ...auth, clientSecret: endpoint.secret },
        system,
      }).acquireTokenByClientCredential({ scopes: M365_SCOPES, skipCache: true });
    } else {
      const app = new PublicClientApplication({ auth, system });
      result = await app.acquireTokenByRefreshToken({
        refreshToken: endpoint.secret,
        scopes: M365_SCOPES,
        forceCache: false,
      });
      refreshToken = refreshTokenIn(app);
    }
    if (!result?.accessToken) throw new TokenError('TOKEN_UNAVAILABLE', 'Microsoft answered without a token');
    return {
      minted: { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 60_000 },
      ...(refreshToken && refreshToken !== endpoint.secret ? { refreshToken } : {}),
    };
  } catch (err) {
    if (err instanceof TokenError) throw err;
    const e = err as { errorCode?: string; status?: number; subError?: string };
    // msal's server errors (invalid_client, invalid_grant, unauthorized_client…) are refusals.
    const refused = /^(invalid_|unauthorized_|interaction_required|consent_required)/.test(e.errorCode ?? '');
    throw tokenError(
      'Microsoft',
      refused ? 400 : e.status,
      `${e.errorCode ?? 'no answer'} (tenant ${endpoint.tenantId}, client ${endpoint.clientId})`,
    );
  }
}

/** Replaced refresh tokens remembered per endpoint (the oldest forgotten first), so a sync that began with one mints with the newest. */
const MAX_REPLACED_REFRESH_TOKENS = 100;

/** The process's token cache; one per worker (and one per API process, for connection tests). */
export function createAccessTokens(options: AccessTokenOptions = {}): AccessTokens {
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  /** Per saved endpoint, the refresh tokens it has replaced in this process and the newest one. */
  const rotated = new Map<string, { replaced: Set<string>; newest: string }>();

  /** The endpoint with its newest refresh token: a sync holds the settings it started with. */
  function current(endpoint: TokenEndpoint): TokenEndpoint {
    const known = endpoint.id === null ? undefined : rotated.get(endpoint.id);
    return known?.replaced.has(endpoint.secret) ? { ...endpoint, secret: known.newest } : endpoint;
  }

  async function mint(endpoint: TokenEndpoint, user: string): Promise<MintedToken> {
    const { minted, refreshToken } =
      endpoint.authMethod === 'google-service-account'
        ? await mintGoogle(endpoint, user)
        : await mintMicrosoft(endpoint, options.msalNetworkClient);
    if (refreshToken && endpoint.id !== null) {
      const known = rotated.get(endpoint.id) ?? { replaced: new Set<string>(), newest: endpoint.secret };
      known.replaced.add(endpoint.secret);
      known.replaced.add(known.newest);
      // Every mint may rotate: keep the replaced tokens a running sync can still hold, not all of them for ever.
      for (const old of known.replaced) {
        if (known.replaced.size <= MAX_REPLACED_REFRESH_TOKENS) break;
        known.replaced.delete(old);
      }
      known.newest = refreshToken;
      rotated.set(endpoint.id, known);
      await options.onRefreshTokenRotated?.(endpoint.id, refreshToken);
    }
    return minted;
  }

  function sweep() {
    const t = now();
    for (const [key, entry] of cache) if (entry.minted && entry.minted.expiresAt <= t) cache.delete(key);
  }

  async function tokenFor(settings: TokenEndpoint, user: string): Promise<MintedToken> {
    const endpoint = current(settings);
    // Client credentials act as the application: one token serves every mailbox of the endpoint.
    const subject = endpoint.authMethod === 'm365-client-credentials' ? '' : user.toLowerCase();
    const key = `${endpoint.id ?? ''}\u0000${subject}\u0000${fingerprint(endpoint)}`;
    const cached = cache.get(key);
    if (cached && (cached.minted === null || now() < cached.refreshAt)) return cached.pending;
    sweep();
    const pending = mint(endpoint, user);
    const entry: CacheEntry = { pending, minted: null, refreshAt: 0 };
    cache.set(key, entry);
    try {
      const minted = await pending;
      const issued = now();
      entry.minted = minted;
      entry.refreshAt = minted.expiresAt - Math.min(margin, (minted.expiresAt - issued) / 3);
      return minted;
    } catch (err) {
      if (cache.get(key) === entry) cache.delete(key);
      throw err;
    }
  }

  return { tokenFor, accessTokenFor: async (endpoint, user) => (await tokenFor(endpoint, user)).token };
}
