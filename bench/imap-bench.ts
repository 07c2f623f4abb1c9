/**
 * IMAP benchmark (`npm run bench`): one deterministic corpus on a source Dovecot, copied to a destination Dovecot by
 * the product end to end (`product`: `npm start`'s compiled processes, a batch of one mailbox created and started
 * through the HTTP API, timed from Start to Synced as the API reports it, read model included), by
 * this engine alone (`engine`: the sync function in a process of its own), by mbsync (isync; IMAP on both sides, like this engine) and by `doveadm backup` with the imapc
 * backend (Dovecot's own migration path: it writes the destination's storage directly, so it is a ceiling).
 * For each tool: a full pass and a no-change incremental pass, messages/s, MB/s, peak memory (max RSS of the
 * tool's process), whether the copy is byte-exact, and the ratios to mbsync. For the engine also a verification
 * of the copied mailbox (header data, and deep with BENCH_VERIFY_DEEP=1) against its no-change pass: the issue's
 * budget is at most 2× a no-change pass plus one FETCH of the header fields per folder per side.
 *
 * The destination runs Dovecot's default `mail_fsync = optimized`, as users run it, and `never` as a second
 * section (BENCH_FSYNC, default `optimized,never`). Ratios are pair by pair: run N of a tool against run N of
 * mbsync (or doveadm), which ran beside it in the same rotation; the table gives their median and range.
 * CPU seconds are user + system of the tool's processes: for the product, every process it runs (itself,
 * PostgreSQL, the Temporal dev server).
 *
 * The WAN profile (BENCH_RTT_MS, a comma list of added round-trip times in ms, e.g. 0,20,50) puts a delay proxy
 * (test/fixtures/delay-proxy.ts) before each server and prints the round trips each run paid (client turns, both servers).
 * BENCH_TLS=1 has every tool speak implicit TLS (IMAPS) to both servers, as over a real WAN: the servers' own
 * self-signed certificate, trusted by mbsync through CertificateFile, not verified by the product, the engine
 * and doveadm's imapc.
 *
 * The fleet profile (BENCH_MAILBOXES=20, with BENCH_MESSAGES per mailbox) copies that many mailboxes, each with
 * the corpus: the product as one batch, mbsync as `xargs -P 4` and `-P 8` (tools mbsync-P4, mbsync-P8), one
 * process per mailbox, as admins script it; ratios are to those two.
 *
 * The rate limit profile (BENCH_RATE_LIMIT, bytes per second, e.g. 4000000) gives the product's destination
 * endpoint that upload limit and prints the rate each full pass held, against the limit (tools: product only by
 * default).
 *
 * Environment: BENCH_MESSAGES (default 10000; a comma list such as 2500,10000 runs the whole bench at each size in
 * turn, each on fresh servers, and ends with each tool's peak RSS per size and the ratio), BENCH_HUGE (10 MB
 * messages, default 3, the same at every size), BENCH_TOOLS (comma list of product,engine,mbsync,doveadm; default all), BENCH_FSYNC,
 * BENCH_FOLDER_CONCURRENCY (engine lanes; default: as the product chooses them, by the round trip),
 * BENCH_REPEAT (runs per tool, reported as the median; default 3), BENCH_TIMING (the engine's time inside
 * MULTIAPPEND and the peaks of its JS heap and buffers; for the product, its timeline and the workflow's history
 * events of each pass, in ms after the API call),
 * DATABASE_URL (else an embedded PostgreSQL is started).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { startDovecot, type DovecotServer, type SeedMessage } from '../test/fixtures/dovecot';
import { bundleForNode, median, openBenchDatabase, timed, type BenchDatabase } from './bench-process';
import { generateCorpus } from './imap-corpus';
import { startDelayProxy, type DelayProxy } from '../test/fixtures/delay-proxy';
import {
  startRealProduct,
  treeCpuByProgram,
  cpuSplit,
  waitForPass,
  workflowEventsSince,
  type RunningProduct,
} from './product-driver';

const SOURCE_USER = 'bench@example.com';
const PASSWORD = 'bench-pw';
/** The destination's master user, as the product logs in to destination mailboxes (the endpoint's admin). */
const MASTER = { user: 'migrator', password: 'bench-master-pw' };

