import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mailboxesChangedSignal } from '../../domain/batch-messages';
import type { ReportSettings } from '../../domain/batch-reports';
import { timeSkippingEnvironment } from '../fixtures/temporal';
import { waitFor as waitUntil } from '../fixtures/wait-for';
import { HOUR, withBatch } from './harness';

// A fresh time-skipping server per test (see lifecycle-timers.test.ts).
let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await timeSkippingEnvironment();
});
afterEach(async () => {
  await env?.teardown();
});

const reports = (settings: Partial<ReportSettings> = {}): ReportSettings => ({
  hasRecipients: true,
  skip: false,
  intervalMs: 6 * HOUR,
  ...settings,
});

const keyTime = (key: string) => Number(key.split(':').at(-1));

test('a batch with recipients reports Synced once, then a summary every report interval while it stays synced', async () => {
  await withBatch(env, { mailboxes: 2, input: { autoStart: true, reports: reports() } }, async ({ fake, waitFor }) => {
    await waitFor('Synced');
    await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report');
    const [synced] = fake.reportCalls;
    expect(synced).toMatchObject({ kind: 'status', status: 'Synced' });
    expect(synced!.key).toMatch(/^status:Synced:\d+$/);

    // 25 hours: summaries at 6, 12, 18 and 24 hours; the incremental pass at 24 hours returns to Synced, which
    // is no new status report.
    await env.sleep(25 * HOUR);
    await waitFor('Synced');
    await waitUntil(() => fake.reportCalls.length >= 5, 'four summaries', { describe: () => fake.reportCalls });
    const summaries = fake.reportCalls.slice(1);
    expect(summaries.map((r) => r.kind)).toEqual(['summary', 'summary', 'summary', 'summary']);
    expect(summaries.map((r) => keyTime(r.key) - keyTime(synced!.key))).toEqual([
      6 * HOUR,
      12 * HOUR,
      18 * HOUR,
      24 * HOUR,
    ]);
    expect(fake.syncCalls.filter((c) => c.pass === 'incremental')).toHaveLength(2);
  });
});

test('skipReports, or a batch without recipients, sends no report at all', async () => {
  for (const settings of [reports({ skip: true }), reports({ hasRecipients: false }), undefined]) {
    await withBatch(env, { mailboxes: 1, input: { autoStart: true, reports: settings } }, async ({ fake, waitFor }) => {
      await waitFor('Synced');
      await env.sleep(13 * HOUR);
      await waitFor('Synced');
      expect(fake.reportCalls).toEqual([]);
    });
  }
});

test('a report that cannot be sent holds up neither commands nor passes, and is retried under the same key', async () => {
  await withBatch(
    env,
    { mailboxes: 2, input: { autoStart: true, reports: reports() } },
    async ({ fake, waitFor, signal }) => {
      fake.hold('sendBatchReport');
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report to be under way');
      // The send hangs: the batch still runs an incremental pass and stops on command.
      await signal('syncNow');
      await waitUntil(() => fake.syncCalls.filter((c) => c.pass === 'incremental').length === 2, 'the pass');
      await signal('stop');
      await waitFor('Stopped');

      fake.reportFailures = 2;
      fake.release('sendBatchReport');
      // The retries back off (10 s, then 20 s): skip past them.
      await env.sleep(HOUR);
      await waitUntil(() => fake.reportCalls.length === 3, 'two retries');
      expect(new Set(fake.reportCalls.map((r) => r.key)).size).toBe(1);
      // Stopped: the summary clock no longer runs.
      await env.sleep(13 * HOUR);
      expect(fake.reportCalls).toHaveLength(3);
    },
  );
});

test('the summary clock keeps its absolute deadline across continue-as-new', async () => {
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, reports: reports(), policy: { historyEventBudget: 30 } } },
    async ({ handle, fake, waitFor, status }) => {
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report');
      for (let i = 0; i < 15; i++) await handle.signal(mailboxesChangedSignal);
      await waitUntil(async () => (await status()).runs >= 1, 'the workflow to continue as new');
      await env.sleep(7 * HOUR);
      await waitUntil(() => fake.reportCalls.length === 2, 'the first summary');
      expect(fake.reportCalls[1]!.key).toBe(`summary:${keyTime(fake.reportCalls[0]!.key) + 6 * HOUR}`);
    },
  );
});

test('an edit that lists recipients turns reports on for a running batch', async () => {
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, reports: reports({ hasRecipients: false }) } },
    async ({ fake, waitFor, signal }) => {
      await waitFor('Synced');
      await signal('edit', { notificationEmails: ['ops@contoso.com'], reportIntervalMs: 2 * HOUR });
      await env.sleep(3 * HOUR);
      await waitUntil(() => fake.reportCalls.length === 1, 'a summary');
      expect(fake.reportCalls[0]).toMatchObject({ kind: 'summary', status: 'Synced' });
      await signal('edit', { skipReports: true });
      await env.sleep(5 * HOUR);
      expect(fake.reportCalls).toHaveLength(1);
    },
  );
});
