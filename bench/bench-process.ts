/**
 * What the benches share to run a tool as a process of its own: `timed` (wall time, peak memory and CPU from
 * /usr/bin/time), `bundleForNode` (a bench entry compiled as a worker runs it), `median`, and the bench's own
 * migrated database (DATABASE_URL, else an embedded PostgreSQL).
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { freePort } from '../test/fixtures/ports';

export interface Timed {
  seconds: number;
  maxRssMb: number;
  cpuSeconds: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time and returns its wall time and peak memory; a non-zero exit throws. */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', command, ...args], {
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
      const rss = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) return reject(new Error(`${command} exited with ${code}: ${stderr.slice(-2000)}`));
      resolve({
        seconds,
        maxRssMb: rss ? Number(rss[1]) / 1024 : NaN,
        cpuSeconds: rss ? Number(rss[2]) + Number(rss[3]) : NaN,
        stdout,
        stderr: stderr.replace(/MAXRSS .*\n?/, ''),
      });
    });
  });
}

/**
 * Compiles a bench entry as a worker runs it (scripts/build.sh): the project's modules in one file, the npm
 * packages from node_modules (bundling imapflow too would leave the IMAP engine's LITERAL+ hook,
 * imap/multiappend.ts, on a copy imapflow does not use). Returns the file's path, in dist/.
 */
export async function bundleForNode(entry: string, name: string): Promise<string> {
  const outfile = path.join(__dirname, '..', 'dist', name);
  await new Promise<void>((resolve, reject) =>
    execFile(
      path.join(__dirname, '..', 'node_modules', '.bin', 'esbuild'),
      [
        entry,
        '--bundle',
        '--platform=node',
        '--target=node20',
        `--outfile=${outfile}`,
        '--packages=external',
        '--log-level=error',
      ],
      (err) => (err ? reject(err) : resolve()),
    ),
  );
  return outfile;
}

export function median(xs: number[]): number {
  const v = [...xs].sort((x, y) => x - y);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

export interface BenchDatabase {
  url: string;
  pool: Pool;
  close(): Promise<void>;
}

/** A migrated database `name` on DATABASE_URL's server, else on an embedded PostgreSQL in `workDir`. */
export async function openBenchDatabase(workDir: string, name: string): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  const pg = adminUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port: await freePort() });
  adminUrl ??= pg!.url;
  let pool: Pool | undefined;
  try {
    const admin = new Pool({ connectionString: adminUrl, max: 1 });
    await admin.query(`create database ${name}`);
    await admin.end();
    const dbUrl = new URL(adminUrl);
    dbUrl.pathname = `/${name}`;
    pool = new Pool({ connectionString: dbUrl.toString(), max: 2 });
    pool.on('error', () => undefined);
    await migrate(pool);
    const opened = pool;
    return {
      url: dbUrl.toString(),
      pool: opened,
      close: async () => {
        await opened.end();
        await pg?.stop();
      },
    };
  } catch (err) {
    await pool?.end();
    await pg?.stop();
    throw err;
  }
}
