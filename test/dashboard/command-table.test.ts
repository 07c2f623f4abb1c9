import type { Browser, Page } from 'playwright-core';
import {
  allowedCommands,
  BATCH_STATUSES,
  RUNNING_STATUSES,
  STATUS_LABELS,
  type BatchCommand,
} from '../../domain/batch-status';
import { FAKE_TOKEN, startFakeApi, type FakeApi } from './fake-api';
import { BUTTONS, ensureDashboardBuilt, launchBrowser, screenshot, signIn, watchPageErrors } from './support';

/**
 * What the page does with the API's answers in every status, which the product only passes through briefly:
 * each command button is enabled exactly when the batch's `allowedCommands` holds it (the seed: a command the
 * status does not allow is dimmed), status changes appear without a reload, and an endpoint used by a running
 * batch shows why it cannot be edited. The API here is a stand-in serving the built page; the end-to-end test
 * (`migration-dashboard.test.ts`) covers the same page against the real product.
 */

describe('dashboard commands follow the status table', () => {
  let fake: FakeApi;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ensureDashboardBuilt();
    fake = await startFakeApi();
    fake.state.batches = BATCH_STATUSES.map((status, i) => ({
      id: `batch-${i}`,
      name: `In ${status}`,
      status,
      total: 10,
      synced: i % 10,
      failed: status === 'SyncedWithErrors' ? 2 : 0,
    }));
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = watchPageErrors(page);
    await signIn(page, fake.baseUrl, FAKE_TOKEN);
  });

  afterAll(async () => {
    await browser?.close();
    await fake?.close();
  });

  afterEach(() => expect(errors).toEqual([]));

  it('enables no batch command until a batch is selected', async () => {
    await page.locator('tr[data-batch-name]').first().waitFor();
    expect(await page.locator('tr[data-batch-name]').count()).toBe(BATCH_STATUSES.length);
    const bar = page.getByRole('toolbar', { name: 'Batch commands' });
    for (const [name] of BUTTONS) expect(await bar.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    expect(await bar.getByRole('button', { name: 'New migration batch' }).isEnabled()).toBe(true);
  });

  it.each(BATCH_STATUSES.map((status) => [status]))('in %s, enables exactly the allowed commands', async (status) => {
    await page.locator(`tr[data-batch-name="In ${status}"] a`).click();
    await page.getByRole('heading', { name: `In ${status}`, level: 2 }).waitFor();
    const bar = page.getByRole('toolbar', { name: 'Batch commands' });
    const enabled: BatchCommand[] = [];
    for (const [name, command] of BUTTONS) {
      const button = bar.getByRole('button', { name, exact: true });
      if (await button.isEnabled()) enabled.push(command);
      else expect(await button.getAttribute('title')).toBe(`Not allowed while ${STATUS_LABELS[status]}`);
    }
    expect(enabled.sort()).toEqual([...allowedCommands(status)].sort());
    if (status === 'SyncedWithErrors') await screenshot(page, 'fake-synced-with-errors');
  });

  it('shows a status change on its own, without Refresh', async () => {
    await page.locator('tr[data-batch-name="In Syncing"] a').click();
    await page.getByRole('heading', { name: 'In Syncing', level: 2 }).waitFor();
    const badge = page.locator('tr[data-batch-name="In Syncing"] .badge');
    expect(await badge.textContent()).toBe('Syncing');
    fake.state.batches.find((b) => b.name === 'In Syncing')!.status = 'Synced';
    // Polling runs every 3 s; allow for a loaded machine.
    await page.waitForFunction(
      `document.querySelector('tr[data-batch-name="In Syncing"] .badge')?.textContent === 'Synced'`,
      undefined,
      {
        timeout: 20_000,
      },
    );
    // The command bar follows the selected batch's own poll, which can land a moment after the list's.
    await page.getByRole('button', { name: 'Complete migration', disabled: false }).waitFor({ timeout: 20_000 });
  });

  it('Refresh fetches at once', async () => {
    const before = fake.state.requests.filter((r) => r === 'GET /batches').length;
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(300);
    expect(fake.state.requests.filter((r) => r === 'GET /batches').length).toBeGreaterThan(before);
  });

  it('sorts by a column header and filters by status through the API', async () => {
    const header = page.getByRole('columnheader', { name: /Failed/ });
    await header.getByRole('button').click();
    await page.waitForFunction(`document.querySelector('th[aria-sort="descending"]')?.textContent?.includes('Failed')`);
    expect(fake.state.urls.some((u) => u.includes('sort=failed') && u.includes('order=desc'))).toBe(true);
    await header.getByRole('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    await page.getByLabel('Status', { exact: true }).selectOption('SyncedWithErrors');
    await page.waitForTimeout(300);
    expect(fake.state.urls.some((u) => u.includes('status=SyncedWithErrors'))).toBe(true);
    await page.getByLabel('Status', { exact: true }).selectOption('');
  });

  it('confirms Delete in a dialog that works from the keyboard and gives focus back', async () => {
    await page.locator('tr[data-batch-name="In Created"] a').click();
    await page.getByRole('heading', { name: 'In Created', level: 2 }).waitFor();
    const del = page.getByRole('button', { name: 'Delete', exact: true });
    await del.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Delete migration batch?' });
    await dialog.waitFor();
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Delete');
    expect(fake.state.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
  });

  it('blocks editing an endpoint while a batch using it runs, and says which', async () => {
    fake.state.endpointBatches = [{ id: 'batch-3', name: 'In Syncing', status: RUNNING_STATUSES[2]! }];
    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    await page.locator('tr[data-endpoint-name="Fake source"] a').click();
    const reason = page.locator('#endpoint-blocked');
    await reason.waitFor();
    expect(await reason.textContent()).toContain('In Syncing');
    expect(await page.getByRole('button', { name: 'Edit endpoint' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Delete endpoint' }).isDisabled()).toBe(true);
    await screenshot(page, 'fake-endpoint-blocked');

    fake.state.endpointBatches = [{ id: 'batch-4', name: 'In Synced', status: 'Synced' }];
    await reason.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'Edit endpoint' }).isEnabled()).toBe(true);
  });

  it('goes back to sign-in, saying why, when the token stops being accepted', async () => {
    fake.state.rejectAll = true;
    try {
      await page.getByRole('link', { name: 'Migration batches' }).click();
      await page.getByText('Your session ended: the token is no longer accepted.').waitFor({ timeout: 10_000 });
      expect(await page.getByLabel('API token').isVisible()).toBe(true);
      expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    } finally {
      fake.state.rejectAll = false;
    }
  });

  it('pages through 25,000 migration users from the server and shows the skipped items of a mailbox', async () => {
    await signIn(page, fake.baseUrl, FAKE_TOKEN);
    await page.goto(`${fake.baseUrl}#/batches/batch-4/users`);
    await page.locator('tr[data-mailbox="user00000@fake.test"]').waitFor();
    expect(await page.locator('tr[data-mailbox]').count()).toBe(50);
    const pager = page.getByRole('navigation', { name: 'Migration users pages' });
    expect(await pager.textContent()).toContain('1–50 of 25,000');
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.locator('tr[data-mailbox="user00050@fake.test"]').waitFor();
    await pager.getByRole('button', { name: 'Last page' }).click();
    await page.locator('tr[data-mailbox="user24999@fake.test"]').waitFor();
    expect(await pager.textContent()).toContain('24,951–25,000 of 25,000');
    expect(fake.state.urls.some((u) => u.includes('page=500') && u.includes('pageSize=50'))).toBe(true);

    await page.getByLabel('Status', { exact: true }).selectOption('Failed');
    await page.locator('tr[data-mailbox="user00007@fake.test"]').waitFor();
    expect(await pager.textContent()).toContain('1–25 of 25');
    expect(await page.locator('tr[data-mailbox="user00007@fake.test"]').textContent()).toContain('refused the login');

    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByRole('button', { name: /skipped items of user00000@fake.test/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Skipped items of user00000@fake.test' });
    await dialog.getByText('Quarterly report').waitFor();
    expect(await dialog.textContent()).toContain('larger than the 150 MB item limit');
    await screenshot(page, 'fake-skipped-items');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });
});
