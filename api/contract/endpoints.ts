import { z } from 'zod';
import { serviceAccountKey } from '../../credentials/service-account-key';
import { AUTH_METHODS } from '../../domain/endpoint-auth';
import { plainText } from '../schemas';

/** The endpoint side of the API's contract: what an admin sends to create, edit or test one, and what it gets. */

const PROVIDERS = ['generic', 'dovecot', 'gmail', 'm365'] as const;
const SECURITY = ['none', 'starttls', 'tls'] as const;

/** Host names, IPv4 and IPv6 literals; nothing with spaces, slashes, schemes or control characters. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;

/** A password or token sent to the API (write-only: never stored in clear, logged or returned). */
export const password = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .refine((s) => !/[\u0000\r\n]/.test(s), 'must not contain NUL or line breaks');

const limit = (description: string) => z.number().positive().max(1e15).nullable().optional().meta({ description });

/** One direction's limits: a figure overrides the provider's default, null removes it, absent keeps it. */
const directionLimits = z
  .object({
    messagesPerSecond: limit('Messages per second over all mailboxes of the endpoint'),
    bytesPerSecond: limit('Bytes per second over all mailboxes of the endpoint'),
    bytesPerDay: limit('Bytes per UTC day over all mailboxes of the endpoint'),
    mailboxBytesPerDay: limit("Bytes per UTC day of each mailbox (Gmail's IMAP quotas are per user)"),
  })
  .strict();

/**
 * Rate limits the syncs of every batch and worker respect together (imap/rate-limit.ts): `download` from the
 * endpoint as a source, `upload` to it as a destination.
 */
export const rateLimitOverrides = z
  .object({ download: directionLimits.optional(), upload: directionLimits.optional() })
  .strict()
  .meta({
    id: 'RateLimitOverrides',
    description: "Overrides of the provider's published limits; the whole object is replaced on PATCH",
  });

const effectiveDirection = z.object({
  messagesPerSecond: z.number().nullable(),
  bytesPerSecond: z.number().nullable(),
  bytesPerDay: z.number().nullable(),
  mailboxBytesPerDay: z.number().nullable(),
});
/** A CalDAV or CardDAV service: a host (`https://dav.example.com`, discovery finds the home) or a full URL. */
const davUrl = z
  .string()
  .trim()
  .max(2048)
  .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/i, 'must be an http:// or https:// URL')
  .nullable()
  .optional();
/** Write-only, never returned: secrets of the methods that mint their tokens (sealed in the endpoint's row). */
const writeOnly = { writeOnly: true } as const;
const singleLine = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max)
    .refine((s) => !/[\u0000\r\n]/.test(s), 'must not contain NUL or line breaks');

/** A Google service-account key file's JSON text, as downloaded (write-only). */
export const serviceAccountKeyText = z
  .string()
  .max(16_384)
  .refine((s) => {
    try {
      return serviceAccountKey.safeParse(JSON.parse(s)).success;
    } catch {
      return false;
    }
  }, 'must be a Google service-account key JSON (type service_account, client_email, private_key)');

/** The settings of the methods that mint their tokens (domain/endpoint-auth.ts). */
const oauthFields = {
  serviceAccountKey: serviceAccountKeyText
    .nullable()
    .optional()
    .meta({
      description: 'google-service-account: the key JSON of a service account with domain-wide delegation; write-only',
      ...writeOnly,
    }),
  tenantId: plainText(256).nullable().optional().meta({ description: 'm365-*: the directory (tenant) id or domain' }),
  clientId: plainText(256).nullable().optional().meta({ description: 'm365-*: the application (client) id' }),
  clientSecret: password
    .nullable()
    .optional()
    .meta({ description: 'm365-client-credentials: the client secret; write-only', ...writeOnly }),
  refreshToken: singleLine(16_384)
    .nullable()
    .optional()
    .meta({ description: 'm365-refresh-token: a refresh token of the admin app; write-only', ...writeOnly }),
  authorityHost: z
    .url({ protocol: /^https$/, error: 'must be an https URL' })
    .nullable()
    .optional()
    .meta({ description: 'm365-*: the authority host; default https://login.microsoftonline.com' }),
};

