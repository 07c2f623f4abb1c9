import type { AuthMethod, Endpoint, EndpointInput, Provider, Security } from '../api/types';

export interface EndpointFormState {
  name: string;
  provider: Provider;
  host: string;
  port: string;
  security: Security;
  acceptUntrustedCerts: boolean;
  authMethod: AuthMethod;
  adminUser: string;
  /** Empty on edit means "keep the stored password". */
  adminPassword: string;
  /** Microsoft 365 methods: the directory (tenant), the app (client) id and, optionally, the authority host. */
  tenantId: string;
  clientId: string;
  authorityHost: string;
  /**
   * The secret of a method that mints its tokens: the service-account key JSON (uploaded), the client secret or
   * the refresh token. Empty on edit means "keep the stored one".
   */
  oauthSecret: string;
  maxConcurrentMigrations: string;
  maxConcurrentIncrementalSyncs: string;
  /** CalDAV and CardDAV services; empty on create means the provider's (Gmail: Google's), on edit none. */
  caldavUrl: string;
  carddavUrl: string;
  /** Each rate limit as typed: empty for the provider's default, `none` for no limit, or a figure. */
  limits: Record<LimitKey, string>;
}

type Direction = keyof Endpoint['effectiveRateLimits'];
type LimitName = keyof Endpoint['effectiveRateLimits']['upload'];
export type LimitKey = `${Direction}.${LimitName}`;

/** The rate limit fields, as the form shows them. */
export const LIMITS: readonly (readonly [LimitKey, string])[] = [
  ['download.messagesPerSecond', 'Download: messages per second'],
  ['download.bytesPerSecond', 'Download: bytes per second'],
  ['download.bytesPerDay', 'Download: bytes per day (all mailboxes)'],
  ['download.mailboxBytesPerDay', 'Download: bytes per day per mailbox'],
  ['upload.messagesPerSecond', 'Upload: messages per second'],
  ['upload.bytesPerSecond', 'Upload: bytes per second'],
  ['upload.bytesPerDay', 'Upload: bytes per day (all mailboxes)'],
  ['upload.mailboxBytesPerDay', 'Upload: bytes per day per mailbox'],
];

export const splitKey = (key: LimitKey) => key.split('.') as [Direction, LimitName];

function limitsFromOverrides(overrides: Endpoint['rateLimits']): Record<LimitKey, string> {
  const out = {} as Record<LimitKey, string>;
  for (const [key] of LIMITS) {
    const [direction, name] = splitKey(key);
    const value = overrides[direction]?.[name];
    out[key] = value === undefined ? '' : value === null ? 'none' : String(value);
  }
  return out;
}

function overridesFromLimits(limits: Record<LimitKey, string>): Endpoint['rateLimits'] {
  const out: Endpoint['rateLimits'] = {};
  for (const [key] of LIMITS) {
    const [direction, name] = splitKey(key);
    const text = limits[key].trim();
    if (!text) continue;
    (out[direction] ??= {})[name] = text === 'none' ? null : Number(text);
  }
  return out;
}

const DAV_FIELDS = ['caldavUrl', 'carddavUrl'] as const;

export const PROVIDERS = [
  ['generic', 'Generic IMAP'],
  ['dovecot', 'Dovecot'],
  ['gmail', 'Gmail'],
  ['m365', 'Microsoft 365'],
] as const;

export const AUTH_METHODS = [
  ['plain', 'PLAIN (password)'],
  ['login', 'LOGIN (password)'],
  ['xoauth2', 'XOAUTH2 (access token per mailbox)'],
  ['google-service-account', 'Google service account (domain-wide delegation)'],
  ['m365-client-credentials', 'Microsoft 365 app (client credentials)'],
  ['m365-refresh-token', 'Microsoft 365 refresh token'],
] as const;

/** Whether the method mints each mailbox's token from the endpoint's key or secret. */
export const mintsTokens = (m: AuthMethod) =>
  m === 'google-service-account' || m === 'm365-client-credentials' || m === 'm365-refresh-token';
export const isMicrosoftApp = (m: AuthMethod) => m === 'm365-client-credentials' || m === 'm365-refresh-token';

export const DEFAULT_PORT: Record<Security, number> = { tls: 993, starttls: 143, none: 143 };

export const EMPTY_ENDPOINT: EndpointFormState = {
  name: '',
  provider: 'generic',
  host: '',
  port: '993',
  security: 'tls',
  acceptUntrustedCerts: false,
  authMethod: 'plain',
  adminUser: '',
  adminPassword: '',
  tenantId: '',
  clientId: '',
  authorityHost: '',
  oauthSecret: '',
  maxConcurrentMigrations: '100',
  maxConcurrentIncrementalSyncs: '20',
  caldavUrl: '',
  carddavUrl: '',
  limits: limitsFromOverrides({}),
};

export function formFromEndpoint(endpoint: Endpoint): EndpointFormState {
  return {
    name: endpoint.name,
    provider: endpoint.provider,
    host: endpoint.host,
    port: String(endpoint.port),
    security: endpoint.security,
    acceptUntrustedCerts: endpoint.acceptUntrustedCerts,
    authMethod: endpoint.authMethod,
    adminUser: endpoint.adminUser ?? '',
    adminPassword: '',
    tenantId: endpoint.tenantId ?? '',
    clientId: endpoint.clientId ?? '',
    authorityHost: endpoint.authorityHost ?? '',
    oauthSecret: '',
    maxConcurrentMigrations: String(endpoint.maxConcurrentMigrations),
    maxConcurrentIncrementalSyncs: String(endpoint.maxConcurrentIncrementalSyncs),
    caldavUrl: endpoint.caldavUrl ?? '',
    carddavUrl: endpoint.carddavUrl ?? '',
    limits: limitsFromOverrides(endpoint.rateLimits),
  };
}

