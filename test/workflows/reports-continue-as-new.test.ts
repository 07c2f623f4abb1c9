import { mailboxesChangedSignal } from '../../domain/batch-messages';
import { waitFor as waitUntil } from '../fixtures/wait-for';
import { HOUR, withBatch } from './harness';
import { keyTime, reports, timeSkippingPerTest } from './reports-harness';

const currentEnv = timeSkippingPerTest();

test('the summary clock keeps its absolute deadline across continue-as-new', async () => {
  await withBatch(
    currentEnv(),
    { mailboxes: 1, input: { autoStart: true, reports: reports(), policy: { historyEventBudget: 30 } } },
    async ({ handle, fake, waitFor, status }) => {
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report');
      for (let i = 0; i < 15; i++) await handle.signal(mailboxesChangedSignal);
      await waitUntil(async () => (await status()).runs >= 1, 'the workflow to continue as new');
      await currentEnv().sleep(7 * HOUR);
      await waitUntil(() => fake.reportCalls.length === 2, 'the first summary');
      expect(fake.reportCalls[1]!.key).toBe(`summary:${keyTime(fake.reportCalls[0]!.key) + 6 * HOUR}`);
    },
  );
});
