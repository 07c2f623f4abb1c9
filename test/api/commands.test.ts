import { ServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { runCommand } from '../../api/commands';
import type { ApiDeps } from '../../api/deps';
import { ApiError } from '../../api/errors';
import type { BatchSnapshot } from '../../domain/batch-messages';
import type { BatchStatus } from '../../domain/batch-status';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { CapturingLogger } from './harness';

/**
 * The races a live workflow can produce, which the end-to-end tests cannot time: the status moves between the
 * API's check and the workflow's validator. A scripted stand-in for the Temporal client plays the workflow.
 */
let db: TestDatabase;
const actor = { tokenId: 't', name: 'n', owner: 'ops@example.com', role: 'admin' as const };

beforeAll(async () => {
  db = await createTestDatabase();
  const { rows } = await db.pool.query<{ id: string }>(
    `insert into endpoints (name, host, port, security) values ('e', 'h', 993, 'tls') returning id`,
  );
  await db.pool.query(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by)
     values ('88888888-8888-4888-8888-888888888888', 'Race', 'batch:Race', 'Synced', $1, $1, 'x')`,
    [rows[0]!.id],
  );
});
afterAll(async () => {
  await db.drop();
});

function snapshot(status: BatchStatus): BatchSnapshot {
  return { status } as BatchSnapshot;
}

function scripted(statuses: BatchStatus[], update: () => Promise<BatchSnapshot>): Client {
  const queue = [...statuses];
  const handle = {
    query: async () => snapshot(queue.length > 1 ? queue.shift()! : queue[0]!),
    executeUpdate: update,
  };
  return {
    options: { namespace: 'default' },
    withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
    workflow: { getHandle: () => handle },
  } as unknown as Client;
}

function deps(temporal: Client): ApiDeps {
  return {
    pool: db.pool,
    temporal,
    secretBox: { seal: () => Buffer.alloc(0), open: () => '' },
    taskQueue: 'q',
    logger: new CapturingLogger(),
    testConnection: async () => ({ ok: true, code: 'OK', message: '' }),
  };
}

describe('commands racing the workflow', () => {
  it('answers 409 with the new status when the validator refuses (status moved to Syncing)', async () => {
    const temporal = scripted(['Synced', 'Syncing'], async () => {
      throw new WorkflowUpdateFailedError(
        'update failed',
        ApplicationFailure.nonRetryable('complete is not allowed while Syncing', 'COMMAND_NOT_ALLOWED'),
      );
    });
    const err = await runCommand(deps(temporal), actor, 'Race', 'complete').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      code: 'COMMAND_NOT_ALLOWED',
      status: 409,
      details: { status: 'Syncing', allowedCommands: ['stop'] },
    });
    expect((err as Error).message).toContain('complete is not allowed while Syncing');
  });

  it('answers alreadyApplied when the refused command had meanwhile taken effect (a concurrent stop)', async () => {
    const temporal = scripted(['Synced', 'Stopping'], async () => {
      throw new WorkflowUpdateFailedError(
        'update failed',
        ApplicationFailure.nonRetryable('stop is not allowed while Stopping'),
      );
    });
    const result = await runCommand(deps(temporal), actor, 'Race', 'stop');
    expect(result).toMatchObject({ command: 'stop', outcome: 'alreadyApplied', batch: { status: 'Stopping' } });
  });

  it('maps an update that times out to 504 COMMAND_TIMEOUT and an unreachable server to 503', async () => {
    const timeout = scripted(['Synced'], async () => {
      throw new WorkflowUpdateRPCTimeoutOrCancelledError('timed out');
    });
    await expect(runCommand(deps(timeout), actor, 'Race', 'syncNow')).rejects.toMatchObject({
      code: 'COMMAND_TIMEOUT',
      status: 504,
    });
    const down = scripted(['Synced'], async () => {
      throw new ServiceError('unavailable');
    });
    await expect(runCommand(deps(down), actor, 'Race', 'syncNow')).rejects.toMatchObject({
      code: 'TEMPORAL_UNAVAILABLE',
      status: 503,
    });
  });
});
