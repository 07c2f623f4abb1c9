import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { devServerEnvironment } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';
import { createRealWorker, startApi, type ApiHarness } from './harness';

/**
 * GET /health against a real Temporal dev server: whether a worker polls the task queue. A missing worker is
 * reported (checks.workers.ok false, with what it means) but never makes the API unhealthy.
 */
Runtime.install({ logger: new DefaultLogger('WARN') });

let env: TestWorkflowEnvironment;
let withWorker: ApiHarness;
let withoutWorker: ApiHarness;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = `health-test-${randomUUID()}`;
const idleQueue = `health-idle-${randomUUID()}`;

beforeAll(async () => {
  env = await devServerEnvironment();
  [withWorker, withoutWorker] = await Promise.all([
    startApi({ temporal: env.client, taskQueue }),
    startApi({ temporal: env.client, taskQueue: idleQueue }),
  ]);
  worker = await createRealWorker(env, withWorker, taskQueue);
  workerRun = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await withWorker?.close();
  await withoutWorker?.close();
  await env?.teardown();
});

describe('GET /health: workers', () => {
  it('counts the worker polling the task queue', async () => {
    // Temporal lists a poller once it has polled; the worker starts polling a moment after run().
    const res = await waitFor(
      async () => {
        const r = await withWorker.request('GET', '/health', { token: null });
        return r.body.checks?.workers?.ok ? r : null;
      },
      'the worker to show as a poller',
      { describe: async () => (await withWorker.request('GET', '/health', { token: null })).body },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, temporal: { ok: true }, workers: { ok: true, latencyMs: expect.any(Number) } },
    });
    expect(res.body.checks.workers.pollers).toBeGreaterThanOrEqual(1);
    expect(res.body.checks.workers).not.toHaveProperty('message');
  });

  it('says batches will not progress when no worker polls, and stays 200', async () => {
    const res = await withoutWorker.request('GET', '/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks.workers).toEqual({
      ok: false,
      latencyMs: expect.any(Number),
      pollers: 0,
      message: `no worker is polling task queue ${idleQueue}: batches will not progress`,
    });
  });
});
