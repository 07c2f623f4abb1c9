/**
 * A DAV sync worker process for the kill -9 test: runs one mailbox's calendar and contact sync with the engine
 * and writes a line to stdout at each progress report (`step <n>`), so the parent can SIGKILL it mid-copy.
 * Configuration comes as JSON in MAILFERRY_CRASH_CONFIG.
 */
import { writeSync } from 'node:fs';
import { Pool } from 'pg';
import { createDavSyncStore } from '../../db/dav-sync-store';
import { syncMailboxOverDav } from '../../dav/mailbox-sync';
import { DAV_DEFAULTS, davSide } from './helpers';

interface Config {
  databaseUrl: string;
  mailboxId: string;
  user: string;
  source: { url: string; password: string };
  destination: { url: string; password: string };
}

const config = JSON.parse(process.env.MAILFERRY_CRASH_CONFIG ?? '{}') as Config;

async function main() {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 2 });
  let steps = 0;
  await syncMailboxOverDav(
    createDavSyncStore(pool, config.mailboxId),
    davSide(config.source, config.user, config.source.password, 'source'),
    davSide(config.destination, config.user, config.destination.password, 'destination'),
    { ...DAV_DEFAULTS, onProgress: () => writeSync(1, `step ${++steps}\n`) },
  );
  writeSync(1, 'done\n');
  await pool.end();
}

main().catch((err: unknown) => {
  writeSync(2, `sync failed: ${(err as Error).message}\n`);
  process.exit(1);
});
