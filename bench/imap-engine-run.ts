/**
 * One run of the mailferry IMAP engine in its own process (so its peak memory can be measured on its own), for
 * bench/imap-bench.ts. Configuration as JSON in MAILFERRY_BENCH_RUN; prints a JSON summary on stdout.
 */
import { Pool } from 'pg';
import { createMailboxLocks } from '../db/mailbox-locks';
import { createSyncStore } from '../db/sync-store';
import { syncMailboxOverImap, type SyncSide } from '../imap/mailbox-sync';

interface RunConfig {
  databaseUrl: string;
  mailboxId: string;
  source: SyncSide;
  destination: SyncSide;
  folderConcurrency?: number;
  chunkMessages?: number;
  chunkBytes?: number;
}

async function main() {
  const config = JSON.parse(process.env.MAILFERRY_BENCH_RUN ?? '{}') as RunConfig;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
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
