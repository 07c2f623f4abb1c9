/**
 * One run of the mailferry IMAP engine in its own process (so its peak memory can be measured on its own), for
 * bench/imap-bench.ts: a sync pass, or with `verify` a verification of the mailbox (`header` data or `deep`).
 * Configuration as JSON in MAILFERRY_BENCH_RUN; prints a JSON summary on stdout.
 */
import { Pool } from 'pg';
import { createMailboxLocks } from '../db/mailbox-locks';
import { createSyncStore } from '../db/sync-store';
import { createVerifyStore } from '../db/verify-store';
import { syncMailboxOverImap, type SyncSide } from '../imap/mailbox-sync';
import { closeImapConnection, openImapConnection } from '../imap/connection';
import { listFolders } from '../imap/folders';
import { VERIFY_FETCH_QUERY, verifyMailboxOverImap } from '../imap/verify';

interface RunConfig {
  databaseUrl: string;
  mailboxId: string;
  source: SyncSide;
  destination: SyncSide;
  folderConcurrency?: number;
  chunkMessages?: number;
  chunkBytes?: number;
  verify?: 'header' | 'deep';
}

/** A verification of the mailbox instead of a sync (imap/verify.ts), timed the same way. */
async function verifyRun(config: RunConfig, pool: Pool): Promise<void> {
  const once = async () => {
    const started = process.hrtime.bigint();
    const result = await verifyMailboxOverImap(
      createVerifyStore(pool, config.mailboxId),
      config.source,
      config.destination,
      { folderInclude: [], folderExclude: [], deep: config.verify === 'deep' },
    );
    return { result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  };
  // The first verification reads the header fields cold: Dovecot caches them (dovecot.index.cache) on that first
  // FETCH. The bare FETCH and the second verification then both read them warm, so those two compare fairly.
  const { result, ms } = await once();
  const fetchMs = await headerFetchMs(config);
  const warm = await once();
  await pool.end();
  process.stdout.write(
    `${JSON.stringify({ ms, warmMs: warm.ms, fetchMs, grade: result.grade, folders: result.folders, differences: result.differences.length, sourceItems: result.sourceItems })}\n`,
  );
}

/**
 * The verification's budget term "one FETCH of the header fields per folder per side": logged in on both sides,
 * every folder opened with EXAMINE and read with that FETCH alone, both sides at once.
 */
async function headerFetchMs(config: RunConfig): Promise<number> {
  const started = process.hrtime.bigint();
  const read = async (side: SyncSide, name: 'source' | 'destination') => {
    const client = await openImapConnection(side.endpoint, side.credentials, { side: name });
    try {
      for (const f of (await listFolders(client, name)).folders.filter((x) => x.selectable)) {
        const lock = await client.getMailboxLock(f.path, { readOnly: true });
        try {
          if (client.mailbox && client.mailbox.exists > 0) {
            for await (const m of client.fetch('1:*', {
              ...VERIFY_FETCH_QUERY,
              headers: [...VERIFY_FETCH_QUERY.headers],
            }))
              void m;
          }
        } finally {
          lock.release();
        }
      }
    } finally {
      await closeImapConnection(client);
    }
  };
  await Promise.all([read(config.source, 'source'), read(config.destination, 'destination')]);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main() {
  const config = JSON.parse(process.env.MAILFERRY_BENCH_RUN ?? '{}') as RunConfig;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  if (config.verify) return verifyRun(config, pool);
  const locks = createMailboxLocks(config.databaseUrl);
  const db = { store: createSyncStore(pool, config.mailboxId), locks };
  const started = process.hrtime.bigint();
  // Peaks of the parts of memory, sampled every 50 ms (BENCH_TIMING=1 prints them): what the peak RSS is made of.
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], m[k]);
  }, 50);
  sampler.unref();
  // Time spent inside MULTIAPPEND commands, summed over lanes (BENCH_TIMING=1 prints it).
  const appendStart = new Map<string, number>();
  let appendMs = 0;
  let appends = 0;
  const summary = await syncMailboxOverImap(db, config.mailboxId, config.source, config.destination, {
    folderInclude: [],
    folderExclude: [],
    deleteOnDestination: false,
    badItemLimit: 10,
    largeItemLimit: 0,
    largeItemMaxBytes: 150 * 1024 * 1024,
    folderConcurrency: config.folderConcurrency,
    chunkMessages: config.chunkMessages,
    chunkBytes: config.chunkBytes,
    trace: (e) => {
      if (e.step === 'append-start') appendStart.set(e.folder, performance.now());
      if (e.step === 'append-done') {
        appendMs += performance.now() - (appendStart.get(e.folder) ?? performance.now());
        appends++;
      }
    },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await locks.close();
  await pool.end();
  clearInterval(sampler);
  if (process.env.BENCH_TIMING) {
    process.stderr.write(`appends: ${appends}, ${appendMs.toFixed(0)} ms inside MULTIAPPEND (all lanes)\n`);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    process.stderr.write(
      `peak heap used ${mb(peak.heapUsed)}, heap total ${mb(peak.heapTotal)}, external ${mb(peak.external)} (buffers ${mb(peak.arrayBuffers)})\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({ ms, copied: summary.itemsCopied, bytes: summary.bytesCopied, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`engine run failed: ${(err as Error).message}\n`);
  process.exit(1);
});
