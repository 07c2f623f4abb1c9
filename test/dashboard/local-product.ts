import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createBatchActivities } from '../../activities/batch-activities';
import { createSyncMailboxActivities } from '../../activities/sync-mailbox';
import { createImapConnectionTester } from '../../api/imap-tester';
import { startApi, type ApiHarness } from '../api/harness';
import { devServerEnvironment, workflowBundle } from '../fixtures/temporal';
import { ROOT } from './support';

/**
 * The product as the dashboard sees it: the API app serving the built dashboard, a real `temporal server
 * start-dev`, a worker with the real batch workflow and activities, a fresh PostgreSQL database, and the real
 * IMAP connection tester. Assembled from the API tests' harness until `test/fixtures/product.ts` lands.
 */
export interface Product {
  baseUrl: string;
  adminToken: string;
  viewerToken?: string;
  stop(): Promise<void>;
}

export async function startLocalProduct(): Promise<Product> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const taskQueue = `dashboard-test-${randomUUID()}`;
  const env: TestWorkflowEnvironment = await devServerEnvironment();
  let api: ApiHarness | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    api = await startApi({
      temporal: env.client,
      taskQueue,
      temporalUiUrl: 'http://localhost:8233/',
      searchAttributes: true,
      dashboardDir: join(ROOT, 'dashboard', 'dist'),
      testConnection: createImapConnectionTester({ timeoutMs: 5000 }),
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createBatchActivities({ pool: api.db.pool }),
        ...createSyncMailboxActivities({ pool: api.db.pool, secretBox: api.secretBox, progressIntervalMs: 200 }),
      },
    });
    running = worker.run();
  } catch (error) {
    await api?.close();
    await env.teardown();
    throw error;
  }
  const harness = api;
  const w = worker;
  return {
    baseUrl: `${harness.url}/`,
    adminToken: harness.adminToken,
    viewerToken: harness.viewerToken,
    async stop() {
      w.shutdown();
      await running?.catch(() => undefined);
      await harness.close();
      await env.teardown();
    },
  };
}
