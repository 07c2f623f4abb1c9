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
 * API's check and the workflow's validator. A scripted stand-in for the Temporal client plays the workflow; the
 * batch's read model says Synced throughout.
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

/** Answers queries with `statuses` in turn (the last one from then on); `queries` counts them. */
function scripted(statuses: BatchStatus[], update: () => Promise<BatchSnapshot>): Client & { queries: number } {
  const queue = [...statuses];
  const client = {
    queries: 0,
    options: { namespace: 'default' },
    withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
    workflow: {
      getHandle: () => ({
        query: async () => {
          client.queries++;
          return snapshot(queue.length > 1 ? queue.shift()! : queue[0]!);
        },
        executeUpdate: update,
      }),
    },
  };
  return client as unknown as Client & { queries: number };
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
  it('sends a command the read model allows without asking the workflow first', async () => {
    const temporal = scripted(['Syncing'], async () => snapshot('Syncing'));
    const result = await runCommand(deps(temporal), actor, 'Race', 'syncNow');
    expect(result).toMatchObject({ command: 'syncNow', outcome: 'accepted' });
    expect(temporal.queries).toBe(0);
  });

  it('asks the workflow before refusing a command the read model refuses (the read model lagged)', async () => {
    const sent: string[] = [];
    const temporal = scripted(['Stopped'], async () => {
      sent.push('resume');
      return snapshot('Syncing');
    });
    const result = await runCommand(deps(temporal), actor, 'Race', 'resume');
    expect(result).toMatchObject({ command: 'resume', outcome: 'accepted' });
    expect({ queries: temporal.queries, sent }).toEqual({ queries: 1, sent: ['resume'] });
  });

  it('answers 409 with the new status when the validator refuses (status moved to Syncing)', async () => {
    const temporal = scripted(['Syncing'], async () => {
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
    // A validator cannot write the audit log: the API records the workflow's refusal.
    const { rows } = await db.pool.query(
      `select actor, outcome, detail->>'reason' as reason, detail->>'status' as status from audit_log where command = 'complete'`,
    );
    expect(rows).toEqual([{ actor: actor.owner, outcome: 'rejected', reason: 'workflow', status: 'Syncing' }]);
  });

  it('answers alreadyApplied when the refused command had meanwhile taken effect (a concurrent stop)', async () => {
    const temporal = scripted(['Stopping'], async () => {
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
