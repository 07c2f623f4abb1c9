/**
 * One pass of mailferry's calendar and contact engine (dav/) in a process of its own, so its peak memory can be
 * measured alone, for bench/dav-bench.ts. Configuration as JSON in MAILFERRY_BENCH_RUN; prints a JSON summary.
 */
import { Pool } from 'pg';
import { syncMailboxOverDav } from '../dav/mailbox-sync';
import { createDavSyncStore } from '../db/dav-sync-store';
import { davSide } from '../test/fixtures/radicale';

interface Account {
  url: string;
  user: string;
  password: string;
}

interface RunConfig {
  databaseUrl: string;
  mailboxId: string;
  source: Account;
  destination: Account;
  /** Objects copied at once per collection (the engine's default when absent). */
  concurrency?: number;
}

async function main() {
  const config = JSON.parse(process.env.MAILFERRY_BENCH_RUN ?? '{}') as RunConfig;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  const started = process.hrtime.bigint();
  const summary = await syncMailboxOverDav(
    createDavSyncStore(pool, config.mailboxId),
    davSide(config.source, config.source.user, config.source.password, 'source'),
    davSide(config.destination, config.destination.user, config.destination.password, 'destination'),
    {
      skipCalendar: false,
      skipTasks: false,
      skipContacts: false,
      deleteOnDestination: false,
      badItemLimit: 10,
      concurrency: config.concurrency,
    },
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await pool.end();
  process.stdout.write(`${JSON.stringify({ ms, ...summary })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine run failed: ${(err as Error).message}\n`);
  process.exit(1);
});