/** Where a tool reaches a server: the server itself, or the WAN profile's delay proxy in front of it. */
type Address = { host: string; port: number };

/** BENCH_TLS=1: every tool speaks implicit TLS to both servers. */
const TLS = process.env.BENCH_TLS === '1';

interface Measure {
  tool: string;
  pass: 'full' | 'no-change';
  seconds: number;
  maxRssMb: number;
  cpuSeconds: number;
  /** Client turns through the delay proxies (WAN profile), both servers together. */
  roundTrips?: number;
}

async function seedCorpus(source: DovecotServer, user: string, messages: number, huge: number) {
  let count = 0;
  let bytes = 0;
  let batch: SeedMessage[] = [];
  let batchBytes = 0;
  const folders = new Map<string, number>();
  for (const m of generateCorpus({ messages, huge })) {
    batch.push(m);
    batchBytes += m.raw.length;
    count++;
    bytes += m.raw.length;
    folders.set(m.folder, (folders.get(m.folder) ?? 0) + 1);
    if (batch.length >= 500 || batchBytes > 64 * 1024 * 1024) {
      // Sorted by folder so the fixture can use one MULTIAPPEND per folder run.
      await source.seed(
        user,
        batch.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0)),
      );
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length)
    await source.seed(
      user,
      batch.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0)),
    );
  return { count, bytes, folders };
}

/** Multiset of (folder, sha256) of a user's messages, and how many carry flags and dates as on the source. */
async function fingerprint(server: DovecotServer, user: string) {
  const all = await server.readMailbox(user);
  const keys = all.map((m) => `${m.folder}\u0000${m.sha256}`).sort();
  const meta = all.map((m) => `${m.folder}\u0000${m.internalDate}\u0000${m.flags.join(' ')}\u0000${m.size}`).sort();
  return { count: all.length, content: createHash('sha256').update(keys.join('\n')).digest('hex'), metaKeys: meta };
}

/** mbsync's TLS lines: IMAPS with the server's own certificate as the one it trusts, or none. */
const mbsyncTls = (certificate: string) => (TLS ? `SSLType IMAPS\nCertificateFile ${certificate}` : 'SSLType None');

function mbsyncConfig(
  stateDir: string,
  source: Address & { dir: string },
  destination: Address & { dir: string },
  sourceUser: string,
  user: string,
): string {
  // mbsync checks the certificate's name even for a certificate it is told to trust: the servers' is localhost's.
  const host = (a: Address) => (TLS && a.host === '127.0.0.1' ? 'localhost' : a.host);
  return `IMAPAccount far
Host ${host(source)}
Port ${source.port}
User ${sourceUser}
Pass ${PASSWORD}
${mbsyncTls(path.join(source.dir, 'cert.pem'))}
AuthMechs LOGIN

IMAPStore far
Account far

IMAPAccount near
Host ${host(destination)}
Port ${destination.port}
User ${user}
Pass ${PASSWORD}
${mbsyncTls(path.join(destination.dir, 'cert.pem'))}
AuthMechs LOGIN

IMAPStore near
Account near

Channel bench
Far :far:
Near :near:
Patterns *
Create Near
Sync Pull
CopyArrivalDate yes
Expunge None
SyncState ${stateDir}/
`;
}

