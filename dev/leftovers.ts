/**
 * What an earlier start of the same data directory may have left: a PostgreSQL still running (or only its
 * `postmaster.pid`), a Temporal dev server still running. The watchdog (dev/watchdog.ts) stops them when the
 * start process dies, but not when the whole process group was killed, nor what a start from before the watchdog
 * left. The next start clears them here, before it checks its ports, and says what it did in one line each.
 *
 * Stopping rather than reusing: a server left running belongs to no process, so no one would stop it at the end
 * of this start, and it may run with settings (a port) this start does not have. A fresh server on the same
 * data costs a second or two.
 */
import { readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { allPids, commandLine, isRunning, terminate, workingDirectory } from './processes';
import { StartError } from './start-error';

/** The start's own pid file in the data directory: one start per data directory. */
const START_PID_FILE = 'mailferry.pid';
/** Written by dev/temporal-dev-server.ts. */
export const TEMPORAL_PID_FILE = 'temporal.pid';

/**
 * Refuses to start while another start runs on `dataDir` (its leftovers are not leftovers), then records this
 * start's pid. Returns the release, which removes the file at the end of a clean stop.
 */
export async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, START_PID_FILE);
  const pid = await readPid(file);
  if (pid !== undefined && pid !== process.pid && (await isRunning(pid))) {
    const command = (await commandLine(pid)) ?? '';
    if (/\bstart\.ts\b/.test(command)) {
      throw new StartError(
        `mailferry is already running on the data directory ${dataDir} (pid ${pid})`,
        `stop that start first (Ctrl-C in its terminal, or kill ${pid}), or give this one its own MAILFERRY_DATA_DIR`,
      );
    }
  }
  await writeFile(file, `${process.pid}\n`);
  return async () => {
    if ((await readPid(file)) === process.pid) await rm(file, { force: true });
  };
}

/**
 * Stops a PostgreSQL that an earlier start left running on `pgData` (SIGINT, a fast shutdown; SIGKILL after
 * 10 s), ends server processes left by a postmaster that was killed, and removes lock files whose pid has ended
 * or now belongs to another program: `postmaster.pid` and the socket's lock file (`/tmp/.s.PGSQL.<port>.lock`).
 * PostgreSQL removes a lock file itself only when its pid does not exist at all; it refuses to start beside one
 * whose pid was reused, or is a zombie not yet collected by init.
 */
export async function clearPostgresLeftovers(pgData: string, port: number, say: (line: string) => void): Promise<void> {
  const lockFile = path.join(pgData, 'postmaster.pid');
  const lock = await readLines(lockFile);
  const pid = parsePid(lock?.[0]);
  const dir = await realpath(pgData).catch(() => pgData);
  const ofThisCluster = async (candidate: number) => {
    const command = (await commandLine(candidate)) ?? '';
    if (!/postgres/.test(command)) return false;
    return (await workingDirectory(candidate)) === dir || `${command} `.includes(`-D ${pgData} `);
  };

  if (pid !== undefined && (await isRunning(pid)) && (await ofThisCluster(pid))) {
    const how = await terminate(pid, 'SIGINT', 10_000);
    if (how !== 'gone') {
      const killed = how === 'killed' ? '; it did not stop on SIGINT within 10 s and was killed' : '';
      say(`mailferry: stopped a PostgreSQL left running by an earlier start (pid ${pid}${killed})`);
    }
  }
  if (pid !== undefined) {
    // A postmaster killed with SIGKILL leaves its server processes to notice; they hold its shared memory, and
    // PostgreSQL will not start until they are gone. Every process of a cluster works in its data directory.
    const stragglers: number[] = [];
    for (const candidate of await allPids()) {
      if (candidate !== pid && (await isRunning(candidate)) && (await ofThisCluster(candidate))) {
        stragglers.push(candidate);
      }
    }
    await Promise.all(stragglers.map((straggler) => terminate(straggler, 'SIGQUIT', 2_000)));
    if (stragglers.length > 0) {
      say(`mailferry: stopped ${stragglers.length} PostgreSQL server processes of an earlier start (${stragglers})`);
    }
  }

  // postmaster.pid: pid, data directory, start time, port, socket directory, ... A socket lock file: pid, data
  // directory. Read again: a postmaster that was stopped above removed its own.
  const socketLocks = new Set([`/tmp/.s.PGSQL.${port}.lock`]);
  if (lock?.[3] && lock[4]) socketLocks.add(path.join(lock[4], `.s.PGSQL.${lock[3]}.lock`));
  const removed: string[] = [];
  const reasons = new Set<string>();
  for (const file of [lockFile, ...socketLocks]) {
    const lines = await readLines(file);
    const owner = parsePid(lines?.[0]);
    if (owner === undefined || (file !== lockFile && lines?.[1] !== pgData)) continue; // none, or not ours
    if ((await isRunning(owner)) && (await ofThisCluster(owner))) continue; // live: not stale
    reasons.add((await isRunning(owner)) ? `pid ${owner} now belongs to another program` : `pid ${owner} has ended`);
    await rm(file, { force: true });
    removed.push(file === lockFile ? 'postmaster.pid' : file);
  }
  if (removed.length > 0) {
    say(
      `mailferry: removed ${removed.length > 1 ? 'stale lock files' : 'a stale'} ${removed.join(', ')} left by an ` +
        `earlier start that did not stop cleanly (${[...reasons].join('; ')})`,
    );
  }
}

/**
 * Stops a Temporal dev server that an earlier start left running on `dbFile` (SIGTERM; SIGKILL after 5 s): the
 * one named in the pid file, and on Linux any other whose command line names the same SQLite file (a start from
 * before the pid file).
 */
export async function clearTemporalLeftovers(
  dataDir: string,
  dbFile: string,
  say: (line: string) => void,
): Promise<void> {
  const pidFile = path.join(dataDir, TEMPORAL_PID_FILE);
  const ofThisDataDir = async (pid: number) => {
    const command = (await commandLine(pid)) ?? '';
    return command.includes('start-dev') && command.includes(`--db-filename ${dbFile}`);
  };
  const recorded = await readPid(pidFile);
  const candidates = new Set<number>(recorded === undefined ? [] : [recorded]);
  for (const pid of await allPids()) if (pid !== process.pid) candidates.add(pid);
  for (const pid of candidates) {
    if (!(await isRunning(pid)) || !(await ofThisDataDir(pid))) continue;
    const how = await terminate(pid, 'SIGTERM', 5_000);
    if (how === 'gone') continue;
    const killed = how === 'killed' ? '; it did not stop on SIGTERM within 5 s and was killed' : '';
    say(`mailferry: stopped a Temporal dev server left running by an earlier start (pid ${pid}${killed})`);
  }
  await rm(pidFile, { force: true });
}

async function readLines(file: string): Promise<string[] | undefined> {
  return (await readFile(file, 'utf8').catch(() => undefined))?.split('\n').map((line) => line.trim());
}

function parsePid(text: string | undefined): number | undefined {
  const pid = Number(text);
  return text && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function readPid(file: string): Promise<number | undefined> {
  return parsePid((await readLines(file))?.[0]);
}
