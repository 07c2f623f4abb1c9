import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerEnvironment } from '../fixtures/temporal';
import { withBatch } from './harness';

/**
 * What operators see in the Temporal Web UI: batches found by name and status through the search attributes,
 * the current details line, and timers named after what they wait for.
 */
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

/** Workflow ids a visibility query returns, once the server has indexed them (it lags a little). */
async function findIds(query: string, expected: number): Promise<string[]> {
  let ids: string[] = [];
  for (let i = 0; i < 100; i++) {
    ids = [];
    for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
    if (ids.length === expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ids;
}

test('a batch is found by name and by its current status, reads its state in its details and names its timers', async () => {
  await withBatch(env, { mailboxes: 2, input: { autoStart: true, searchAttributes: true } }, async (batch) => {
    const { handle, input } = batch;
    await batch.waitFor('Synced');
    const byName = `MailferryBatchName = "${input.name}"`;
    expect(await findIds(`${byName} AND MailferryStatus = "Synced"`, 1)).toEqual([handle.workflowId]);

    await batch.signal('stop');
    await batch.waitFor('Stopped');
    expect(await findIds(`${byName} AND MailferryStatus = "Stopped"`, 1)).toEqual([handle.workflowId]);
    expect(await findIds(`${byName} AND MailferryStatus = "Synced"`, 0)).toEqual([]);

    // The "current details" the UI shows above the history.
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('**Stopped** · 2/2 synced, 0 failed');
    expect(metadata.currentDetails).toMatch(/waiting for remove Stopped batch at \d{4}-/);

    // Timers carry a summary: the history says what each one waits for.
    const history = await handle.fetchHistory();
    const timerSummaries = (history.events ?? [])
      .filter((e) => e.timerStartedEventAttributes)
      .map((e) => e.userMetadata?.summary?.data)
      .filter((d): d is Uint8Array => !!d)
      .map((d) => JSON.parse(Buffer.from(d).toString('utf8')) as string);
    expect(timerSummaries).toEqual(expect.arrayContaining(['next incremental sync']));
  });
});
