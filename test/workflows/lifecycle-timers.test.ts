import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingEnvironment } from '../fixtures/temporal';
import { DAY, HOUR, withBatch } from './harness';
import { waitFor as waitUntil } from '../fixtures/wait-for';

// A fresh time-skipping server per test: when a test ends while one of its activities is still running, the
// server can keep time skipping locked for good, and the next test's env.sleep would wait in real time.
let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await timeSkippingEnvironment();
});
afterEach(async () => {
  await env?.teardown();
});

test('a started batch syncs every mailbox once and reaches Synced', async () => {
  await withBatch(env, { mailboxes: 5 }, async ({ fake, waitFor, signal }) => {
    await signal('start');
    const synced = await waitFor('Synced');
    expect(synced.counts).toMatchObject({ total: 5, synced: 5, failed: 0 });
    expect(synced.percentageSynced).toBe(100);
    expect(synced.initialSyncAt).not.toBeNull();
    expect(fake.syncCalls.map((c) => c.mailboxId).sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(fake.published.at(-1)?.status).toBe('Synced');
  });
});

test('a Synced batch runs an incremental sync every 24 hours', async () => {
  await withBatch(env, { mailboxes: 2, input: { autoStart: true } }, async ({ fake, waitFor, status }) => {
    await waitFor('Synced');
    const incrementals = () => fake.syncCalls.filter((c) => c.pass === 'incremental').length;
    await env.sleep(23 * HOUR);
    expect(incrementals()).toBe(0);
    await env.sleep(2 * HOUR);
    await waitFor('Synced');
    expect(incrementals()).toBe(2);
    await env.sleep(DAY);
    await waitFor('Synced');
    expect(incrementals()).toBe(4);
    expect(Date.parse((await status()).nextIncrementalSyncAt!)).toBeGreaterThan(await env.currentTimeMs());
  });
});

test('a Synced batch with no admin activity is stopped at day 60, not before', async () => {
  await withBatch(env, { mailboxes: 1, input: { autoStart: true } }, async ({ fake, waitFor, status }) => {
    await waitFor('Synced');
    await env.sleep(59 * DAY + 23 * HOUR);
    expect((await status()).status).not.toBe('Stopped');
    await env.sleep(2 * HOUR);
    await waitFor('Stopped');
    // The audit is written by an activity after the status changed: wait for the entry, then check it is one.
    const policyStops = () => fake.audit.filter((a) => a.actor === 'lifecycle-policy' && a.command === 'stop');
    await waitUntil(() => policyStops().length > 0, 'the audit entry of the policy stop');
    expect(policyStops()).toHaveLength(1);
  });
});

test('an admin command at day 59 moves the inactivity stop to day 119', async () => {
  await withBatch(env, { mailboxes: 1, input: { autoStart: true } }, async ({ waitFor, status, signal }) => {
    await waitFor('Synced');
    await env.sleep(59 * DAY);
    await waitFor('Synced');
    await signal('edit', { badItemLimit: 20 });
    await env.sleep(59 * DAY + 23 * HOUR); // day 118 + 23h
    expect((await status()).status).not.toBe('Stopped');
    await env.sleep(2 * HOUR);
    await waitFor('Stopped');
  });
});

test('a Stopped batch is removed after 90 days', async () => {
  await withBatch(env, { mailboxes: 1, input: { autoStart: true } }, async ({ handle, fake, waitFor, signal }) => {
    await waitFor('Synced');
    await signal('stop');
    await waitFor('Stopped');
    await env.sleep(89 * DAY);
    expect(fake.removed).toBe(false);
    await env.sleep(2 * DAY);
    await handle.result();
    expect(fake.removed).toBe(true);
    expect(fake.audit.at(-1)).toMatchObject({ actor: 'lifecycle-policy', command: 'remove' });
  });
});

test('a Failed batch is removed after 90 days', async () => {
  await withBatch(
    env,
    { mailboxes: 2, input: { autoStart: true }, prepare: (f) => ['1', '2'].forEach((id) => f.failing.add(id)) },
    async ({ handle, fake, waitFor }) => {
      const failed = await waitFor('Failed');
      expect(failed.counts.failed).toBe(2);
      await env.sleep(89 * DAY);
      expect(fake.removed).toBe(false);
      await env.sleep(2 * DAY);
      await handle.result();
      expect(fake.removed).toBe(true);
    },
  );
});

test('a Completed batch is removed after 60 days', async () => {
  await withBatch(env, { mailboxes: 2, input: { autoStart: true } }, async ({ handle, fake, waitFor, signal }) => {
    await waitFor('Synced');
    await signal('complete');
    const completed = await waitFor('Completed');
    expect(completed.counts.finalized).toBe(2);
    expect(fake.syncCalls.filter((c) => c.pass === 'final')).toHaveLength(2);
    await env.sleep(59 * DAY);
    expect(fake.removed).toBe(false);
    await env.sleep(2 * DAY);
    await handle.result();
    expect(fake.removed).toBe(true);
  });
});

test('StartAfter queues a started batch until its time', async () => {
  await withBatch(env, { mailboxes: 1 }, async ({ fake, waitFor, signal }) => {
    const now = await env.currentTimeMs();
    await signal('edit', { startAfter: new Date(now + 2 * DAY).toISOString() });
    await signal('start');
    await waitFor('Queued');
    await env.sleep(DAY);
    expect(fake.syncCalls).toHaveLength(0);
    await env.sleep(DAY + HOUR);
    await waitFor('Synced');
    expect(fake.syncCalls).toHaveLength(1);
  });
});

test('CompleteAfter completes a Synced batch at its time', async () => {
  await withBatch(env, { mailboxes: 2 }, async ({ waitFor, signal }) => {
    const now = await env.currentTimeMs();
    await signal('edit', { completeAfter: new Date(now + 3 * DAY).toISOString() });
    await signal('start');
    await waitFor('Synced');
    await env.sleep(2 * DAY);
    await waitFor('Synced');
    await env.sleep(DAY + HOUR);
    const completed = await waitFor('Completed');
    expect(completed.counts.finalized).toBe(2);
  });
});

test('Resume retries the failed mailboxes of a batch Synced with errors', async () => {
  await withBatch(
    env,
    { mailboxes: 3, input: { autoStart: true }, prepare: (f) => f.failing.add('2') },
    async ({ fake, waitFor, signal }) => {
      await waitFor('SyncedWithErrors');
      fake.failing.clear();
      await signal('resume');
      const synced = await waitFor('Synced');
      expect(synced.counts).toMatchObject({ synced: 3, failed: 0 });
    },
  );
});
