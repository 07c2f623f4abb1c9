import { open, mkdir, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { liveAdminTokenExists, lockTokens } from '../db/tokens';
import { withTransaction } from '../db/transaction';
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
  // The token file is written inside the transaction: if the write fails, no token exists that nobody can read.
  return withTransaction(pool, async (client) => {
    await lockTokens(client);
    if (await liveAdminTokenExists(client, null)) return { created: false };
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
    return { created: true, tokenFile, token };
  });
}