const settingsFields = {
  type: z.literal('imap').default('imap'),
  provider: z.enum(PROVIDERS).default('generic'),
  host: z.string().trim().min(1).max(253).regex(HOST, 'must be a host name or IP address'),
  port: z.number().int().min(1).max(65535),
  security: z.enum(SECURITY),
  acceptUntrustedCerts: z.boolean().default(false),
  authMethod: z.enum(AUTH_METHODS).default('plain'),
  adminUser: plainText(256)
    .nullable()
    .optional()
    .meta({ description: 'Admin (master) user; null when each mailbox logs in itself' }),
  adminPassword: password.nullable().optional().meta({ description: 'Write-only; never returned', writeOnly: true }),
  ...oauthFields,
  maxConcurrentMigrations: z.number().int().min(1).max(10_000).default(100),
  maxConcurrentIncrementalSyncs: z.number().int().min(1).max(10_000).default(20),
  rateLimits: rateLimitOverrides.default({}),
  caldavUrl: davUrl.meta({
    description:
      "CalDAV service for the mailboxes' calendars: a host (discovery through /.well-known) or a URL; null: none. Default: the provider's (Gmail: Google's CalDAV)",
  }),
  carddavUrl: davUrl.meta({
    description: "CardDAV service for the mailboxes' address books, like caldavUrl. Default: the provider's",
  }),
};

/** How to reach a server, without a name or limits: an endpoint not saved (yet), as an analysis takes it. */
export const connectionSettings = z
  .object({
    type: settingsFields.type,
    provider: settingsFields.provider,
    host: settingsFields.host,
    port: settingsFields.port,
    security: settingsFields.security,
    acceptUntrustedCerts: settingsFields.acceptUntrustedCerts,
    authMethod: settingsFields.authMethod,
    adminUser: settingsFields.adminUser,
    adminPassword: settingsFields.adminPassword,
    ...oauthFields,
  })
  .strict()
  .meta({ id: 'ConnectionSettings' });

const testMailbox = z
  .object({ userName: plainText(256), password: password.nullable().optional() })
  .strict()
  .nullable()
  .optional()
  .meta({ description: 'A mailbox to log in as during the test (never stored)' });

export const createEndpointBody = z
  .object({ name: plainText(100), ...settingsFields, testMailbox })
  .strict()
  .meta({ id: 'EndpointCreate' });
export const testEndpointBody = z.object({ name: plainText(100).optional(), ...settingsFields, testMailbox }).strict();
export const testSavedBody = z.object({ testMailbox }).strict();
export const patchEndpointBody = z
  .object({
    name: plainText(100).optional(),
    type: z.literal('imap').optional(),
    provider: settingsFields.provider.unwrap().optional(),
    host: settingsFields.host.optional(),
    port: settingsFields.port.optional(),
    security: settingsFields.security.optional(),
    acceptUntrustedCerts: z.boolean().optional(),
    authMethod: settingsFields.authMethod.unwrap().optional(),
    adminUser: settingsFields.adminUser,
    adminPassword: settingsFields.adminPassword,
    ...oauthFields,
    maxConcurrentMigrations: z.number().int().min(1).max(10_000).optional(),
    maxConcurrentIncrementalSyncs: z.number().int().min(1).max(10_000).optional(),
    rateLimits: rateLimitOverrides.optional().meta({
      description: 'Replaces the overrides; allowed while running batches use the endpoint (their syncs follow)',
    }),
    caldavUrl: settingsFields.caldavUrl,
    carddavUrl: settingsFields.carddavUrl,
  })
  .strict();

export const endpointSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.literal('imap'),
    provider: z.enum(PROVIDERS),
    host: z.string(),
    port: z.number(),
    security: z.enum(SECURITY),
    acceptUntrustedCerts: z.boolean(),
    authMethod: z.enum(AUTH_METHODS),
    adminUser: z.string().nullable(),
    hasAdminPassword: z.boolean().meta({
      description:
        'Whether a secret is stored: the admin password or token, the service-account key, client secret or refresh token',
    }),
    tenantId: z.string().nullable(),
    clientId: z.string().nullable(),
    authorityHost: z.string().nullable(),
    maxConcurrentMigrations: z.number(),
    maxConcurrentIncrementalSyncs: z.number(),
    rateLimits: rateLimitOverrides,
    effectiveRateLimits: z
      .object({ download: effectiveDirection, upload: effectiveDirection })
      .meta({ description: "The limits the syncs respect: the provider's, with the overrides; null = none" }),
    caldavUrl: z.string().nullable(),
    carddavUrl: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Endpoint' });

export const testResultSchema = z
  .object({ ok: z.boolean(), code: z.string(), message: z.string() })
  .meta({ id: 'ConnectionTestResult' });
