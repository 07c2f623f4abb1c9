import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseEdit } from '../../domain/batch-edit';
import { commandUpdate, editSignal, startSignal } from '../../domain/batch-messages';
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

test('an edit is checked field by field and refused whole when one field is wrong', () => {
  expect(parseEdit({ completeAfter: '2026-12-31T18:00:00Z', autoComplete: true, folderExclude: ['Junk'] })).toEqual({
    ok: true,
    edit: { completeAfter: '2026-12-31T18:00:00Z', autoComplete: true, folderExclude: ['Junk'] },
  });
  expect(parseEdit({ startAfter: null, by: 'ops' })).toEqual({ ok: true, edit: { startAfter: null } });
  expect(parseEdit({ completeAfter: 'next tuesday' })).toMatchObject({
    ok: false,
    reason: expect.stringContaining('completeAfter'),
  });
  expect(parseEdit({ badItemLimit: -1 })).toMatchObject({ ok: false });
  expect(parseEdit({ sourceEndpointId: "x'; drop table batches; --" })).toMatchObject({ ok: false });
  expect(parseEdit({ __proto__: { polluted: true }, autoComplete: true })).toMatchObject({ ok: true });
  expect(parseEdit({ password: 'hunter2' })).toEqual({ ok: false, reason: "unknown setting 'password'" });
  expect(parseEdit('not an object')).toMatchObject({ ok: false });
});

test('a malformed edit signal from the Web UI is recorded as rejected and changes nothing', async () => {
  await withBatch(env, { mailboxes: 1 }, async ({ handle, fake, status }) => {
    await handle.signal(editSignal, { by: 'ops@contoso.com', completeAfter: 'soon', autoComplete: true });
    await waitUntil(() => fake.audit.length > 0, 'the audit entry of the malformed edit');
    expect(fake.audit).toEqual([
      expect.objectContaining({
        command: 'edit',
        outcome: 'rejected',
        actor: 'ops@contoso.com',
        detail: expect.objectContaining({ reason: 'completeAfter must be an ISO 8601 time or null' }),
      }),
    ]);
    expect(fake.edits).toEqual([]);
    expect((await status()).autoComplete).toBe(false);
  });
});

test('the command update refuses a malformed edit before it reaches the history', async () => {
  await withBatch(env, { mailboxes: 1 }, async ({ handle, fake }) => {
    const error = await handle
      .executeUpdate(commandUpdate, { args: [{ command: 'edit', by: 'api', edit: { badItemLimit: 1.5 } }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error as WorkflowUpdateFailedError).cause?.message).toContain('badItemLimit must be a whole number');
    expect(fake.edits).toEqual([]);
  });
});

test('a signal without input is attributed to the Web UI', async () => {
  await withBatch(env, { mailboxes: 1 }, async ({ handle, waitFor }) => {
    await handle.signal(startSignal);
    const synced = await waitFor('Synced');
    expect(synced.recentCommands[0]).toMatchObject({ command: 'start', by: 'temporal-ui', outcome: 'accepted' });
  });
});