/** Runs the bench on a corpus of `messages`; returns the peak RSS (MB) of each tool and pass, over the runs. */
async function benchAt(messages: number, fsync: string, rttMs?: number): Promise<Map<string, number>> {
  const huge = Number(process.env.BENCH_HUGE ?? 3);
  // The fleet profile (BENCH_MAILBOXES > 1): one batch of that many mailboxes, each with the corpus, against
  // mbsync run by `xargs -P 4` and `-P 8`, one process per mailbox, as admins script it.
  const mailboxes = Number(process.env.BENCH_MAILBOXES ?? 1);
  const fleet = mailboxes > 1;
  const rateLimit = process.env.BENCH_RATE_LIMIT ? Number(process.env.BENCH_RATE_LIMIT) : undefined;
  const tools = (
    process.env.BENCH_TOOLS ??
    (rateLimit ? 'product' : fleet ? 'product,mbsync-P4,mbsync-P8' : 'product,engine,mbsync,doveadm')
  ).split(',');
  if (fleet && tools.some((t) => !/^(product|mbsync-P\d+)$/.test(t)))
    throw new Error('the fleet profile runs product and mbsync-P<n> only');
  const sourceUsers = fleet ? Array.from({ length: mailboxes }, (_, i) => `bench-${i}@example.com`) : [SOURCE_USER];
  const destinationUsers = (tool: string, rep: number) =>
    fleet ? sourceUsers.map((_, i) => `${tool.toLowerCase()}-${rep}-${i}@example.com`) : [`${tool}-${rep}@example.com`];
  /** The two tools every other one is compared with, pair by pair. */
  const bases = fleet ? tools.filter((t) => t.startsWith('mbsync-P')) : ['mbsync', 'doveadm'];
  /** The engine's lanes as the product chooses them (by the round trip), unless the run says. */
  const folderConcurrency = process.env.BENCH_FOLDER_CONCURRENCY
    ? Number(process.env.BENCH_FOLDER_CONCURRENCY)
    : undefined;
  const repeats = Number(process.env.BENCH_REPEAT ?? 3);
  const work = await mkdtemp(path.join(os.tmpdir(), 'mf-bench-'));
  let db: BenchDatabase | undefined;
  let source: DovecotServer | undefined;
  let destination: DovecotServer | undefined;
  let pool: Pool | undefined;
  let product: RunningProduct | undefined;
  const proxies: DelayProxy[] = [];
  try {
    db = await openBenchDatabase(work, `mailferry_bench_${process.pid}_${messages}`);
    pool = db.pool;
    const dbUrl = new URL(db.url);

    [source, destination] = await Promise.all([
      startDovecot({ tls: TLS }),
      startDovecot({ masterUser: MASTER, extraConfig: `mail_fsync = ${fsync}`, tls: TLS }),
    ]);
    for (const user of sourceUsers) await source.addUser(user, PASSWORD);
    for (let rep = 1; rep <= repeats; rep++)
      for (const t of tools) for (const user of destinationUsers(t, rep)) await destination.addUser(user, PASSWORD);
    process.stderr.write(`seeding ${messages} messages × ${sourceUsers.length} mailboxes ...\n`);
    const seededAt = Date.now();
    let corpus = await seedCorpus(source, sourceUsers[0]!, messages, huge);
    for (const user of sourceUsers.slice(1)) await seedCorpus(source, user, messages, huge);
    corpus = { ...corpus, count: corpus.count * sourceUsers.length, bytes: corpus.bytes * sourceUsers.length };
    const mb = corpus.bytes / 1024 / 1024;
    process.stderr.write(
      `seeded ${corpus.count} messages, ${mb.toFixed(1)} MB in ${((Date.now() - seededAt) / 1000).toFixed(1)} s\n`,
    );
    const reference = await fingerprint(source, sourceUsers[0]!); // every source mailbox holds the same corpus
    // The WAN profile: every tool reaches both servers through a delay proxy (doveadm only the source: it writes
    // the destination's storage itself).
    const served = (s: DovecotServer): Address => ({ host: s.host, port: TLS ? s.tlsPort : s.port });
    let src: Address = served(source);
    let dst: Address = served(destination);
    if (rttMs !== undefined) {
      proxies.push(await startDelayProxy(src, rttMs), await startDelayProxy(dst, rttMs));
      [src, dst] = proxies as [DelayProxy, DelayProxy];
    }

    const endpoint = (s: Address) => ({
      host: s.host,
      port: s.port,
      security: TLS ? ('tls' as const) : ('none' as const),
      acceptUntrustedCerts: TLS,
      authMethod: 'plain' as const,
      provider: 'dovecot' as const,
    });
    const results: Record<string, { exact: boolean; metaExact: boolean; count: number }> = {};
    // The engine runs compiled as a worker runs it, in a process of its own.
    const engineBundle = await bundleForNode(path.join(__dirname, 'imap-engine-run.ts'), 'bench-engine-run.js');

    const { rows: ep } = await pool.query<{ id: string }>(
      `insert into endpoints (name, host, port, security) values ('bench-src', $1, $2, 'none'), ('bench-dst', $1, $3, 'none') returning id`,
      [source.host, source.port, destination.port],
    );
    const batchId = (
      await pool.query<{ id: string }>(
        `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
       values (gen_random_uuid(), 'bench', 'batch:bench', 'Syncing', $1, $2, 'bench') returning id`,
        [ep[0]!.id, ep[1]!.id],
      )
    ).rows[0]!.id;

    // The product: started once, its two endpoints created once; each run is a batch of its own.
    let endpoints: { source: string; destination: string } | undefined;
    const productBatches = new Map<string, { id: string; name: string; lastSyncedAt: string | null }>();
    if (tools.includes('product')) {
      product = await startRealProduct(path.join(work, 'product'));
      const common = { type: 'imap', host: src.host, security: TLS ? 'tls' : 'none', acceptUntrustedCerts: TLS };
      endpoints = {
        source: (await product.call('POST', '/endpoints', { ...common, name: 'bench source', port: src.port })).id,
        destination: (
          await product.call('POST', '/endpoints', {
            ...common,
            name: 'bench destination',
            port: dst.port,
            adminUser: MASTER.user,
            adminPassword: MASTER.password,
            testMailbox: { userName: destinationUsers('product', 1)[0] },
            ...(rateLimit ? { rateLimits: { upload: { bytesPerSecond: rateLimit } } } : {}),
          })
        ).id,
      };
    }

    const runTool = async (
      tool: string,
      users: string[],
      pass: 'full' | 'no-change' | 'verify' | 'verify-deep',
      rep: number,
    ): Promise<{
      seconds: number;
      maxRssMb: number;
      cpuSeconds: number;
      cpuByProgram?: string;
      syncSeconds?: number;
      stdout?: string;
    }> => {
      const user = users[0]!;
      if (tool === 'product') {
        let batch = productBatches.get(user);
        if (!batch) {
          const created = await product!.call('POST', '/batches', {
            name: `bench ${rep}`,
            sourceEndpointId: endpoints!.source,
            destinationEndpointId: endpoints!.destination,
            csv: ['EmailAddress,UserName,Password', ...users.map((u, i) => `${u},${sourceUsers[i]},${PASSWORD}`)].join(
              '\n',
            ),
          });
          batch = { id: created.id as string, name: `bench ${rep}`, lastSyncedAt: null };
          productBatches.set(user, batch);
        }
        const pid = product!.product.child.pid!;
        const cpuBefore = await treeCpuByProgram(pid);
        const logFrom = product!.product.output().length;
        const started = process.hrtime.bigint();
        const calledAt = Date.now();
        await product!.call('POST', `/batches/${batch.id}/${pass === 'full' ? 'start' : 'sync-now'}`);
        // A no-change pass takes a fraction of a second: polled at 10/s its figure would be a tenth of a second coarse.
        const settled = await waitForPass(product!, batch, batch.lastSyncedAt, pass === 'full' ? 100 : 20);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (process.env.BENCH_TIMING) {
          process.stderr.write(
            `  ${productTimeline(product!.product.output().slice(logFrom), calledAt, calledAt + seconds * 1000)}\n` +
              `  workflow events (ms after the call): ${await workflowEventsSince(product!, settled.workflowId, calledAt)}\n`,
          );
        }
        const cpuAfter = await treeCpuByProgram(pid);
        const total = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + b, 0);
        const cpuSeconds = total(cpuAfter) - total(cpuBefore);
        if (settled.status !== 'Synced') throw new Error(`product batch ended ${settled.status}`);
        batch.lastSyncedAt = settled.lastSyncedAt;
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const hwm = Number(/^VmHWM:\s*(\d+)/m.exec(status)?.[1] ?? NaN) / 1024;
        return { seconds, maxRssMb: hwm, cpuSeconds, cpuByProgram: cpuSplit(cpuBefore, cpuAfter) };
      }
      if (tool === 'engine') {
        const verify = pass === 'verify' ? 'header' : pass === 'verify-deep' ? 'deep' : undefined;
        if (pass === 'full')
          await pool!.query(`insert into mailboxes (batch_id, email, source_user) values ($1, $2, $2)`, [
            batchId,
            user,
          ]);
        const mailboxId = (await pool!.query<{ id: string }>('select id from mailboxes where email = $1', [user]))
          .rows[0]!.id;
        const run = {
          databaseUrl: dbUrl.toString(),
          mailboxId,
          source: { endpoint: endpoint(src), credentials: { user: SOURCE_USER, secret: PASSWORD } },
          destination: { endpoint: endpoint(dst), credentials: { user, secret: PASSWORD } },
          folderConcurrency,
          chunkMessages: process.env.BENCH_CHUNK_MESSAGES ? Number(process.env.BENCH_CHUNK_MESSAGES) : undefined,
          chunkBytes: process.env.BENCH_CHUNK_MB ? Number(process.env.BENCH_CHUNK_MB) * 1024 * 1024 : undefined,
          verify,
        };
        const t = await timed(
          process.execPath,
          [
            ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
            engineBundle,
          ],
          {
            ...process.env,
            MAILFERRY_BENCH_RUN: JSON.stringify(run),
          },
        );
        if (process.env.BENCH_TIMING) process.stderr.write(t.stderr);
        return {
          ...t,
          syncSeconds: (JSON.parse(t.stdout.trim().split('\n').pop() ?? '{}') as { ms: number }).ms / 1000,
        };
      }
      if (tool.startsWith('mbsync')) {
        // One configuration and state directory per mailbox; several run by xargs -P, as admins script it.
        const configs: string[] = [];
        for (const [i, u] of users.entries()) {
          const cfg = path.join(work, `mbsyncrc-${u}`);
          const state = path.join(work, `mbsync-state-${u}`);
          await mkdir(state, { recursive: true });
          await writeFile(
            cfg,
            mbsyncConfig(state, { ...src, dir: source!.dir }, { ...dst, dir: destination!.dir }, sourceUsers[i]!, u),
            { mode: 0o600 },
          );
          configs.push(cfg);
        }
        const parallel = /^mbsync-P(\d+)$/.exec(tool)?.[1];
        if (!parallel) return timed('mbsync', ['-c', configs[0]!, '-q', 'bench']);
        const list = path.join(work, `mbsync-list-${tool}-${rep}`);
        await writeFile(list, `${configs.join('\n')}\n`);
        return timed('xargs', ['-a', list, '-P', parallel, '-I{}', 'mbsync', '-c', '{}', '-q', 'bench']);
      }
      if (tool === 'doveadm') {
        return timed('doveadm', [
          '-c',
          path.join(destination!.dir, 'dovecot.conf'),
          '-o',
          `imapc_host=${src.host}`,
          '-o',
          `imapc_port=${src.port}`,
          '-o',
          `imapc_user=${SOURCE_USER}`,
          '-o',
          `imapc_password=${PASSWORD}`,
          '-o',
          'imapc_features=rfc822.size fetch-headers modseq',
          '-o',
          'mail_prefetch_count=20',
          ...(TLS ? ['-o', 'imapc_ssl=imaps', '-o', 'imapc_ssl_verify=no'] : []),
          'backup',
          '-R',
          '-u',
          user,
          'imapc:',
        ]);
      }
      throw new Error(`unknown tool ${tool}`);
    };

    // Every repetition copies into fresh destination users; the tools take turns going first, so a change in the
    // machine's load falls on all of them.
    const runs: Array<Measure & { rep: number; syncSeconds?: number }> = [];
    const verifications: Array<{
      pass: string;
      seconds: number;
      syncSeconds: number;
      maxRssMb: number;
      grade: string;
      folders: number;
      fetchMs: number;
      warmMs: number;
    }> = [];
    for (let rep = 1; rep <= repeats; rep++) {
      const order = tools.map((_, i) => tools[(i + rep - 1) % tools.length]!);
      for (const tool of order) {
        const users = destinationUsers(tool, rep);
        for (const pass of ['full', 'no-change'] as const) {
          process.stderr.write(`${tool} (run ${rep}): ${pass} pass ...\n`);
          for (const proxy of proxies) proxy.reset();
          const r = await runTool(tool, users, pass, rep);
          const roundTrips = proxies.length ? proxies.reduce((n, p) => n + p.roundTrips(), 0) : undefined;
          runs.push({ tool, pass, rep, ...r, roundTrips });
          process.stderr.write(
            `  ${r.seconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(2)} s${r.cpuByProgram ? ` (${r.cpuByProgram})` : ''}, peak RSS ${r.maxRssMb.toFixed(0)} MB${roundTrips === undefined ? '' : `, ${roundTrips} round trips`}\n`,
          );
        }
        if (tool === 'engine') {
          const passes = process.env.BENCH_VERIFY_DEEP ? (['verify', 'verify-deep'] as const) : (['verify'] as const);
          for (const pass of passes) {
            process.stderr.write(`engine (run ${rep}): ${pass} ...\n`);
            const r = await runTool(tool, users, pass, rep);
            const out = JSON.parse(r.stdout?.trim().split('\n').pop() ?? '{}') as {
              grade: string;
              folders: number;
              fetchMs: number;
              warmMs: number;
            };
            verifications.push({
              pass,
              seconds: r.seconds,
              syncSeconds: r.syncSeconds ?? NaN,
              maxRssMb: r.maxRssMb,
              ...out,
            });
            process.stderr.write(
              `  ${r.seconds.toFixed(2)} s, grade ${out.grade}, peak RSS ${r.maxRssMb.toFixed(0)} MB\n`,
            );
          }
        }
        const outcome = { count: 0, exact: results[tool]?.exact ?? true, metaExact: results[tool]?.metaExact ?? true };
        for (const user of users) {
          const got = await fingerprint(destination, user);
          outcome.count += got.count;
          outcome.exact &&= got.content === reference.content;
          outcome.metaExact &&= got.metaKeys.join('\n') === reference.metaKeys.join('\n');
        }
        results[tool] = outcome;
      }
    }

    /** Run N of `tool` against run N of `base` (they ran in the same rotation): median (min–max) of base ÷ tool. */
    const pairRatios = (tool: string, base: string, pass: 'full' | 'no-change') => {
      const ratios = runs
        .filter((r) => r.tool === tool && r.pass === pass)
        .flatMap((r) => {
          const b = runs.find((x) => x.tool === base && x.pass === pass && x.rep === r.rep);
          return b ? [b.seconds / r.seconds] : [];
        });
      if (!ratios.length) return '–';
      const range = ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : '';
      return `${median(ratios).toFixed(2)}×${range}`;
    };
    const roundTripsOf = (mine: typeof runs) => {
      const n = mine.map((r) => r.roundTrips).filter((x): x is number => x !== undefined);
      return n.length ? median(n).toFixed(0) : '–';
    };
    const lines: string[] = [];
    lines.push(
      `Corpus: ${corpus.count} messages, ${mb.toFixed(1)} MB, ${corpus.folders.size} folders; destination mail_fsync=${fsync};${rttMs === undefined ? '' : ` WAN: ${rttMs} ms round trip added by a delay proxy before each server;`}${TLS ? ' TLS (IMAPS) to both servers;' : ''} ${os.cpus().length} CPUs; Dovecot ${await dovecotVersion()}; median of ${repeats} run(s) (min–max).`,
    );
    lines.push('');
    lines.push(
      `| tool | pass | seconds (process) | seconds (sync only) | messages/s | MB/s | CPU s | CPU s per GB | peak RSS MB | copied | byte-exact | flags+dates exact | ${bases.map((b) => `${b} ÷ tool, pair by pair | `).join('')}round trips |`,
    );
    lines.push(
      `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ${bases.map(() => '---: | ').join('')}---: |`,
    );
    for (const tool of tools) {
      for (const pass of ['full', 'no-change'] as const) {
        const mine = runs.filter((r) => r.tool === tool && r.pass === pass);
        const secs = mine.map((r) => r.seconds);
        const med = median(secs);
        const cpu = median(mine.map((r) => r.cpuSeconds));
        const sync = mine.map((r) => r.syncSeconds).filter((x): x is number => x !== undefined);
        const res = results[tool];
        const range = secs.length > 1 ? ` (${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)})` : '';
        const full = pass === 'full';
        lines.push(
          `| ${tool} | ${pass} | ${med.toFixed(2)}${range} | ${sync.length ? median(sync).toFixed(2) : '–'} | ${full ? (corpus.count / med).toFixed(0) : '–'} | ${
            full ? (mb / med).toFixed(1) : '–'
          } | ${cpu.toFixed(2)} | ${full ? (cpu / (corpus.bytes / 1e9)).toFixed(1) : '–'} | ${Math.max(...mine.map((r) => r.maxRssMb)).toFixed(0)} | ${res?.count ?? '?'} | ${res?.exact ? 'yes' : 'no'} | ${res?.metaExact ? 'yes' : 'no'} | ${bases.map((b) => `${pairRatios(tool, b, pass)} | `).join('')}${roundTripsOf(mine)} |`,
        );
      }
    }
    if (tools.includes('product') && tools.includes('engine')) {
      const gap = (pass: 'full' | 'no-change') =>
        median(runs.filter((r) => r.tool === 'product' && r.pass === pass).map((r) => r.seconds)) -
        median(runs.filter((r) => r.tool === 'engine' && r.pass === pass).map((r) => r.syncSeconds ?? r.seconds));
      lines.push('');
      lines.push(
        `Orchestration only (product − engine's sync time, medians: API, workflow, activity scheduling, read model, the API polled every 100 ms in a full pass, 20 ms in a no-change one): full ${gap('full').toFixed(2)} s, no-change ${gap('no-change').toFixed(2)} s. The product's peak RSS is its process's high-water mark since it started; its CPU includes PostgreSQL and the Temporal dev server.`,
      );
    }
    if (rateLimit && tools.includes('product')) {
      // Start to Synced as the API reports it: the pass's set-up and read model count against the rate too.
      const held = runs
        .filter((r) => r.tool === 'product' && r.pass === 'full')
        .map((r) => corpus.bytes / r.seconds / rateLimit);
      lines.push('');
      lines.push(
        `Rate limit: the destination endpoint's upload limited to ${rateLimit} bytes/s; the product's full passes held ${held.map((x) => `${(x * rateLimit).toFixed(0)} bytes/s (${(x * 100).toFixed(1)}% of the limit)`).join(', ')}: ${held.every((x) => Math.abs(x - 1) <= 0.1) ? 'within' : 'NOT within'} 10%.`,
      );
    }
    if (verifications.length) {
      const noChange = runs.filter((r) => r.tool === 'engine' && r.pass === 'no-change');
      const baseSync = median(noChange.map((r) => r.syncSeconds ?? NaN));
      lines.push('');
      lines.push(
        '| verification | seconds, first (cold) | seconds, again (warm) | ÷ no-change pass (sync only; cold, warm) | header FETCH alone, both sides, warm (s) | warm ÷ budget (2× no-change + header FETCH) | peak RSS MB | folders | grade |',
      );
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
      for (const pass of [...new Set(verifications.map((v) => v.pass))]) {
        const mine = verifications.filter((v) => v.pass === pass);
        const cold = median(mine.map((v) => v.syncSeconds));
        const warm = median(mine.map((v) => v.warmMs / 1000));
        const fetch = median(mine.map((v) => v.fetchMs / 1000));
        const budget = 2 * baseSync + fetch;
        lines.push(
          `| ${pass === 'verify' ? 'header data' : 'deep'} | ${cold.toFixed(2)} | ${warm.toFixed(2)} | ${(cold / baseSync).toFixed(1)}×, ${(warm / baseSync).toFixed(1)}× | ${fetch.toFixed(2)} | ${(warm / budget).toFixed(2)}× | ${Math.max(...mine.map((v) => v.maxRssMb)).toFixed(0)} | ${mine[0]!.folders} | ${[...new Set(mine.map((v) => v.grade))].join(', ')} |`,
        );
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    const peaks = new Map<string, number>();
    for (const r of runs) peaks.set(`${r.tool} ${r.pass}`, Math.max(peaks.get(`${r.tool} ${r.pass}`) ?? 0, r.maxRssMb));
    return peaks;
  } finally {
    await product?.stop();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all([source?.close(), destination?.close()]);
    await db?.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = (process.env.BENCH_MESSAGES ?? '10000').split(',').map(Number);
  const fsyncs = (process.env.BENCH_FSYNC ?? 'optimized,never').split(',');
  // The WAN profile: BENCH_RTT_MS=0,20,50 runs the bench once per added round trip, through delay proxies.
  const rtts = process.env.BENCH_RTT_MS ? process.env.BENCH_RTT_MS.split(',').map(Number) : [undefined];
  const peaks: Array<Map<string, number>> = [];
  for (const [i, messages] of sizes.entries()) {
    for (const [j, fsync] of fsyncs.entries()) {
      for (const [k, rtt] of rtts.entries()) {
        if (i || j || k) process.stdout.write('\n');
        const atSize = await benchAt(messages, fsync, rtt);
        if (j === 0 && k === 0) peaks.push(atSize);
      }
    }
  }
  if (sizes.length < 2) return;
  // Peak memory against mailbox size: the same 10 MB messages (BENCH_HUGE) at every size, so only the count grows.
  const lines = ['', `Peak RSS MB by corpus size (max over runs; ${sizes.length} sizes):`, ''];
  lines.push(`| tool | pass | ${sizes.join(' | ')} | last ÷ first |`);
  lines.push(`| --- | --- | ${sizes.map(() => '---:').join(' | ')} | ---: |`);
  for (const key of peaks[0]!.keys()) {
    const mb = peaks.map((p) => p.get(key) ?? NaN);
    const [tool, pass] = key.split(' ');
    lines.push(
      `| ${tool} | ${pass} | ${mb.map((x) => x.toFixed(0)).join(' | ')} | ${(mb[mb.length - 1]! / mb[0]!).toFixed(2)}× |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function dovecotVersion(): Promise<string> {
  return new Promise((resolve) =>
    execFile('/usr/sbin/dovecot', ['--version'], (_e, out) => resolve(String(out).trim().split(' ')[0] ?? '?')),
  );
}

/**
 * Where the product's time went in one pass (BENCH_TIMING=1), from its worker's log lines: the API call to the
 * activity's "mailbox sync started", the sync inside the activity ("mailbox sync finished": seconds), and from
 * there to the batch showing settled in the API.
 */
function productTimeline(log: string, calledAt: number, settledAt: number): string {
  const lines = log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; time?: string; seconds?: number });
  const at = (msg: string) => lines.find((l) => l.msg === msg);
  const started = at('mailbox sync started');
  const finished = at('mailbox sync finished');
  if (!started?.time || !finished?.time) return 'product timeline: no sync lines in its log';
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `product timeline: call → activity started ${s(Date.parse(started.time) - calledAt)}, sync ${finished.seconds?.toFixed(2)} s, activity finished → settled in the API ${s(settledAt - Date.parse(finished.time))}`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
