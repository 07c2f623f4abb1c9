import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mailboxCommandUpdate, type MailboxCommandRequest } from '../../domain/batch-messages';
import { devServerEnvironment, timeSkippingEnvironment } from '../fixtures/temporal';
import { waitFor as waitUntil } from '../fixtures/wait-for';
import { HOUR, withBatch, type BatchUnderTest } from './harness';

/**
 * The batch workflow's side of the per-mailbox commands, with fake activities: a mailbox's sync is cancelled
 * alone, a started mailbox syncs beside the batch, refusals say why, and a mailbox StartAfter is a timer.
 */
const by = 'admin@contoso.com';

const command = (b: BatchUnderTest, req: Omit<MailboxCommandRequest, 'by' | 'email'>) =>
  b.handle.executeUpdate(mailboxCommandUpdate, { args: [{ by, email: `user${req.mailboxId}@contoso.com`, ...req }] });

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('a mailbox stopped mid-pass ends its sync alone, and the pass finishes the others', async () => {
    await withBatch(env, { mailboxes: 3, prepare: (f) => f.held.add('2') }, async (b) => {
      await b.signal('start');
      await waitUntil(() => b.fake.mailboxes.get('2') === 'Syncing', 'mailbox 2 to be syncing');
      await expect(command(b, { command: 'stop', mailboxId: '2' })).resolves.toEqual({
        outcome: 'accepted',
        status: 'Stopped',
      });
      const synced = await b.waitFor('Synced');
      expect(synced.counts).toMatchObject({ total: 3, synced: 2, stopped: 1 });
      // The query can show Synced while the activity that records the audit entry is still running.
      await waitUntil(
        () =>
          b.fake.audit.some(
            (a) => a.command === 'stopMailbox' && a.outcome === 'accepted' && a.detail.mailboxId === '2',
          ),
        'the accepted stopMailbox to be audited',
      );

      // Started again, it syncs on its own while the batch stays Synced.
      b.fake.held.clear();
      await expect(command(b, { command: 'start', mailboxId: '2' })).resolves.toEqual({
        outcome: 'accepted',
        status: 'Queued',
      });
      await waitUntil(() => b.fake.mailboxes.get('2') === 'Synced', 'mailbox 2 to be synced on its own');
      expect(b.fake.syncCalls.filter((c) => c.mailboxId === '2').at(-1)?.pass).toBe('incremental');
      await waitUntil(async () => (await b.status()).counts.synced === 3, 'the counts to follow');
    });
  });

  test('refusals name the reason: the batch status in the validator, the mailbox status when applied', async () => {
    await withBatch(env, { mailboxes: 2 }, async (b) => {
      // A created batch's mailboxes cannot be synced yet: the update's validator refuses.
      const early = command(b, { command: 'start', mailboxId: '1' });
      await expect(early).rejects.toThrow(WorkflowUpdateFailedError);
      await expect(early.catch((e: WorkflowUpdateFailedError) => e.cause?.message)).resolves.toMatch(
        /not allowed while the batch is Created/,
      );
      await b.signal('start');
      await b.waitFor('Synced');
      // Synced: stop is allowed, but not twice; a mailbox that has left answers MAILBOX_NOT_FOUND.
      await command(b, { command: 'stop', mailboxId: '1' });
      await expect(command(b, { command: 'stop', mailboxId: '1' })).resolves.toEqual({
        outcome: 'rejected',
        status: 'Stopped',
        code: 'MAILBOX_COMMAND_NOT_ALLOWED',
      });
      await command(b, { command: 'remove', mailboxId: '1' });
      await expect(command(b, { command: 'set', mailboxId: '1', overrides: { badItemLimit: 1 } })).resolves.toEqual({
        outcome: 'rejected',
        status: null,
        code: 'MAILBOX_NOT_FOUND',
      });
      const rejected = () => b.fake.audit.filter((a) => a.outcome === 'rejected').map((a) => a.command);
      await waitUntil(() => rejected().length === 2, 'both refusals to be audited');
      expect(rejected()).toEqual(['stopMailbox', 'setMailbox']);
    });
  });
});

describe('with time skipping', () => {
  let env: TestWorkflowEnvironment;
  beforeEach(async () => {
    env = await timeSkippingEnvironment();
  });
  afterEach(async () => {
    await env?.teardown();
  });

  test("a mailbox's own StartAfter keeps it waiting, and a timer syncs it when its time comes", async () => {
    await withBatch(env, { mailboxes: 2, input: { autoStart: true } }, async (b) => {
      await b.waitFor('Synced');
      const startAfter = new Date((await env.currentTimeMs()) + 2 * HOUR).toISOString();
      await command(b, { command: 'set', mailboxId: '1', overrides: { startAfter } });
      expect(b.fake.overrides).toEqual([{ mailboxId: '1', overrides: { startAfter } }]);
      const calls = () => b.fake.syncCalls.filter((c) => c.mailboxId === '1').length;
      const before = calls();
      await env.sleep(HOUR);
      expect(calls()).toBe(before);
      await env.sleep(2 * HOUR);
      await waitUntil(() => calls() === before + 1, 'mailbox 1 to be synced at its StartAfter');
    });
  });
});
