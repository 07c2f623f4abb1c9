import { createHash, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

export type TokenRole = 'admin' | 'viewer';

/** Who is calling: the token's owner is recorded as "created by" and in the audit log. */
export interface Actor {
  tokenId: string;
  name: string;
  owner: string;
  role: TokenRole;
}

export interface TokenRow {
  id: string;
  name: string;
  owner: string;
  role: TokenRole;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const TOKEN_PREFIX = 'mf_';

/** A new plaintext token: `mf_` + 32 random bytes, base64url. Only its SHA-256 is stored. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export async function insertToken(
  db: Pool | PoolClient,
  input: { name: string; owner: string; role: TokenRole },
): Promise<{ row: TokenRow; token: string }> {
  const token = generateToken();
  const { rows } = await db.query<TokenRow>(
    `insert into api_tokens (name, owner, role, token_hash) values ($1, $2, $3, $4)
     returning id, name, owner, role, created_at, last_used_at, revoked_at`,
    [input.name, input.owner, input.role, hashToken(token)],
  );
  return { row: rows[0]!, token };
}

/** The actor of a live (not revoked) token, or undefined. */
export async function findActiveToken(pool: Pool, token: string): Promise<Actor | undefined> {
  const { rows } = await pool.query<TokenRow>(
    `update api_tokens set last_used_at = now()
      where token_hash = $1 and revoked_at is null
      returning id, name, owner, role, created_at, last_used_at, revoked_at`,
    [hashToken(token)],
  );
  const row = rows[0];
  return row ? { tokenId: row.id, name: row.name, owner: row.owner, role: row.role } : undefined;
}

export function tokenView(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
