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
}

const TOKEN_COLUMNS = 'id, name, owner, role, created_at, last_used_at, revoked_at';

export async function insertTokenRow(
  db: Queryable,
  t: { name: string; owner: string; role: TokenRole; hash: Buffer },
): Promise<TokenRow> {
  const { rows } = await db.query<TokenRow>(
    `insert into api_tokens (name, owner, role, token_hash) values ($1, $2, $3, $4) returning ${TOKEN_COLUMNS}`,
    [t.name, t.owner, t.role, t.hash],
  );
  return rows[0]!;
}

/** The live (not revoked) token with this hash, marked as used now; or null. */
export async function useTokenByHash(db: Queryable, hash: Buffer): Promise<TokenRow | null> {
  const { rows } = await db.query<TokenRow>(
    `update api_tokens set last_used_at = now() where token_hash = $1 and revoked_at is null returning ${TOKEN_COLUMNS}`,
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

/** Whether a live admin token other than `exceptId` exists. */
export async function liveAdminTokenExists(db: Queryable, exceptId: string | null): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from api_tokens where role = 'admin' and revoked_at is null and id is distinct from $1 limit 1`,
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
