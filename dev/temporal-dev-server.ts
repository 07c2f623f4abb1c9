import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync, writeFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { temporalCliPath } from '../config/temporal-binaries';
import { devServerDynamicConfigArgs } from '../config/temporal-dynamic-config';
import { describeError, StartError } from './start-error';

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  pid: number | undefined;
  /**
   * Rejects with the cause (its exit and the tail of its log) if the server ends before {@link stop}; never
   * settles otherwise. For racing the start-up's wait for a connection.
   */
  failed: Promise<never>;
  stop(): Promise<void>;
}

/** Bytes of the log's end shown when the server fails. */
const LOG_TAIL_BYTES = 2_000;

/**
 * Runs `temporal server start-dev` with its Web UI, a persistent SQLite file, and mailferry's search attributes
 * registered, logging to `logFile` and recording its pid in `pidFile` (for the next start's clean-up of a server
 * left running). The caller waits for it with a client connection.
 *
 * The server writes its log to the file directly, not through this process: when this process is killed the
 * log keeps what the server says, and the server is not killed by a broken pipe halfway through its shutdown.
 */
export interface DevServerOptions {
  port: number;
  uiPort: number;
  dbFile: string;
  logFile: string;
  pidFile?: string;
  /** Called with the server's pid once it is spawned (the watchdog's hook). */
  onSpawn?: (pid: number) => void;
}

/** Starts at most this many times when the server loses an internal port to another program (see below). */
const START_ATTEMPTS = 3;

export function startTemporalDevServer(options: DevServerOptions): DevServerHandle {
  let current = startOnce(options);
  let attempts = 1;
  const failed = (async (): Promise<never> => {
    for (;;) {
      try {
        return await current.failed;
      } catch (err) {
        if (attempts >= START_ATTEMPTS || !lostInternalPort(err, options)) throw err;
        attempts++;
        current = startOnce(options);
      }
    }
  })();
  failed.catch(() => undefined); // the caller races it during start-up only
  return {
    address: current.address,
    uiUrl: current.uiUrl,
    get pid() {
      return current.pid;
    },
    failed,
    stop: () => current.stop(),
  };
}

/**
 * The CLI picks the ports of its internal services (history, matching, worker) at random, and another program can
 * bind one between the pick and the server's own bind: the server then dies with "address already in use" on a
 * port that is none of ours. Starting again picks again; a port of ours in use is the admin's to fix.
 */
export function lostInternalPort(err: unknown, options: DevServerOptions): boolean {
  const taken = /listen tcp [^ ]*:(\d+): bind: address already in use/.exec(String((err as Error)?.message ?? ''));
  return taken !== null && ![options.port, options.uiPort].includes(Number(taken[1]));
}

function startOnce(options: DevServerOptions): DevServerHandle {
  const searchAttributeArgs = SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
  let cli: string;
  try {
    cli = temporalCliPath();
  } catch (err) {
    throw new StartError(describeError(err), "run 'bash scripts/setup.sh', or set TEMPORAL_CLI_PATH to a temporal CLI");
  }
  const logFd = openSync(options.logFile, 'a');
  const logStart = statSync(options.logFile).size;
  let child;
  try {
    child = spawn(
      cli,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(options.port),
        '--ui-port',
        String(options.uiPort),
        '--db-filename',
        options.dbFile,
        '--log-level',
        'warn',
        // SQLite's write-ahead log instead of its default rollback journal (a journal file created, synced and
        // deleted per transaction): the server spends about a quarter less CPU on a no-change pass. `synchronous`
        // stays FULL, so every commit is on disk before the server answers, as before.
        '--sqlite-pragma',
        'journal_mode=wal',
        ...searchAttributeArgs,
        ...devServerDynamicConfigArgs(),
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const started = child;
  if (started.pid !== undefined) {
    options.onSpawn?.(started.pid);
    if (options.pidFile) writeFileSync(options.pidFile, `${started.pid}\n`);
  }
  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    started.once('exit', (code, signal) => resolve({ code, signal }));
    started.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const failed = exited.then(async (exit): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    const how = exit.error
      ? `could not be run: ${describeError(exit.error)}`
      : `exited during start-up (${exit.code !== null ? `code ${exit.code}` : exit.signal})`;
    const tail = await logTail(options.logFile, logStart);
    throw new StartError(
      `the Temporal dev server ${how}${tail ? `\n  last lines of ${options.logFile}:\n${tail}` : ''}`,
      `read the lines above for the cause; a port in use: set MAILFERRY_TEMPORAL_PORT or MAILFERRY_TEMPORAL_UI_PORT`,
    );
  });
  failed.catch(() => undefined); // the caller races it during start-up only
  const killOnExit = () => started.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    pid: started.pid,
    failed,
    async stop() {
      stopping = true;
      process.removeListener('exit', killOnExit);
      if (started.exitCode === null && started.signalCode === null) started.kill('SIGTERM');
      await exited;
      if (options.pidFile) await rm(options.pidFile, { force: true });
    },
  };
}

/** The log's lines written since `from`, indented, up to the last {@link LOG_TAIL_BYTES}. */
async function logTail(file: string, from: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const start = Math.max(from, size - LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `    ${line}`)
      .join('\n');
  } finally {
    await handle.close();
  }
}
