import { open, mkdir, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { insertToken } from './tokens-store';

export interface BootstrapResult {
  /** True when this call created the initial admin token. */
  created: boolean;
  /** Where the token was written (mode 0600); set when created. */
  tokenFile?: string;
  /** The plaintext token, when created; print the file path, not the token. */
  token?: string;
}

/**
 * First start: when no live admin token exists, creates one (name `initial-admin`, owner `admin`) and writes it
 * to `<dataDir>/initial-admin-token` with mode 0600. Safe when several processes start at once (advisory lock).
 * Later starts create nothing.
 */
export async function bootstrapAdminToken(
  pool: Pool,
  options: { dataDir: string; owner?: string },
): Promise<BootstrapResult> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('mailferry.api_tokens'))`);
    const { rows } = await client.query(`select 1 from api_tokens where role = 'admin' and revoked_at is null limit 1`);
    if (rows.length > 0) {
      await client.query('commit');
      return { created: false };
    }
    const { token } = await insertToken(client, {
      name: 'initial-admin',
      owner: options.owner ?? 'admin',
      role: 'admin',
    });
    const tokenFile = path.resolve(options.dataDir, 'initial-admin-token');
    await mkdir(path.dirname(tokenFile), { recursive: true, mode: 0o700 });
    const handle = await open(tokenFile, 'w', 0o600);
    try {
      await handle.writeFile(token + '\n', 'utf8');
    } finally {
      await handle.close();
    }
    await chmod(tokenFile, 0o600);
    await client.query('commit');
    return { created: true, tokenFile, token };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
