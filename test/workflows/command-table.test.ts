import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commandUpdate, stopSignal } from '../../domain/batch-messages';
import {
  allowedCommands,
  BATCH_COMMANDS,
  BATCH_STATUSES,
  type BatchCommand,
  type BatchStatus,
} from '../../domain/batch-status';
import { SEED_COMMAND_TABLE } from '../fixtures/seed-command-table';
import { waitFor } from '../fixtures/wait-for';
import { devServerEnvironment } from '../fixtures/temporal';
import type { FakeActivities } from './fake-activities';
import { DAY, withBatch, type BatchUnderTest } from './harness';

const by = 'admin@contoso.com';

/** How to bring a fresh batch (two mailboxes) into each status; transitional ones are held by a gated activity. */
const ROUTES: Record<
  BatchStatus,
  { prepare?: (fake: FakeActivities) => void; drive: (b: BatchUnderTest) => Promise<void> }
> = {
  Created: { drive: async () => undefined },
  Queued: {
    drive: async (b) => {
      await send(b, 'edit', { startAfter: new Date(Date.now() + 3650 * DAY).toISOString() });
      await send(b, 'start');
    },
  },
  Starting: { prepare: (f) => f.hold('prepareStart'), drive: (b) => send(b, 'start') },
  Syncing: { prepare: (f) => f.hold('syncMailbox'), drive: (b) => send(b, 'start') },
  Synced: { drive: (b) => synced(b) },
  SyncedWithErrors: { prepare: (f) => f.failing.add('1'), drive: (b) => synced(b, 'SyncedWithErrors') },
  Stopping: {
    drive: async (b) => {
      await synced(b);
      b.fake.hold('markMailboxesStopped');
      await send(b, 'stop');
    },
  },
  Stopped: {
    drive: async (b) => {
      await synced(b);
      await send(b, 'stop');
    },
  },
  Completing: {
    drive: async (b) => {
      await synced(b);
      b.fake.hold('syncMailbox');
      await send(b, 'complete');
    },
  },
  Completed: {
    drive: async (b) => {
      await synced(b);
      await send(b, 'complete');
    },
  },
  Removing: { prepare: (f) => f.hold('removeBatch'), drive: (b) => send(b, 'remove') },
  Failed: { prepare: (f) => ['1', '2'].forEach((id) => f.failing.add(id)), drive: (b) => synced(b, 'Failed') },
};

async function send(b: BatchUnderTest, command: BatchCommand, edit?: object): Promise<void> {
  await b.handle.executeUpdate(commandUpdate, { args: [{ command, by, ...(edit ? { edit } : {}) }] });
}

async function synced(b: BatchUnderTest, status: BatchStatus = 'Synced'): Promise<void> {
  await send(b, 'start');
  await b.waitFor(status);
}

// The real dev server: the time-skipping test server sometimes never delivers an update that arrives while an
// activity completion is pending, which is exactly the situation of a command sent to a running batch.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

test('the command table is the seed’s', () => {
  for (const status of BATCH_STATUSES) expect([...allowedCommands(status)]).toEqual(SEED_COMMAND_TABLE[status]);
});

describe.each(BATCH_STATUSES)('in status %s', (status) => {
  const route = ROUTES[status];
  const refused = BATCH_COMMANDS.filter((c) => !SEED_COMMAND_TABLE[status].includes(c));

  if (refused.length > 0) {
    test(`the workflow refuses ${refused.join(', ')} and changes nothing`, async () => {
      await withBatch(env, { mailboxes: 2, prepare: route.prepare }, async (b) => {
        await route.drive(b);
        await b.waitFor(status);
        for (const command of refused) {
          const error = await b.handle.executeUpdate(commandUpdate, { args: [{ command, by }] }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
          expect(String((error as WorkflowUpdateFailedError).cause?.message)).toContain(`'${command}' is not allowed`);
          expect((await b.status()).status).toBe(status);
        }
        b.fake.releaseAll();
      });
    });
  }

  const accepted = SEED_COMMAND_TABLE[status];
  if (accepted.length === 0) return;
  test.each(accepted)(`the workflow accepts %s`, async (command) => {
    await withBatch(env, { mailboxes: 2, prepare: route.prepare }, async (b) => {
      await route.drive(b);
      await b.waitFor(status);
      const edit = command === 'edit' ? { badItemLimit: 5 } : undefined;
      const accepted = b.handle.executeUpdate(commandUpdate, { args: [{ command, by, ...(edit ? { edit } : {}) }] });
      b.fake.releaseAll();
      const after = await accepted;
      expect(after.recentCommands.at(-1)).toMatchObject({ command, outcome: 'accepted' });
    });
  });
});

test('a signal the status does not allow is recorded as rejected and changes nothing', async () => {
  await withBatch(env, { mailboxes: 1 }, async (b) => {
    await b.handle.signal(stopSignal, { by });
    const snapshot = await waitFor(async () => {
      const s = await b.status();
      return s.recentCommands.length > 0 && s;
    }, 'the rejected stop in the recent commands');
    expect(snapshot.status).toBe('Created');
    expect(snapshot.recentCommands).toEqual([
      expect.objectContaining({ command: 'stop', outcome: 'rejected', status: 'Created', by }),
    ]);
    // The audit entry is written by an activity after the status changed: wait for the entry itself.
    await waitFor(() => b.fake.audit.length > 0, 'the audit entry of the rejected stop');
    expect(b.fake.audit).toEqual([expect.objectContaining({ command: 'stop', outcome: 'rejected', actor: by })]);
    expect((await b.status()).status).toBe('Created');
  });
});
