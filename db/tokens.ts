import type { PoolClient } from 'pg';
import type { Queryable } from './transaction';

export type TokenRole = 'admin' | 'viewer';

/** The `api_tokens` row, without its hash (never selected for display). */
export interface TokenRow {
  id: string;
  name: string;
  owner: string;
  role: TokenRole;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  /** Null: never expires. */
  expires_at: Date | null;
}

const TOKEN_COLUMNS = 'id, name, owner, role, created_at, last_used_at, revoked_at, expires_at';

export async function insertTokenRow(
  db: Queryable,
  t: { name: string; owner: string; role: TokenRole; hash: Buffer; expiresAt: string | null },
): Promise<TokenRow> {
  const { rows } = await db.query<TokenRow>(
    `insert into api_tokens (name, owner, role, token_hash, expires_at) values ($1, $2, $3, $4, $5::timestamptz)
     returning ${TOKEN_COLUMNS}`,
    [t.name, t.owner, t.role, t.hash, t.expiresAt],
  );
  return rows[0]!;
}

/** How stale `last_used_at` may get: every request authenticates, but the row is written at most once a minute. */
const LAST_USED_PRECISION = '1 minute';

/**
 * The not revoked token with this hash and whether it has expired; or null. A live one is marked as used now,
 * unless it was marked less than a minute ago (one statement either way).
 */
export async function useTokenByHash(db: Queryable, hash: Buffer): Promise<(TokenRow & { expired: boolean }) | null> {
  const { rows } = await db.query<TokenRow & { expired: boolean }>(
    `with token as (
       select ${TOKEN_COLUMNS}, coalesce(expires_at <= now(), false) as expired
       from api_tokens where token_hash = $1 and revoked_at is null
     ), touched as (
       update api_tokens set last_used_at = now()
       where id = (select id from token where not expired)
         and (last_used_at is null or last_used_at < now() - interval '${LAST_USED_PRECISION}')
     )
     select * from token`,
    [hash],
  );
  return rows[0] ?? null;
}

export async function listTokenRows(db: Queryable): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(`select ${TOKEN_COLUMNS} from api_tokens order by created_at desc, id`);
  return rows;
}

export async function findTokenRow(db: Queryable, id: string): Promise<TokenRow | null> {
  const { rows } = await db.query<TokenRow>(`select ${TOKEN_COLUMNS} from api_tokens where id = $1`, [id]);
  return rows[0] ?? null;
}

export async function revokeTokenRow(db: Queryable, id: string): Promise<TokenRow> {
  const { rows } = await db.query<TokenRow>(
    `update api_tokens set revoked_at = now() where id = $1 returning ${TOKEN_COLUMNS}`,
    [id],
  );
  return rows[0]!;
}

/** Whether a live (neither revoked nor expired) admin token other than `exceptId` exists. */
export async function liveAdminTokenExists(db: Queryable, exceptId: string | null): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from api_tokens
     where role = 'admin' and revoked_at is null and (expires_at is null or expires_at > now())
       and id is distinct from $1
     limit 1`,
    [exceptId],
  );
  return rows.length > 0;
}

/**
 * Serialises changes to the set of admin tokens until the transaction ends: two revocations cannot take the last
 * two admin tokens at once, and two first starts cannot both create the initial one.
 */
export async function lockTokens(client: PoolClient): Promise<void> {
  await client.query(`select pg_advisory_xact_lock(hashtext('mailferry.api_tokens'))`);
}