export type EndpointErrors = Partial<Record<keyof EndpointFormState, string>>;

/** `stored`: the endpoint already keeps a secret (on edit a blank one keeps it). */
export function validateEndpoint(state: EndpointFormState, stored = false): EndpointErrors {
  const errors: EndpointErrors = {};
  if (mintsTokens(state.authMethod) && !state.oauthSecret && !stored) {
    errors.oauthSecret =
      state.authMethod === 'google-service-account'
        ? "Upload the service account's key (JSON)."
        : state.authMethod === 'm365-client-credentials'
          ? 'Enter the client secret.'
          : 'Enter the refresh token.';
  }
  if (isMicrosoftApp(state.authMethod)) {
    if (!state.tenantId.trim()) errors.tenantId = 'Enter the directory (tenant) id or domain.';
    if (!state.clientId.trim()) errors.clientId = 'Enter the application (client) id.';
  }
  if (!state.name.trim()) errors.name = 'Enter a name.';
  if (!state.host.trim()) errors.host = 'Enter the server host name or IP address.';
  const port = Number(state.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) errors.port = 'Enter a port from 1 to 65535.';
  for (const key of ['maxConcurrentMigrations', 'maxConcurrentIncrementalSyncs'] as const) {
    const value = Number(state[key]);
    if (!Number.isInteger(value) || value < 1) errors[key] = 'Enter a whole number, 1 or more.';
  }
  for (const key of DAV_FIELDS) {
    const value = state[key].trim();
    if (value && !/^https?:\/\/[^\s/?#]+\S*$/i.test(value)) errors[key] = 'Enter an http:// or https:// address.';
  }
  const badLimit = LIMITS.find(([key]) => {
    const text = state.limits[key].trim();
    return text !== '' && text !== 'none' && !(Number(text) > 0);
  });
  if (badLimit) errors.limits = `${badLimit[1]}: enter a number above 0, none, or leave it empty.`;
  return errors;
}

/** The full settings (create, and the unsaved connection test). */
export function endpointInput(state: EndpointFormState): EndpointInput {
  const input: EndpointInput = {
    name: state.name.trim(),
    type: 'imap',
    provider: state.provider,
    host: state.host.trim(),
    port: Number(state.port),
    security: state.security,
    acceptUntrustedCerts: state.acceptUntrustedCerts,
    authMethod: state.authMethod,
    adminUser: state.adminUser.trim() || null,
    maxConcurrentMigrations: Number(state.maxConcurrentMigrations),
    maxConcurrentIncrementalSyncs: Number(state.maxConcurrentIncrementalSyncs),
    rateLimits: overridesFromLimits(state.limits),
  };
  if (state.adminPassword && !mintsTokens(state.authMethod)) input.adminPassword = state.adminPassword;
  if (isMicrosoftApp(state.authMethod)) {
    input.tenantId = state.tenantId.trim() || null;
    input.clientId = state.clientId.trim() || null;
    input.authorityHost = state.authorityHost.trim() || null;
  }
  Object.assign(input, secretOf(state));
  for (const key of DAV_FIELDS) if (state[key].trim()) input[key] = state[key].trim();
  return input;
}

const WRITE_ONLY = ['adminPassword', 'serviceAccountKey', 'clientSecret', 'refreshToken'] as const;

/** The form's minting secret as the field its method sends it in; nothing when blank. */
function secretOf(state: EndpointFormState): Partial<EndpointInput> {
  if (!state.oauthSecret) return {};
  switch (state.authMethod) {
    case 'google-service-account':
      return { serviceAccountKey: state.oauthSecret };
    case 'm365-client-credentials':
      return { clientSecret: state.oauthSecret };
    case 'm365-refresh-token':
      return { refreshToken: state.oauthSecret };
    default:
      return {};
  }
}

/** The PATCH body: only what changed (a blank password keeps the stored one). */
export function endpointPatch(state: EndpointFormState, original: EndpointFormState): Partial<EndpointInput> {
  const next = endpointInput(state);
  const before = endpointInput(original);
  const patch: Partial<EndpointInput> = {};
  for (const key of Object.keys(next) as (keyof EndpointInput)[]) {
    if (key === 'type' || (WRITE_ONLY as readonly string[]).includes(key)) continue;
    if (JSON.stringify(next[key]) !== JSON.stringify(before[key])) (patch as Record<string, unknown>)[key] = next[key];
  }
  if (state.adminPassword && !mintsTokens(state.authMethod)) patch.adminPassword = state.adminPassword;
  // A DAV address cleared on edit removes the service.
  for (const key of DAV_FIELDS) if (state[key].trim() !== original[key].trim()) patch[key] = state[key].trim() || null;
  return { ...patch, ...secretOf(state) };
}

/** The limits in effect in one direction, for the details view: `bytes per second 5000000; …`, or `none`. */
export function limitsInEffect(endpoint: Endpoint, direction: Direction): string {
  const parts = LIMITS.flatMap(([key, label]) => {
    const [d, name] = splitKey(key);
    const value = endpoint.effectiveRateLimits[d][name];
    return d === direction && value !== null ? [`${label.slice(label.indexOf(': ') + 2)} ${value}`] : [];
  });
  return parts.join('; ') || 'none';
}
