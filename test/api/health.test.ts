import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { waitFor } from '../fixtures/wait-for';
import { createEndpoint, createRealWorker, startApi, type ApiHarness } from './harness';

/**
 * GET /health against a real Temporal dev server: whether a worker polls the task queue. A missing worker is
 * reported (checks.workers.ok false, with what it means) but never makes the API unhealthy; a batch whose work no
 * worker picks up says since when it waits (`waitingForWorkerSince`, from Temporal's description of the workflow).
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

describe('GET /batches/{id}: waiting for a worker', () => {
  const csv = 'EmailAddress,UserName,Password\nwait@example.com,wait,wait-pw\n';
  // autoStart: its first sync is scheduled at once (and, with a worker, would try imap.example.com).
  const create = async (api: ApiHarness, name: string, autoStart: boolean) => {
    const endpoint = await createEndpoint(api, `${name}-endpoint`);
    return api.call('POST', '/batches', {
      name,
      sourceEndpointId: endpoint,
      destinationEndpointId: endpoint,
      csv,
      autoStart,
    });
  };

  it('says since when the batch has waited when no worker polls its task queue', async () => {
    const before = Date.now();
    const batch = await create(withoutWorker, 'unattended', true);
    const res = await withoutWorker.request('GET', `/batches/${batch.id}`);
    expect(res.status).toBe(200);
    expect(res.body.live).toBe(false);
    const since = Date.parse(res.body.waitingForWorkerSince);
    // Temporal's clock and ours agree to well under a second on one machine.
    expect(since).toBeGreaterThanOrEqual(before - 1000);
    expect(since).toBeLessThanOrEqual(Date.now());
    // The same time on the next look: it is when the work was scheduled, not when it was asked.
    expect((await withoutWorker.request('GET', `/batches/${batch.id}`)).body.waitingForWorkerSince).toBe(
      res.body.waitingForWorkerSince,
    );
  });

  it("says since when the batch's activities have waited when only workflow tasks are polled", async () => {
    // A worker with the workflows and no activities polls workflow tasks only: the workflow runs, its
    // activities stay scheduled.
    const queue = `health-workflows-only-${randomUUID()}`;
    const api = await startApi({ temporal: env.client, taskQueue: queue });
    const workflowsOnly = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: queue,
      workflowBundle: await workflowBundle(),
    });
    const running = workflowsOnly.run();
    try {
      const batch = await create(api, 'activities-stuck', true);
      const { raw } = await waitFor(
        async () => {
          const described = await env.client.workflow.getHandle(batch.workflowId).describe();
          return (described.raw.pendingActivities ?? []).length > 0 ? described : null;
        },
        'the workflow to schedule an activity',
        { timeoutMs: 30_000 },
      );
      const scheduled = optionalTsToMs(raw.pendingActivities![0]!.scheduledTime)!;
      const res = await api.request('GET', `/batches/${batch.id}`);
      expect(res.body.live).toBe(true);
      expect(Date.parse(res.body.waitingForWorkerSince)).toBeLessThanOrEqual(scheduled);
    } finally {
      workflowsOnly.shutdown();
      await running;
      await api.close();
    }
  });

  it('says nothing waits once a worker runs the batch', async () => {
    const batch = await create(withWorker, 'attended', false);
    const res = await waitFor(
      async () => {
        const r = await withWorker.request('GET', `/batches/${batch.id}`);
        return r.body.live && r.body.waitingForWorkerSince === null ? r : null;
      },
      'the worker to pick up the batch',
      { timeoutMs: 30_000, describe: async () => (await withWorker.request('GET', `/batches/${batch.id}`)).body },
    );
    expect(res.status).toBe(200);
  });
});
