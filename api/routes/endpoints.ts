import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  batchesUsingEndpoint,
  deleteEndpointRow,
  endpointNameTaken,
  findEndpointRow,
  insertEndpointRow,
  listEndpointRows,
  updateEndpointRow,
  type EndpointRow,
} from '../../db/endpoints';
import type { TokenEndpoint } from '../../credentials/access-tokens';
import { tokenEndpointOf } from '../../credentials/endpoint-tokens';
import { RUNNING_STATUSES } from '../../domain/batch-status';
import { PROVIDER_PROFILES } from '../../imap/provider-profiles';
import { effectiveRateLimits } from '../../imap/rate-limit';
import { isMintedTokenMethod, type AuthMethod } from '../../domain/endpoint-auth';
import { secretContext } from '../../secrets/secret-box';
import type { ApiDeps, ConnectionTestResult, ConnectionTestSettings } from '../deps';
import { ApiError } from '../errors';
import { defineRoute, type AnyRoute } from '../route';
import {
  type connectionSettings,
  createEndpointBody,
  endpointSchema,
  patchEndpointBody,
  testEndpointBody,
  testResultSchema,
  testSavedBody,
} from '../contract/endpoints';
import { errorSchema, idParam, queryBoolean } from '../schemas';

export type { EndpointRow };

