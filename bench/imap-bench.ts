/**
 * IMAP benchmark (`npm run bench`): one deterministic corpus on a source Dovecot, copied to a destination Dovecot by
 * this engine, by mbsync (isync; IMAP on both sides, like this engine) and by `doveadm backup` with the imapc
 * backend (Dovecot's own migration path: it writes the destination's storage directly, so it is a ceiling).
 * For each tool: a full pass and a no-change incremental pass, messages/s, MB/s, peak memory (max RSS of the
 * tool's process), whether the copy is byte-exact, and the ratios to mbsync. For the engine also a verification
 * of the copied mailbox (header data, and deep with BENCH_VERIFY_DEEP=1) against its no-change pass: the issue's
 * budget is at most 2× a no-change pass plus one FETCH of the header fields per folder per side.
 *
 * Environment: BENCH_MESSAGES (default 10000; a comma list such as 2500,10000 runs the whole bench at each size in
 * turn, each on fresh servers, and ends with each tool's peak RSS per size and the ratio), BENCH_HUGE (10 MB
 * messages, default 3, the same at every size), BENCH_TOOLS (comma list of engine,mbsync,doveadm; default all),
 * BENCH_FOLDER_CONCURRENCY (engine lanes, default 2),
 * BENCH_REPEAT (runs per tool, reported as the median; default 3), BENCH_TIMING (the engine's time inside
 * MULTIAPPEND and the peaks of its JS heap and buffers),
 * DATABASE_URL (else an embedded PostgreSQL is started).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../dev/embedded-postgres';
import { startDovecot, type DovecotServer, type SeedMessage } from '../test/fixtures/dovecot';
import { freePort } from '../test/fixtures/ports';
import { generateCorpus } from './imap-corpus';

const SOURCE_USER = 'bench@example.com';
const PASSWORD = 'bench-pw';

interface Measure {
  tool: string;
  pass: 'full' | 'no-change';
  seconds: number;
  maxRssMb: number;
}

/** Runs a command under /usr/bin/time and returns its wall time and peak memory. */
function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ seconds: number; maxRssMb: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', command, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = /MAXRSS (\d+)/.exec(stderr);
      if (code !== 0) return reject(new Error(`${command} exited with ${code}: ${stderr.slice(-2000)}`));
      resolve({
        seconds,
        maxRssMb: rss ? Number(rss[1]) / 1024 : NaN,
        stdout,
        stderr: stderr.replace(/MAXRSS \d+\n?/, ''),
      });
    });
  });
}

