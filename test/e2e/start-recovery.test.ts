/**
 * The real entry point (`dev/start.ts`) when it cannot start: each start-up failure names its cause and a fix,
 * found before any server runs. Each test is bounded to a minute.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ensureDashboardBuilt,
  exitWithin,
  freePorts,
  killProducts,
  processesUsing,
  startProduct,
  type Ports,
} from './start-harness';

const tempDirs: string[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-recovery-'));
  tempDirs.push(dir);
  return dir;
}

/** A start that fails: waits for its exit (it must come within 30 s) and returns the exit and the output. */
async function failedStart(dataDir: string, ports: Ports, env: NodeJS.ProcessEnv = {}) {
  const product = startProduct(dataDir, ports, env);
  const exit = await exitWithin(product, 30_000);
  await new Promise((r) => setTimeout(r, 100)); // the last output after the exit event
  return { exit, output: product.output() };
}

beforeAll(() => ensureDashboardBuilt(), 120_000);

afterAll(async () => {
  await killProducts();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('npm start that cannot start names the cause and the fix', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    blocker = undefined;
  });

  it.each([
    ['PORT', 'api'],
    ['MAILFERRY_POSTGRES_PORT', 'postgres'],
    ['MAILFERRY_TEMPORAL_UI_PORT', 'temporalUi'],
  ] as const)(
    '%s taken by another program',
    async (setting, which) => {
      const dataDir = await freshDataDir();
      const ports = await freePorts();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker!.listen(ports[which], '127.0.0.1', resolve));
      const { exit, output } = await failedStart(dataDir, ports);
      expect(exit.code).toBe(1);
      expect(output).toContain(
        `mailferry: ${setting} ${ports[which]} is in use by another program (pid ${process.pid}: `,
      );
      expect(output).toContain(`  fix: stop that program, or set ${setting}=<a free port>`);
      expect(output).not.toContain('starting embedded PostgreSQL'); // found before anything ran
      expect(await processesUsing(dataDir)).toEqual([]);
    },
    60_000,
  );

  it('a corrupt secret key file: named, and left as it is', async () => {
    const dataDir = await freshDataDir();
    const keyFile = path.join(dataDir, 'secret.key');
    await writeFile(keyFile, 'this is not a key\n', { mode: 0o600 });
    const { exit, output } = await failedStart(dataDir, await freePorts());
    expect(exit.code).toBe(1);
    expect(output).toContain(
      `mailferry: the secret key file ${keyFile} is not a usable key: the secret key must be 32`,
    );
    expect(output).toContain('  fix: restore the file from your backup');
    expect(await readFile(keyFile, 'utf8')).toBe('this is not a key\n');
    expect(await processesUsing(dataDir)).toEqual([]);
  }, 60_000);

  it('a data directory that cannot be created', async () => {
    const parent = await freshDataDir();
    const inTheWay = path.join(parent, 'a-file');
    await writeFile(inTheWay, '');
    const dataDir = path.join(inTheWay, 'data');
    const { exit, output } = await failedStart(dataDir, await freePorts());
    expect(exit.code).toBe(1);
    expect(output).toContain(`mailferry: cannot write to the data directory ${dataDir} (MAILFERRY_DATA_DIR): ENOTDIR`);
    expect(output).toContain('  fix: a file is in the way: set MAILFERRY_DATA_DIR to a directory');
  }, 60_000);
});
