import { createHash, randomBytes } from 'node:crypto';
import { insertTokenRow, useTokenByHash, type TokenRole, type TokenRow } from '../db/tokens';
import type { Queryable } from '../db/transaction';
import { ApiError } from './errors';

export type { TokenRole, TokenRow };

/** Who is calling: the token's owner is recorded as "created by" and in the audit log. */
export interface Actor {
  tokenId: string;
  name: string;
  owner: string;
  role: TokenRole;
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
  db: Queryable,
  input: { name: string; owner: string; role: TokenRole; expiresAt?: string | null },
): Promise<{ row: TokenRow; token: string }> {
  const token = generateToken();
  return {
    row: await insertTokenRow(db, { ...input, expiresAt: input.expiresAt ?? null, hash: hashToken(token) }),
    token,
  };
}

/** The actor of a live (not revoked) token, or undefined; throws TOKEN_EXPIRED for one past its expiry. */
export async function findActiveToken(db: Queryable, token: string): Promise<Actor | undefined> {
  const row = await useTokenByHash(db, hashToken(token));
  if (!row) return undefined;
  if (row.expired) {
    throw new ApiError('TOKEN_EXPIRED', 'the API token has expired; ask an admin for a new one', {
      expiredAt: row.expires_at!.toISOString(),
    });
  }
  return { tokenId: row.id, name: row.name, owner: row.owner, role: row.role };
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
    expiresAt: row.expires_at?.toISOString() ?? null,
  };
}
