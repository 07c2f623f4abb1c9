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
    maxConcurrentMigrations: String(endpoint.maxConcurrentMigrations),
    maxConcurrentIncrementalSyncs: String(endpoint.maxConcurrentIncrementalSyncs),
    caldavUrl: endpoint.caldavUrl ?? '',
    carddavUrl: endpoint.carddavUrl ?? '',
    limits: limitsFromOverrides(endpoint.rateLimits),
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
    if (JSON.stringify(next[key]) !== JSON.stringify(before[key])) (patch as Record<string, unknown>)[key] = next[key];
  }
  if (state.adminPassword) patch.adminPassword = state.adminPassword;
  // A DAV address cleared on edit removes the service.
  for (const key of DAV_FIELDS) if (state[key].trim() !== original[key].trim()) patch[key] = state[key].trim() || null;
  return patch;
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
