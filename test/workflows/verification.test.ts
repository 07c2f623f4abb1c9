import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commandUpdate, mailboxCommandUpdate } from '../../domain/batch-messages';
import { devServerEnvironment } from '../fixtures/temporal';
import { waitFor as waitUntil } from '../fixtures/wait-for';
import { withBatch } from './harness';

/**
 * The batch workflow's side of verification, with fake activities: the `verify` command verifies every synced
 * mailbox beside the main loop with bounded concurrency while the batch stays Synced, Stop cancels it, one mailbox
 * can be verified alone, and Complete verifies every mailbox as its last step before Completed.
 */
const by = 'admin@contoso.com';

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('verify runs every synced mailbox at most mailboxConcurrency at once; the batch stays Synced', async () => {
    await withBatch(
      env,
      { mailboxes: 5, input: { autoStart: true, policy: { mailboxConcurrency: 2, pageSize: 2 } } },
      async (b) => {
        await b.waitFor('Synced');
        b.fake.hold('verifyMailbox');
        const reply = await b.handle.executeUpdate(commandUpdate, { args: [{ command: 'verify', by, deep: true }] });
        expect(reply.status).toBe('Synced');
        await waitUntil(() => b.fake.verifyCalls.length === 2, 'two verifications to be running');
        const running = await b.status();
        expect(running).toMatchObject({ status: 'Synced', verification: { deep: true, final: false, scheduled: 2 } });
        expect(b.fake.verifyCalls).toHaveLength(2);
        b.fake.release('verifyMailbox');
        await waitUntil(async () => (await b.status()).verification === null, 'the verification to end');
        expect(b.fake.verifyCalls.map((c) => c.mailboxId).sort()).toEqual(['1', '2', '3', '4', '5']);
        expect(b.fake.verifyCalls.every((c) => c.deep)).toBe(true);
        await waitUntil(
          () => b.fake.audit.some((a) => a.command === 'verify' && a.outcome === 'accepted' && a.detail.deep === true),
          'the verify command in the audit log',
        );
      },
    );
  });

  test('verify is refused while the batch syncs; Stop cancels a verification under way', async () => {
    await withBatch(env, { mailboxes: 2, prepare: (f) => f.held.add('1') }, async (b) => {
      await b.signal('start');
      await waitUntil(() => b.fake.mailboxes.get('1') === 'Syncing', 'mailbox 1 to be syncing');
      await expect(b.handle.executeUpdate(commandUpdate, { args: [{ command: 'verify', by }] })).rejects.toThrow(
        WorkflowUpdateFailedError,
      );
      b.fake.held.clear();
      b.fake.release('sync:1');
      await b.waitFor('Synced');
      b.fake.hold('verifyMailbox');
      await b.signal('verify');
      await waitUntil(() => b.fake.verifyCalls.length === 2, 'the verifications to be running');
      await b.signal('stop');
      const stopped = await b.waitFor('Stopped');
      expect(stopped.verification).toBeNull();
    });
  });

  test('a verification longer than the history budget continues as new and verifies each mailbox once', async () => {
    await withBatch(
      env,
      {
        mailboxes: 9,
        input: { autoStart: true, policy: { mailboxConcurrency: 2, pageSize: 2, historyEventBudget: 80 } },
      },
      async (b) => {
        const synced = await b.waitFor('Synced');
        await b.signal('verify');
        await waitUntil(
          async () => (await b.status()).verification === null && b.fake.verifyCalls.length >= 9,
          'the verification to end',
          { timeoutMs: 60_000 },
        );
        const after = await b.status();
        expect(after.runs).toBeGreaterThan(synced.runs);
        expect(b.fake.verifyCalls.map((c) => Number(c.mailboxId)).sort((x, y) => x - y)).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8, 9,
        ]);
        expect(after.status).toBe('Synced');
      },
    );
  });

  test('one mailbox is verified alone; Complete verifies every mailbox before Completed', async () => {
    await withBatch(env, { mailboxes: 3, input: { autoStart: true } }, async (b) => {
      await b.waitFor('Synced');
      await expect(
        b.handle.executeUpdate(mailboxCommandUpdate, {
          args: [{ command: 'verify', mailboxId: '2', email: 'user2@contoso.com', by, deep: true }],
        }),
      ).resolves.toEqual({ outcome: 'accepted', status: 'Synced' });
      await waitUntil(() => b.fake.verifyCalls.length === 1, 'the mailbox to be verified');
      expect(b.fake.verifyCalls[0]).toMatchObject({ mailboxId: '2', deep: true });
      await waitUntil(
        () => b.fake.audit.some((a) => a.command === 'verifyMailbox' && a.detail.deep === true),
        'the mailbox verify in the audit log',
      );

      b.fake.hold('verifyMailbox');
      await b.signal('complete');
      await waitUntil(async () => (await b.status()).verification?.final === true, 'the final verification');
      expect((await b.status()).status).toBe('Completing');
      b.fake.release('verifyMailbox');
      await b.waitFor('Completed');
      const final = b.fake.verifyCalls.slice(1);
      expect(final.map((c) => c.mailboxId).sort()).toEqual(['1', '2', '3']);
      expect(final.every((c) => !c.deep)).toBe(true);
    });
  });
});