async function seedCorpus(source: DovecotServer, messages: number, huge: number) {
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
        SOURCE_USER,
        batch.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0)),
      );
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length)
    await source.seed(
      SOURCE_USER,
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

function mbsyncConfig(dir: string, source: DovecotServer, destination: DovecotServer, user: string): string {
  return `IMAPAccount far
Host ${source.host}
Port ${source.port}
User ${SOURCE_USER}
Pass ${PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore far
Account far

IMAPAccount near
Host ${destination.host}
Port ${destination.port}
User ${user}
Pass ${PASSWORD}
SSLType None
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
SyncState ${dir}/mbsync-state/
`;
}

/** Runs the bench on a corpus of `messages`; returns the peak RSS (MB) of each tool and pass, over the runs. */
async function benchAt(messages: number): Promise<Map<string, number>> {
  const huge = Number(process.env.BENCH_HUGE ?? 3);
  const tools = (process.env.BENCH_TOOLS ?? 'engine,mbsync,doveadm').split(',');
  const folderConcurrency = Number(process.env.BENCH_FOLDER_CONCURRENCY ?? 2);
  const repeats = Number(process.env.BENCH_REPEAT ?? 3);
  const work = await mkdtemp(path.join(os.tmpdir(), 'mf-bench-'));
  let pg: EmbeddedPostgresHandle | undefined;
  let source: DovecotServer | undefined;
  let destination: DovecotServer | undefined;
  let pool: Pool | undefined;
  try {
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      pg = await startEmbeddedPostgres({ dataDir: path.join(work, 'pg'), port: await freePort() });
      adminUrl = pg.url;
    }
    const dbName = `mailferry_bench_${process.pid}_${messages}`;
    const admin = new Pool({ connectionString: adminUrl, max: 1 });
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const dbUrl = new URL(adminUrl);
    dbUrl.pathname = `/${dbName}`;
    pool = new Pool({ connectionString: dbUrl.toString(), max: 2 });
    pool.on('error', () => undefined);
    await migrate(pool);

    [source, destination] = await Promise.all([startDovecot(), startDovecot()]);
    await source.addUser(SOURCE_USER, PASSWORD);

    for (let rep = 1; rep <= repeats; rep++)
      for (const t of tools) await destination.addUser(`${t}-${rep}@example.com`, PASSWORD);
    process.stderr.write(`seeding ${messages} messages ...\n`);
    const seededAt = Date.now();
    const corpus = await seedCorpus(source, messages, huge);
    const mb = corpus.bytes / 1024 / 1024;
    process.stderr.write(
      `seeded ${corpus.count} messages, ${mb.toFixed(1)} MB in ${((Date.now() - seededAt) / 1000).toFixed(1)} s\n`,
    );
    const reference = await fingerprint(source, SOURCE_USER);

    const endpoint = (s: DovecotServer) => ({
      host: s.host,
      port: s.port,
      security: 'none' as const,
      acceptUntrustedCerts: false,
      authMethod: 'plain' as const,
      provider: 'dovecot' as const,
    });
    const results: Record<string, { exact: boolean; metaExact: boolean; count: number }> = {};
    // The engine runs as one bundled JavaScript file, as a worker would run it (no TypeScript loader at start).
    const engineBundle = path.join(work, 'engine-run.js');
    await new Promise<void>((resolve, reject) =>
      execFile(
        path.join(__dirname, '..', 'node_modules', '.bin', 'esbuild'),
        [
          path.join(__dirname, 'imap-engine-run.ts'),
          '--bundle',
          '--platform=node',
          '--target=node20',
          `--outfile=${engineBundle}`,
          '--external:pg-native',
          '--log-level=error',
        ],
        (err) => (err ? reject(err) : resolve()),
      ),
    );

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

    const runTool = async (
      tool: string,
      user: string,
      pass: 'full' | 'no-change' | 'verify' | 'verify-deep',
      rep: number,
    ): Promise<{ seconds: number; maxRssMb: number; syncSeconds?: number; stdout?: string }> => {
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
          source: { endpoint: endpoint(source!), credentials: { user: SOURCE_USER, secret: PASSWORD } },
          destination: { endpoint: endpoint(destination!), credentials: { user, secret: PASSWORD } },
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
      if (tool === 'mbsync') {
        const cfg = path.join(work, `mbsyncrc-${rep}`);
        await mkdir(path.join(work, `mbsync-state-${rep}`), { recursive: true });
        await writeFile(
          cfg,
          mbsyncConfig(work, source!, destination!, user).replace('/mbsync-state/', `/mbsync-state-${rep}/`),
          { mode: 0o600 },
        );
        return timed('mbsync', ['-c', cfg, '-q', 'bench']);
      }
      if (tool === 'doveadm') {
        return timed('doveadm', [
          '-c',
          path.join(destination!.dir, 'dovecot.conf'),
          '-o',
          `imapc_host=${source!.host}`,
          '-o',
          `imapc_port=${source!.port}`,
          '-o',
          `imapc_user=${SOURCE_USER}`,
          '-o',
          `imapc_password=${PASSWORD}`,
          '-o',
          'imapc_features=rfc822.size fetch-headers modseq',
          '-o',
          'mail_prefetch_count=20',
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
        const user = `${tool}-${rep}@example.com`;
        for (const pass of ['full', 'no-change'] as const) {
          process.stderr.write(`${tool} (run ${rep}): ${pass} pass ...\n`);
          const r = await runTool(tool, user, pass, rep);
          runs.push({ tool, pass, rep, seconds: r.seconds, maxRssMb: r.maxRssMb, syncSeconds: r.syncSeconds });
          process.stderr.write(`  ${r.seconds.toFixed(2)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB\n`);
        }
        if (tool === 'engine') {
          const passes = process.env.BENCH_VERIFY_DEEP ? (['verify', 'verify-deep'] as const) : (['verify'] as const);
          for (const pass of passes) {
            process.stderr.write(`engine (run ${rep}): ${pass} ...\n`);
            const r = await runTool(tool, user, pass, rep);
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
        const got = await fingerprint(destination, user);
        const prev = results[tool];
        results[tool] = {
          count: got.count,
          exact: (prev?.exact ?? true) && got.content === reference.content,
          metaExact: (prev?.metaExact ?? true) && got.metaKeys.join('\n') === reference.metaKeys.join('\n'),
        };
      }
    }

    const median = (xs: number[]) => {
      const v = [...xs].sort((x, y) => x - y);
      return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    };
    const lines: string[] = [];
    lines.push(
      `Corpus: ${corpus.count} messages, ${mb.toFixed(1)} MB, ${corpus.folders.size} folders; ${os.cpus().length} CPUs; Dovecot ${await dovecotVersion()}; median of ${repeats} run(s) (min–max).`,
    );
    lines.push('');
    lines.push(
      '| tool | pass | seconds (process) | seconds (sync only) | messages/s | MB/s | peak RSS MB | copied | byte-exact | flags+dates exact | mbsync time ÷ tool time |',
    );
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |');
    for (const tool of tools) {
      for (const pass of ['full', 'no-change'] as const) {
        const mine = runs.filter((r) => r.tool === tool && r.pass === pass);
        const secs = mine.map((r) => r.seconds);
        const med = median(secs);
        const sync = mine.map((r) => r.syncSeconds).filter((x): x is number => x !== undefined);
        const base = runs.filter((r) => r.tool === 'mbsync' && r.pass === pass).map((r) => r.seconds);
        const res = results[tool];
        const range = secs.length > 1 ? ` (${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)})` : '';
        lines.push(
          `| ${tool} | ${pass} | ${med.toFixed(2)}${range} | ${sync.length ? median(sync).toFixed(2) : '–'} | ${pass === 'full' ? (corpus.count / med).toFixed(0) : '–'} | ${
            pass === 'full' ? (mb / med).toFixed(1) : '–'
          } | ${Math.max(...mine.map((r) => r.maxRssMb)).toFixed(0)} | ${res?.count ?? '?'} | ${res?.exact ? 'yes' : 'no'} | ${res?.metaExact ? 'yes' : 'no'} | ${
            base.length ? `${(median(base) / med).toFixed(2)}×` : '–'
          } |`,
        );
      }
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
    await pool?.end();
    await Promise.all([source?.close(), destination?.close()]);
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = (process.env.BENCH_MESSAGES ?? '10000').split(',').map(Number);
  const peaks: Array<Map<string, number>> = [];
  for (const [i, messages] of sizes.entries()) {
    if (i) process.stdout.write('\n');
    peaks.push(await benchAt(messages));
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

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
