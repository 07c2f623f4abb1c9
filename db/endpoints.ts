import type { RateLimitOverrides } from '../imap/rate-limit';
import type { AuthMethod } from '../domain/endpoint-auth';
import type { Queryable } from './transaction';

/** What a batch shows of its endpoints. */
export interface EndpointRef {
  id: string;
  name: string;
  host: string;
}

export async function listEndpointRefs(db: Queryable, ids: string[]): Promise<EndpointRef[]> {
  const { rows } = await db.query<EndpointRef>('select id, name, host from endpoints where id = any($1::uuid[])', [
    ids,
  ]);
  return rows;
}

/** Which of these endpoint ids exist. */
export async function existingEndpointIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('select id from endpoints where id = any($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

/**
 * The `endpoints` row (db/migrations/0001_init.sql, 0011_endpoint_credentials.sql). `admin_secret` is sealed
 * (secrets/secret-box.ts): the admin password or access token, or with a minted-token method the service-account
 * key JSON, the client secret or the refresh token.
 */
export interface EndpointRow {
  id: string;
  name: string;
  type: 'imap';
  provider: 'generic' | 'dovecot' | 'gmail' | 'm365';
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  accept_untrusted_certs: boolean;
  auth_method: AuthMethod;
  admin_user: string | null;
  admin_secret: Buffer | null;
  /** Microsoft 365: the directory (tenant) id or domain. */
  oauth_tenant_id: string | null;
  /** Microsoft 365: the application (client) id. */
  oauth_client_id: string | null;
  /** Microsoft 365: the authority host; null for https://login.microsoftonline.com. */
  oauth_authority: string | null;
  max_concurrent_migrations: number;
  max_concurrent_incremental_syncs: number;
  /** Overrides of the provider's rate limits (0010_endpoint_rates.sql; read by db/endpoint-rates.ts). */
  rate_limits: RateLimitOverrides;
  /** The CalDAV and CardDAV services (0009_dav_sync.sql): a host or a URL; null: none. */
  caldav_url: string | null;
  carddav_url: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns an endpoint is created or updated with. */
export type EndpointFields = Omit<EndpointRow, 'id' | 'created_at' | 'updated_at'>;

export async function findEndpointRow(db: Queryable, id: string): Promise<EndpointRow | null> {
  const { rows } = await db.query<EndpointRow>('select * from endpoints where id = $1', [id]);
  return rows[0] ?? null;
}

export async function listEndpointRows(db: Queryable): Promise<EndpointRow[]> {
  const { rows } = await db.query<EndpointRow>('select * from endpoints order by lower(name)');
  return rows;
}

/** Whether another endpoint (not `exceptId`) has this name, case-insensitively. */
export async function endpointNameTaken(db: Queryable, name: string, exceptId: string | null): Promise<boolean> {
  const { rows } = await db.query('select 1 from endpoints where lower(name) = lower($1) and id is distinct from $2', [
    name,
    exceptId,
  ]);
  return rows.length > 0;
}

/** The settings columns, in the order both statements below bind them ($2 onwards, after the id). */
const SETTINGS_COLUMNS = [
  'name',
  'provider',
  'host',
  'port',
  'security',
  'accept_untrusted_certs',
  'auth_method',
  'admin_user',
  'admin_secret',
  'oauth_tenant_id',
  'oauth_client_id',
  'oauth_authority',
  'max_concurrent_migrations',
  'max_concurrent_incremental_syncs',
  'rate_limits',
  'caldav_url',
  'carddav_url',
] as const satisfies readonly (keyof EndpointFields)[];

const settingsOf = (e: Omit<EndpointFields, 'type'>) => SETTINGS_COLUMNS.map((column) => e[column]);

export async function insertEndpointRow(db: Queryable, id: string, e: EndpointFields): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `insert into endpoints (id, ${SETTINGS_COLUMNS.join(', ')}, type)
     values ($1, ${SETTINGS_COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}, $${SETTINGS_COLUMNS.length + 2}) returning *`,
    [id, ...settingsOf(e), e.type],
  );
  return rows[0]!;
}

export async function updateEndpointRow(
  db: Queryable,
  id: string,
  e: Omit<EndpointFields, 'type'>,
): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `update endpoints set ${SETTINGS_COLUMNS.map((column, i) => `${column} = $${i + 2}`).join(', ')}, updated_at = now()
      where id = $1 returning *`,
    [id, ...settingsOf(e)],
  );
  return rows[0]!;
}

/**
 * Stores a refresh token Microsoft issued in place of the endpoint's (sealed by the caller), only while the
 * endpoint still mints with a refresh token: an admin's edit in the meantime wins.
 */
export async function replaceRefreshToken(db: Queryable, id: string, sealed: Buffer): Promise<void> {
  await db.query(
    `update endpoints set admin_secret = $2, updated_at = now() where id = $1 and auth_method = 'm365-refresh-token'`,
    [id, sealed],
  );
}

/** Deletes an endpoint; PostgreSQL refuses (23503) while a batch references it. */
export async function deleteEndpointRow(db: Queryable, id: string): Promise<void> {
  await db.query('delete from endpoints where id = $1', [id]);
}

/** Batches that use the endpoint (at most 100), only those in `statuses` when given. */
export async function batchesUsingEndpoint(
  db: Queryable,
  id: string,
  statuses: readonly string[] | null,
): Promise<{ id: string; name: string; status: string }[]> {
  const { rows } = await db.query<{ id: string; name: string; status: string }>(
    `select id, name, status from batches
      where (source_endpoint_id = $1 or destination_endpoint_id = $1) and ($2::text[] is null or status = any($2))
      order by name limit 100`,
    [id, statuses],
  );
  return rows;
}
