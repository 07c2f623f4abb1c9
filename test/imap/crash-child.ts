/**
 * A sync worker process for the kill -9 test: runs one mailbox sync with the engine and writes each trace step
 * to stdout as it happens (`step <name>`). With MAILFERRY_CRASH_HOLD=<step>:<n>, it freezes (synchronously, so
 * nothing else runs) for a while at the n-th time that step is reached, so the parent's SIGKILL lands exactly
 * there. Configuration comes as JSON in MAILFERRY_CRASH_CONFIG.
 */
import { writeSync } from 'node:fs';
import { Pool } from 'pg';
import { createMailboxLocks } from '../../db/mailbox-locks';
import { createSyncStore } from '../../db/sync-store';
import { syncMailboxOverImap, type SyncSide } from '../../imap/mailbox-sync';

interface Config {
  databaseUrl: string;
  mailboxId: string;
  source: SyncSide;
  destination: SyncSide;
  chunkMessages: number;
}

const config = JSON.parse(process.env.MAILFERRY_CRASH_CONFIG ?? '{}') as Config;
const [holdStep, holdCount] = (process.env.MAILFERRY_CRASH_HOLD ?? '').split(':');
const seen = new Map<string, number>();
const freeze = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

async function main() {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 2 });
  const locks = createMailboxLocks(config.databaseUrl);
  const db = { store: createSyncStore(pool, config.mailboxId), locks };
  await syncMailboxOverImap(db, config.mailboxId, config.source, config.destination, {
    folderInclude: [],
    folderExclude: [],
    deleteOnDestination: false,
    badItemLimit: 10,
    largeItemLimit: 0,
    largeItemMaxBytes: 150 * 1024 * 1024,
    chunkMessages: config.chunkMessages,
    trace: (e) => {
      const n = (seen.get(e.step) ?? 0) + 1;
      seen.set(e.step, n);
      writeSync(1, `step ${e.step} ${n}\n`);
      if (e.step === holdStep && String(n) === holdCount) {
        writeSync(1, 'holding\n');
        freeze(30_000);
      }
    },
  });
  writeSync(1, 'done\n');
  await locks.close();
  await pool.end();
}

main().catch((err: unknown) => {
  writeSync(2, `sync failed: ${(err as Error).message}\n`);
  process.exit(1);
});