export function endpointView(row: EndpointRow): z.infer<typeof endpointSchema> {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    provider: row.provider,
    host: row.host,
    port: row.port,
    security: row.security,
    acceptUntrustedCerts: row.accept_untrusted_certs,
    authMethod: row.auth_method,
    adminUser: row.admin_user,
    hasAdminPassword: row.admin_secret !== null,
    tenantId: row.oauth_tenant_id,
    clientId: row.oauth_client_id,
    authorityHost: row.oauth_authority,
    maxConcurrentMigrations: row.max_concurrent_migrations,
    maxConcurrentIncrementalSyncs: row.max_concurrent_incremental_syncs,
    rateLimits: row.rate_limits,
    effectiveRateLimits: effectiveRateLimits(PROVIDER_PROFILES[row.provider].rateLimits, row.rate_limits),
    caldavUrl: row.caldav_url,
    carddavUrl: row.carddav_url,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function findEndpoint(deps: ApiDeps, id: string): Promise<EndpointRow> {
  const row = await findEndpointRow(deps.pool, id);
  if (!row) throw new ApiError('ENDPOINT_NOT_FOUND', 'no endpoint with this id', { id });
  return row;
}

/** Runs the injected connection test; a tester that throws counts as a failed test, never a 500. */
async function runTest(deps: ApiDeps, settings: ConnectionTestSettings): Promise<ConnectionTestResult> {
  try {
    const result = await deps.testConnection(settings);
    return { ok: result.ok, code: result.code, message: result.message };
  } catch (err) {
    deps.logger.warn('connection test threw', {
      host: settings.host,
      port: settings.port,
      error: (err as Error).message,
    });
    return { ok: false, code: 'TEST_ERROR', message: 'the connection test could not run' };
  }
}

type SecretFields = Pick<
  z.output<typeof connectionSettings>,
  'adminPassword' | 'serviceAccountKey' | 'clientSecret' | 'refreshToken'
>;
type OAuthFields = Pick<z.output<typeof connectionSettings>, 'tenantId' | 'clientId' | 'authorityHost'>;

/** The body's field that carries the secret `method` keeps sealed (`admin_secret`); undefined when not sent. */
function secretOfBody(method: AuthMethod, body: SecretFields): string | null | undefined {
  switch (method) {
    case 'google-service-account':
      return body.serviceAccountKey;
    case 'm365-client-credentials':
      return body.clientSecret;
    case 'm365-refresh-token':
      return body.refreshToken;
    default:
      return body.adminPassword;
  }
}

/** Refuses a minted-token method without what it needs: the key, or the tenant, client id and secret. */
function requireComplete(method: AuthMethod, secret: string | null | undefined, o: OAuthFields): void {
  if (!isMintedTokenMethod(method)) return;
  const missing =
    method === 'google-service-account'
      ? [secret ? null : 'serviceAccountKey']
      : [
          o.tenantId ? null : 'tenantId',
          o.clientId ? null : 'clientId',
          secret ? null : method === 'm365-client-credentials' ? 'clientSecret' : 'refreshToken',
        ];
  const names = missing.filter((m) => m !== null);
  if (names.length > 0) {
    throw new ApiError('ENDPOINT_CREDENTIALS_INCOMPLETE', `authMethod ${method} needs ${names.join(', ')}`, {
      missing: names,
    });
  }
}

/** Minting settings of unsaved or edited settings; null for password and pasted-token methods. */
function oauthOf(
  id: string | null,
  method: AuthMethod,
  secret: string | null | undefined,
  o: OAuthFields,
): TokenEndpoint | null {
  if (!isMintedTokenMethod(method)) return null;
  requireComplete(method, secret, o);
  return {
    id,
    authMethod: method,
    secret: secret ?? '',
    tenantId: o.tenantId ?? null,
    clientId: o.clientId ?? null,
    authority: o.authorityHost ?? null,
  };
}

/** Unsaved settings from a request (an endpoint to create or test, or one side of an analysis). */
export function settingsOf(body: z.output<typeof connectionSettings>): ConnectionTestSettings {
  const minted = isMintedTokenMethod(body.authMethod);
  return {
    host: body.host,
    port: body.port,
    security: body.security,
    acceptUntrustedCerts: body.acceptUntrustedCerts,
    authMethod: body.authMethod,
    provider: body.provider,
    oauth: oauthOf(null, body.authMethod, secretOfBody(body.authMethod, body), body),
    adminUser: body.adminUser ?? null,
    adminPassword: minted ? null : (body.adminPassword ?? null),
  };
}

/** A saved endpoint's settings, its admin password (or minting secret) opened. */
export function rowSettings(deps: ApiDeps, row: EndpointRow): ConnectionTestSettings {
  const oauth = tokenEndpointOf(deps.secretBox, row);
  return {
    host: row.host,
    port: row.port,
    security: row.security,
    acceptUntrustedCerts: row.accept_untrusted_certs,
    authMethod: row.auth_method,
    provider: row.provider,
    oauth,
    adminUser: row.admin_user,
    adminPassword:
      row.admin_secret && !oauth ? deps.secretBox.open(row.admin_secret, secretContext.endpointAdmin(row.id)) : null,
    caldavUrl: row.caldav_url,
    carddavUrl: row.carddav_url,
  };
}

/** The DAV services of a new endpoint: as given (null: none), else its provider's (Gmail: Google's). */
function davUrlsOf(body: Pick<z.output<typeof createEndpointBody>, 'provider' | 'caldavUrl' | 'carddavUrl'>): {
  caldavUrl: string | null;
  carddavUrl: string | null;
} {
  const profile = PROVIDER_PROFILES[body.provider];
  return {
    caldavUrl: body.caldavUrl === undefined ? profile.caldavUrl : body.caldavUrl,
    carddavUrl: body.carddavUrl === undefined ? profile.carddavUrl : body.carddavUrl,
  };
}

/** Batches that use the endpoint, optionally only the running ones. */
async function batchesUsing(deps: ApiDeps, id: string, runningOnly: boolean) {
  return batchesUsingEndpoint(deps.pool, id, runningOnly ? RUNNING_STATUSES : null);
}

function testFailed(result: ConnectionTestResult): ApiError {
  return new ApiError('ENDPOINT_TEST_FAILED', `connection test failed: ${result.message}`, { test: result });
}

const skipTestQuery = z.object({ skipTest: queryBoolean.optional() }).strict();

export const endpointRoutes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/endpoints',
    operationId: 'listEndpoints',
    summary: 'Migration endpoints',
    tag: 'endpoints',
    access: 'viewer',
    responses: { 200: { description: 'All endpoints by name', schema: z.object({ items: z.array(endpointSchema) }) } },
    async handler({ deps }) {
      const rows = await listEndpointRows(deps.pool);
      return { status: 200 as const, body: { items: rows.map(endpointView) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/endpoints',
    operationId: 'createEndpoint',
    runsConnectionTest: true,
    summary: 'Creates an endpoint after a successful connection test (unless skipTest=true)',
    tag: 'endpoints',
    access: 'admin',
    query: skipTestQuery,
    body: createEndpointBody,
    responses: {
      201: { description: 'Created', schema: endpointSchema },
      409: { description: 'ENDPOINT_NAME_TAKEN', schema: errorSchema },
      422: {
        description: 'ENDPOINT_TEST_FAILED (details.test) or ENDPOINT_CREDENTIALS_INCOMPLETE (details.missing)',
        schema: errorSchema,
      },
    },
    async handler({ deps, body, query }) {
      if (await endpointNameTaken(deps.pool, body.name, null))
        throw new ApiError('ENDPOINT_NAME_TAKEN', `an endpoint named "${body.name}" exists`);
      const dav = davUrlsOf(body);
      const plain = secretOfBody(body.authMethod, body);
      requireComplete(body.authMethod, plain, body);
      if (!query.skipTest) {
        const result = await runTest(deps, { ...settingsOf(body), ...dav, testMailbox: body.testMailbox ?? null });
        if (!result.ok) throw testFailed(result);
      }
      const id = randomUUID();
      const secret = plain ? deps.secretBox.seal(plain, secretContext.endpointAdmin(id)) : null;
      const row = await insertEndpointRow(deps.pool, id, {
        name: body.name,
        type: body.type,
        provider: body.provider,
        host: body.host,
        port: body.port,
        security: body.security,
        accept_untrusted_certs: body.acceptUntrustedCerts,
        auth_method: body.authMethod,
        admin_user: body.adminUser ?? null,
        admin_secret: secret,
        oauth_tenant_id: body.tenantId ?? null,
        oauth_client_id: body.clientId ?? null,
        oauth_authority: body.authorityHost ?? null,
        max_concurrent_migrations: body.maxConcurrentMigrations,
        max_concurrent_incremental_syncs: body.maxConcurrentIncrementalSyncs,
        rate_limits: body.rateLimits,
        caldav_url: dav.caldavUrl,
        carddav_url: dav.carddavUrl,
      });
      deps.logger.info('endpoint created', { endpointId: id, name: body.name, host: body.host });
      return { status: 201 as const, body: endpointView(row) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/endpoints/test',
    operationId: 'testUnsavedEndpoint',
    runsConnectionTest: true,
    summary: 'Tests unsaved endpoint settings',
    tag: 'endpoints',
    access: 'admin',
    body: testEndpointBody,
    responses: {
      200: { description: 'The test result (ok false when the test failed)', schema: testResultSchema },
      422: { description: 'ENDPOINT_CREDENTIALS_INCOMPLETE (details.missing)', schema: errorSchema },
    },
    async handler({ deps, body }) {
      return {
        status: 200 as const,
        body: await runTest(deps, { ...settingsOf(body), ...davUrlsOf(body), testMailbox: body.testMailbox ?? null }),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/endpoints/{id}',
    operationId: 'getEndpoint',
    summary: 'One endpoint, with the batches that use it',
    tag: 'endpoints',
    access: 'viewer',
    params: idParam,
    responses: {
      200: {
        description: 'The endpoint',
        schema: endpointSchema.extend({
          batches: z.array(z.object({ id: z.string(), name: z.string(), status: z.string() })),
        }),
      },
      404: { description: 'ENDPOINT_NOT_FOUND', schema: errorSchema },
    },
    async handler({ deps, params }) {
      const row = await findEndpoint(deps, params.id);
      return { status: 200 as const, body: { ...endpointView(row), batches: await batchesUsing(deps, row.id, false) } };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/endpoints/{id}',
    operationId: 'updateEndpoint',
    runsConnectionTest: true,
    summary:
      'Edits an endpoint no running batch uses (its rate limits alone also while one does); connection changes are tested unless skipTest=true',
    tag: 'endpoints',
    access: 'admin',
    params: idParam,
    query: skipTestQuery,
    body: patchEndpointBody,
    responses: {
      200: { description: 'Updated', schema: endpointSchema },
      409: { description: 'ENDPOINT_IN_USE (details.batches) or ENDPOINT_NAME_TAKEN', schema: errorSchema },
      422: { description: 'ENDPOINT_TEST_FAILED or ENDPOINT_CREDENTIALS_INCOMPLETE', schema: errorSchema },
    },
    async handler({ deps, params, query, body }) {
      const row = await findEndpoint(deps, params.id);
      // Rate limits alone may change under running batches: their syncs read them at every reservation.
      const onlyRateLimits = Object.keys(body).every((k) => k === 'rateLimits');
      const running = onlyRateLimits ? [] : await batchesUsing(deps, row.id, true);
      if (running.length > 0) {
        throw new ApiError(
          'ENDPOINT_IN_USE',
          `endpoint is used by running batches: ${running.map((b) => b.name).join(', ')}`,
          {
            batches: running,
          },
        );
      }
      if (body.name !== undefined) {
        if (await endpointNameTaken(deps.pool, body.name, row.id))
          throw new ApiError('ENDPOINT_NAME_TAKEN', `an endpoint named "${body.name}" exists`);
      }
      const current = rowSettings(deps, row);
      const method = body.authMethod ?? current.authMethod;
      const keepsSecret = isMintedTokenMethod(method) === isMintedTokenMethod(current.authMethod);
      const sent = secretOfBody(method, body);
      // A secret not sent is kept while the method keeps its kind (password or minted); never carried across.
      const plainSecret =
        sent !== undefined ? sent : keepsSecret ? (current.oauth?.secret ?? current.adminPassword ?? null) : null;
      const oauthFields: OAuthFields = {
        tenantId: body.tenantId === undefined ? row.oauth_tenant_id : body.tenantId,
        clientId: body.clientId === undefined ? row.oauth_client_id : body.clientId,
        authorityHost: body.authorityHost === undefined ? row.oauth_authority : body.authorityHost,
      };
      const next: ConnectionTestSettings = {
        host: body.host ?? current.host,
        port: body.port ?? current.port,
        security: body.security ?? current.security,
        acceptUntrustedCerts: body.acceptUntrustedCerts ?? current.acceptUntrustedCerts,
        authMethod: method,
        provider: body.provider ?? current.provider,
        oauth: oauthOf(row.id, method, plainSecret, oauthFields),
        adminUser: body.adminUser === undefined ? current.adminUser : body.adminUser,
        adminPassword: isMintedTokenMethod(method) ? null : plainSecret,
        caldavUrl: body.caldavUrl === undefined ? current.caldavUrl : body.caldavUrl,
        carddavUrl: body.carddavUrl === undefined ? current.carddavUrl : body.carddavUrl,
      };
      const connectionChanged =
        JSON.stringify(next.oauth ?? null) !== JSON.stringify(current.oauth ?? null) ||
        (
          [
            'host',
            'port',
            'security',
            'acceptUntrustedCerts',
            'authMethod',
            'provider',
            'adminUser',
            'adminPassword',
            'caldavUrl',
            'carddavUrl',
          ] as const
        ).some((k) => next[k] !== current[k]);
      if (connectionChanged && !query.skipTest) {
        const result = await runTest(deps, next);
        if (!result.ok) throw testFailed(result);
      }
      const secret =
        sent === undefined && keepsSecret
          ? row.admin_secret
          : plainSecret
            ? deps.secretBox.seal(plainSecret, secretContext.endpointAdmin(row.id))
            : null;
      const updated = await updateEndpointRow(deps.pool, row.id, {
        name: body.name ?? row.name,
        provider: next.provider,
        host: next.host,
        port: next.port,
        security: next.security,
        accept_untrusted_certs: next.acceptUntrustedCerts,
        auth_method: next.authMethod,
        admin_user: next.adminUser ?? null,
        admin_secret: secret,
        oauth_tenant_id: oauthFields.tenantId ?? null,
        oauth_client_id: oauthFields.clientId ?? null,
        oauth_authority: oauthFields.authorityHost ?? null,
        max_concurrent_migrations: body.maxConcurrentMigrations ?? row.max_concurrent_migrations,
        max_concurrent_incremental_syncs: body.maxConcurrentIncrementalSyncs ?? row.max_concurrent_incremental_syncs,
        rate_limits: body.rateLimits ?? row.rate_limits,
        caldav_url: next.caldavUrl ?? null,
        carddav_url: next.carddavUrl ?? null,
      });
      deps.logger.info('endpoint updated', { endpointId: row.id });
      return { status: 200 as const, body: endpointView(updated) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/endpoints/{id}',
    operationId: 'deleteEndpoint',
    summary: 'Deletes an endpoint no batch uses',
    tag: 'endpoints',
    access: 'admin',
    params: idParam,
    responses: {
      204: { description: 'Deleted' },
      409: { description: 'ENDPOINT_IN_USE (details.batches)', schema: errorSchema },
    },
    async handler({ deps, params }) {
      const row = await findEndpoint(deps, params.id);
      const using = await batchesUsing(deps, row.id, false);
      if (using.length > 0) {
        throw new ApiError(
          'ENDPOINT_IN_USE',
          `endpoint is used by batches: ${using.map((b) => b.name).join(', ')}; delete them first`,
          {
            batches: using,
          },
        );
      }
      try {
        await deleteEndpointRow(deps.pool, row.id);
      } catch (err) {
        if ((err as { code?: string }).code === '23503') {
          throw new ApiError('ENDPOINT_IN_USE', 'endpoint is used by a batch created just now', { batches: [] });
        }
        throw err;
      }
      deps.logger.info('endpoint deleted', { endpointId: row.id });
      return { status: 204 as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/endpoints/{id}/test',
    operationId: 'testEndpoint',
    runsConnectionTest: true,
    summary: 'Tests a saved endpoint',
    tag: 'endpoints',
    access: 'admin',
    params: idParam,
    body: testSavedBody,
    responses: { 200: { description: 'The test result', schema: testResultSchema } },
    async handler({ deps, params, body }) {
      const row = await findEndpoint(deps, params.id);
      return {
        status: 200 as const,
        body: await runTest(deps, { ...rowSettings(deps, row), testMailbox: body.testMailbox ?? null }),
      };
    },
  }),
];
