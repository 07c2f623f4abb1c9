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
}

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
  };
  if (state.adminPassword && !mintsTokens(state.authMethod)) input.adminPassword = state.adminPassword;
  if (isMicrosoftApp(state.authMethod)) {
    input.tenantId = state.tenantId.trim() || null;
    input.clientId = state.clientId.trim() || null;
    input.authorityHost = state.authorityHost.trim() || null;
  }
  Object.assign(input, secretOf(state));
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
    if (next[key] !== before[key]) (patch as Record<string, unknown>)[key] = next[key];
  }
  if (state.adminPassword && !mintsTokens(state.authMethod)) patch.adminPassword = state.adminPassword;
  return { ...patch, ...secretOf(state) };
}
