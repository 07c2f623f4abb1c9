import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { temporalCliPath } from '../config/temporal-binaries';

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` with its Web UI, a persistent SQLite file, and mailferry's search attributes
 * registered, logging to `logFile`. The caller waits for it with a client connection.
 */
export function startTemporalDevServer(options: {
  port: number;
  uiPort: number;
  dbFile: string;
  logFile: string;
}): DevServerHandle {
  const searchAttributeArgs = SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(
    temporalCliPath(),
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
      ...searchAttributeArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      log.end();
    },
  };
}
