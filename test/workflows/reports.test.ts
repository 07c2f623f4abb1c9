import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mailboxesChangedSignal } from '../../domain/batch-messages';
import type { ReportSettings } from '../../domain/batch-reports';
import { devServerEnvironment } from '../fixtures/temporal';
import { waitFor as waitUntil } from '../fixtures/wait-for';
import { withBatch } from './harness';

/**
 * The report clock on the dev server, in real time with intervals of seconds. On the time-skipping server these
 * tests hung now and then: its `sleep` raced a workflow task completion, which the server then refused ("invalid
 * history builder state for action") and never retried, so time stopped.
 */
const SECOND = 1_000;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const reports = (settings: Partial<ReportSettings> = {}): ReportSettings => ({
  hasRecipients: true,
  skip: false,
  intervalMs: 3 * SECOND,
  ...settings,
});

/** The time in a report's key (`summary:<ms>`, `status:<status>:<ms>`). */
const keyTime = (key: string) => Number(key.split(':').at(-1));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a batch with recipients reports Synced once, then a summary every report interval while it stays synced', async () => {
  await withBatch(
    env,
    {
      mailboxes: 2,
      input: { autoStart: true, reports: reports(), policy: { incrementalSyncIntervalMs: 12 * SECOND } },
    },
    async ({ fake, waitFor }) => {
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report');
      const [synced] = fake.reportCalls;
      expect(synced).toMatchObject({ kind: 'status', status: 'Synced' });
      expect(synced!.key).toMatch(/^status:Synced:\d+$/);

      // Summaries at 3, 6, 9 and 12 s; the incremental pass at 12 s returns to Synced, which is no new status report.
      await waitUntil(
        () => fake.syncCalls.filter((c) => c.pass === 'incremental').length === 2,
        'the incremental pass',
        {
          timeoutMs: 60_000,
        },
      );
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length >= 5, 'four summaries', {
        timeoutMs: 60_000,
        describe: () => fake.reportCalls,
      });
      const summaries = fake.reportCalls.slice(1, 5);
      expect(summaries.map((r) => r.kind)).toEqual(['summary', 'summary', 'summary', 'summary']);
      expect(summaries.map((r) => keyTime(r.key) - keyTime(synced!.key))).toEqual([
        3 * SECOND,
        6 * SECOND,
        9 * SECOND,
        12 * SECOND,
      ]);
      expect(fake.reportCalls.slice(1).every((r) => r.kind === 'summary')).toBe(true);
    },
  );
}, 120_000);

test('skipReports, or a batch without recipients, sends no report at all', async () => {
  for (const settings of [reports({ skip: true }), reports({ hasRecipients: false }), undefined]) {
    await withBatch(env, { mailboxes: 1, input: { autoStart: true, reports: settings } }, async ({ fake, waitFor }) => {
      await waitFor('Synced');
      await sleep(4 * SECOND);
      await waitFor('Synced');
      expect(fake.reportCalls).toEqual([]);
    });
  }
}, 120_000);

test('an edit that lists recipients turns reports on for a running batch', async () => {
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, reports: reports({ hasRecipients: false }) } },
    async ({ fake, waitFor, signal }) => {
      await waitFor('Synced');
      // The edit keeps the batch's 3-second interval (an edit may not set one under an hour).
      await signal('edit', { notificationEmails: ['ops@contoso.com'] });
      await waitUntil(() => fake.reportCalls.length === 1, 'a summary', { timeoutMs: 30_000 });
      expect(fake.reportCalls[0]).toMatchObject({ kind: 'summary', status: 'Synced' });
      await signal('edit', { skipReports: true });
      const sent = fake.reportCalls.length;
      await sleep(5 * SECOND);
      // A summary already under way when the edit landed may still go out; none after it.
      expect(fake.reportCalls.length).toBeLessThanOrEqual(sent + 1);
      const settled = fake.reportCalls.length;
      await sleep(3 * SECOND);
      expect(fake.reportCalls).toHaveLength(settled);
    },
  );
}, 120_000);

test('a report that cannot be sent holds up neither commands nor passes, and is retried under the same key', async () => {
  await withBatch(
    env,
    { mailboxes: 2, input: { autoStart: true, reports: reports({ intervalMs: 3_600_000 }) } },
    async ({ fake, waitFor, signal }) => {
      fake.hold('sendBatchReport');
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report to be under way');
      // The send hangs: the batch still runs an incremental pass and stops on command.
      await signal('syncNow');
      await waitUntil(() => fake.syncCalls.filter((c) => c.pass === 'incremental').length === 2, 'the pass');
      await signal('stop');
      await waitFor('Stopped');

      // The retries back off 10 s, then 20 s.
      fake.reportFailures = 2;
      fake.release('sendBatchReport');
      await waitUntil(() => fake.reportCalls.length === 3, 'two retries', { timeoutMs: 60_000, intervalMs: 200 });
      expect(new Set(fake.reportCalls.map((r) => r.key)).size).toBe(1);
    },
  );
}, 120_000);

test('the summary clock keeps its absolute deadline across continue-as-new', async () => {
  const intervalMs = 15 * SECOND;
  await withBatch(
    env,
    { mailboxes: 1, input: { autoStart: true, reports: reports({ intervalMs }), policy: { historyEventBudget: 30 } } },
    async ({ handle, fake, waitFor, status }) => {
      await waitFor('Synced');
      await waitUntil(() => fake.reportCalls.length === 1, 'the Synced report');
      for (let i = 0; i < 15; i++) await handle.signal(mailboxesChangedSignal);
      await waitUntil(async () => (await status()).runs >= 1, 'the workflow to continue as new');
      await waitUntil(() => fake.reportCalls.length === 2, 'the first summary', { timeoutMs: 60_000, intervalMs: 200 });
      expect(fake.reportCalls[1]!.key).toBe(`summary:${keyTime(fake.reportCalls[0]!.key) + intervalMs}`);
    },
  );
}, 120_000);
