import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commandUpdate, editSignal, mailboxesChangedSignal } from '../../domain/batch-messages';
import { devServerEnvironment } from '../fixtures/temporal';
import { withBatch } from './harness';
import { waitFor as waitUntil } from '../fixtures/wait-for';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const by = 'admin@contoso.com';

test('a pass that spans several runs syncs every mailbox exactly once', async () => {
  await withBatch(
    env,
    { mailboxes: 40, input: { policy: { mailboxConcurrency: 3, pageSize: 7, historyEventBudget: 80 } } },
    async ({ handle, fake, waitFor }) => {
      await handle.executeUpdate(commandUpdate, { args: [{ command: 'start', by }] });
      const synced = await waitFor('Synced');
      const ids = fake.syncCalls.filter((c) => c.pass === 'initial').map((c) => c.mailboxId);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
      expect(synced.counts.synced).toBe(40);
      // 40 syncs take at least 120 history events against a budget of 80: the pass must have rolled over.
      expect(synced.runs).toBeGreaterThanOrEqual(1);
    },
  );
});

test('signals sent while the workflow rolls over are all applied', async () => {
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, policy: { historyEventBudget: 30 } } },
    async ({ handle, fake, waitFor, status }) => {
      await waitFor('Synced');
      const sent = 30;
      for (let i = 0; i < sent; i++) {
        await handle.signal(editSignal, { by, folderExclude: [`Folder ${i}`] });
        await new Promise((r) => setTimeout(r, 20)); // keep signals arriving while runs roll over
      }
      const accepted = () => fake.audit.filter((a) => a.command === 'edit' && a.outcome === 'accepted');
      // Each edit is applied, then audited: wait for both to land (a loaded machine runs activities late).
      await waitUntil(() => fake.edits.length >= sent && accepted().length >= sent, 'every edit applied and audited');
      expect(fake.edits.map((e) => e.folderExclude?.[0])).toEqual(
        Array.from({ length: sent }, (_, i) => `Folder ${i}`),
      );
      const snapshot = await status();
      expect(snapshot.runs).toBeGreaterThanOrEqual(2);
      expect(snapshot.status).toBe('Synced');
      expect(accepted()).toHaveLength(sent);
    },
  );
});

test('deadlines carried across runs stay absolute: a roll-over moves neither the next sync nor the auto-stop', async () => {
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, policy: { historyEventBudget: 30 } } },
    async ({ handle, waitFor, status }) => {
      const before = await waitFor('Synced');
      expect(before.nextIncrementalSyncAt).toEqual(expect.any(String));
      expect(before.autoStopAt).toEqual(expect.any(String));
      // Mailbox-count refreshes are not admin activity; enough of them fill the run's history budget.
      for (let i = 0; i < 15; i++) {
        await handle.signal(mailboxesChangedSignal);
        await new Promise((r) => setTimeout(r, 50));
      }
      const after = await waitUntil(async () => {
        const s = await status();
        return s.runs >= 1 && s;
      }, 'the workflow to continue as new');
      expect(after.runs).toBeGreaterThanOrEqual(1);
      expect(after).toMatchObject({
        status: 'Synced',
        nextIncrementalSyncAt: before.nextIncrementalSyncAt,
        autoStopAt: before.autoStopAt,
        lastAdminActivityAt: before.lastAdminActivityAt,
      });
    },
  );
});
