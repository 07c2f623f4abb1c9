import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { freePort } from '../fixtures/ports';
import { devServerEnvironment } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';

const ROOT = path.resolve(__dirname, '../..');

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  [env, db, dataDir] = await Promise.all([
    devServerEnvironment(),
    createTestDatabase(),
    mkdtemp(path.join(os.tmpdir(), 'mf-worker-')),
  ]);
});
afterAll(async () => {
  await env?.teardown();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The JSON log lines among a process's output. */
const logLines = (output: string): Array<Record<string, unknown>> =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * The production worker process (`entry/worker.ts`), on external PostgreSQL and Temporal as in docker-compose. It
 * logs JSON lines only.
 */
test('the worker process starts on external servers and drains on SIGTERM, exiting 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'entry/worker.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: `worker-process-${randomUUID()}`,
      MAILFERRY_SECRET_KEY: randomBytes(32).toString('base64'),
      MAILFERRY_DATA_DIR: dataDir,
      // Not the default 9464: test files run side by side.
      MAILFERRY_METRICS_PORT: String(await freePort()),
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await waitFor(() => logLines(output).some((l) => l.msg === 'worker started'), 'the worker to start', {
      timeoutMs: 60_000,
      describe: () => output,
    });
    child.kill('SIGTERM');
    const result = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect({ result, output }).toMatchObject({ result: { code: 0, signal: null } });
    const lines = logLines(output);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['SIGTERM received, draining', 'worker stopped']));
    expect(lines.find((l) => l.msg === 'worker started')).toMatchObject({ level: 'info', process: 'worker' });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    // Nothing but JSON lines: a line for people would break a log shipper's parsing.
    expect(output.split('\n').filter((line) => line !== '' && !line.startsWith('{'))).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);
