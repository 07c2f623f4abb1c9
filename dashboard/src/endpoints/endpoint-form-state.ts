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
  maxConcurrentMigrations: string;
  maxConcurrentIncrementalSyncs: string;
  /** CalDAV and CardDAV services; empty on create means the provider's (Gmail: Google's), on edit none. */
  caldavUrl: string;
  carddavUrl: string;
}

const DAV_FIELDS = ['caldavUrl', 'carddavUrl'] as const;

export const PROVIDERS = [
  ['generic', 'Generic IMAP'],
  ['dovecot', 'Dovecot'],
  ['gmail', 'Gmail'],
  ['m365', 'Microsoft 365'],
] as const;

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
  maxConcurrentMigrations: '100',
  maxConcurrentIncrementalSyncs: '20',
  caldavUrl: '',
  carddavUrl: '',
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
    maxConcurrentMigrations: String(endpoint.maxConcurrentMigrations),
    maxConcurrentIncrementalSyncs: String(endpoint.maxConcurrentIncrementalSyncs),
    caldavUrl: endpoint.caldavUrl ?? '',
    carddavUrl: endpoint.carddavUrl ?? '',
  };
}

export type EndpointErrors = Partial<Record<keyof EndpointFormState, string>>;

export function validateEndpoint(state: EndpointFormState): EndpointErrors {
  const errors: EndpointErrors = {};
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
  if (state.adminPassword) input.adminPassword = state.adminPassword;
  for (const key of DAV_FIELDS) if (state[key].trim()) input[key] = state[key].trim();
  return input;
}

/** The PATCH body: only what changed (a blank password keeps the stored one). */
export function endpointPatch(state: EndpointFormState, original: EndpointFormState): Partial<EndpointInput> {
  const next = endpointInput(state);
  const before = endpointInput(original);
  const patch: Partial<EndpointInput> = {};
  for (const key of Object.keys(next) as (keyof EndpointInput)[]) {
    if (key === 'type' || key === 'adminPassword') continue;
    if (next[key] !== before[key]) (patch as Record<string, unknown>)[key] = next[key];
  }
  if (state.adminPassword) patch.adminPassword = state.adminPassword;
  // A DAV address cleared on edit removes the service.
  for (const key of DAV_FIELDS) if (state[key].trim() !== original[key].trim()) patch[key] = state[key].trim() || null;
  return patch;
}
