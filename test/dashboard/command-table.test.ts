import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  allowedCommands,
  BATCH_STATUSES,
  RUNNING_STATUSES,
  STATUS_LABELS,
  type BatchCommand,
} from '../../domain/batch-status';
import { waitFor } from '../fixtures/wait-for';
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
    // Within 2 s, shorter than the list's 3 s poll.
    await waitFor(() => fake.state.requests.filter((r) => r === 'GET /batches').length > before, 'Refresh to fetch', {
      timeoutMs: 2_000,
    });
  });

  it('sorts by a column header and filters by status through the API', async () => {
    const header = page.getByRole('columnheader', { name: /Failed/ });
    await header.getByRole('button').click();
    await page.waitForFunction(`document.querySelector('th[aria-sort="descending"]')?.textContent?.includes('Failed')`);
    // The header shows the new order at once; the list's request follows it.
    await waitFor(
      () => fake.state.urls.some((u) => u.includes('sort=failed') && u.includes('order=desc')),
      'the list to be asked for sort=failed&order=desc',
    );
    await header.getByRole('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    await page.getByLabel('Status', { exact: true }).selectOption('SyncedWithErrors');
    await waitFor(
      () => fake.state.urls.some((u) => u.includes('status=SyncedWithErrors')),
      'the list to be asked for status=SyncedWithErrors',
    );
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

/** The batch the layout, time and details tests open: started, synced, and linked to the Temporal Web UI. */
const SHOWN = 'batch-4';
/** Instants the stand-in answers for it, and their wall time in two zones (en-US, `dateStyle`/`timeStyle` medium). */
const CREATED_AT = '2026-01-05T10:00:00.000Z';
const STARTED_AT = '2026-01-05T20:45:00.000Z';
const WALL_TIMES: [zone: string, created: string, started: string, createdInput: string][] = [
  ['Asia/Kolkata', 'Jan 5, 2026, 3:30:00 PM', 'Jan 6, 2026, 2:15:00 AM', '2026-01-05T15:30'],
  ['America/New_York', 'Jan 5, 2026, 5:00:00 AM', 'Jan 5, 2026, 3:45:00 PM', '2026-01-05T05:00'],
];
const ZONE_ALIASES: Record<string, string[]> = { 'Asia/Kolkata': ['Asia/Kolkata', 'Asia/Calcutta'] };
const TABLET_VIEWPORTS = [
  { width: 768, height: 1024 },
  { width: 1024, height: 768 },
];

/** ICU writes a narrow no-break space before AM/PM; compare text with plain spaces. */
const plain = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();

/** One `<dt>`/`<dd>` pair of the details pane, by its label. */
function detailValue(page: Page, label: string) {
  return page.getByTestId('batch-details').locator(`xpath=./div[dt="${label}"]/dd`);
}

describe('dashboard in other time zones, at tablet widths and with a slow or failing API', () => {
  let fake: FakeApi;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A signed-in page in a context of its own (its own sessionStorage, zone and size). */
  async function openPage(
    options: Parameters<Browser['newContext']>[0] = {},
  ): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
      timezoneId: 'UTC',
      ...options,
    });
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await signIn(page, fake.baseUrl, FAKE_TOKEN);
    return { page, errors };
  }

  beforeAll(async () => {
    ensureDashboardBuilt();
    fake = await startFakeApi();
    const workflowUrl = `${fake.baseUrl}temporal/namespaces/default/workflows/${encodeURIComponent('batch:In Synced')}`;
    fake.state.batches = BATCH_STATUSES.map((status, i) => ({
      id: `batch-${i}`,
      name: `In ${status}`,
      status,
      total: 10,
      synced: i % 10,
      failed: status === 'SyncedWithErrors' ? 2 : 0,
    }));
    fake.state.batches[4]!.detail = {
      createdAt: CREATED_AT,
      startedAt: STARTED_AT,
      initialSyncAt: '2026-01-05T21:00:00.000Z',
      initialSyncDurationMs: 15 * 60_000,
      lastSyncedAt: '2026-01-05T21:30:00.000Z',
      startAfter: CREATED_AT,
      temporalUiUrl: workflowUrl,
    };
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await fake?.close();
  });

  afterEach(() => {
    fake.state.faults = {};
  });

  it.each(WALL_TIMES)(
    'in %s shows the API instants in that zone’s wall time, and sends form times back as instants',
    async (zone, created, started, createdInput) => {
      const { page, errors } = await openPage({ timezoneId: zone });
      // Chromium's ICU may name a zone by its older alias (Asia/Calcutta); the page names what the browser uses.
      const named = String(await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone'));
      expect(ZONE_ALIASES[zone] ?? [zone]).toContain(named);
      await page.goto(`${fake.baseUrl}#/batches/${SHOWN}`);
      await page.getByRole('heading', { name: 'In Synced', level: 2 }).waitFor();
      expect(plain(await detailValue(page, 'Created time').textContent())).toBe(created);
      expect(plain(await detailValue(page, 'Start time').textContent())).toBe(started);
      expect(plain(await detailValue(page, 'Start after').textContent())).toBe(created);
      expect(plain(await page.locator('.details').textContent())).toContain(`Times are in your time zone, ${named}.`);

      // The Edit form shows Start after as this zone's wall time and sends the instant meant by what is typed.
      await page.getByRole('button', { name: 'Edit batch' }).click();
      await page.getByRole('heading', { name: 'Edit batch In Synced' }).waitFor();
      expect(await page.getByLabel('Start after').inputValue()).toBe(createdInput);
      await page.getByLabel('Complete after').fill(createdInput.replace('2026-01-05', '2026-01-07'));
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { name: 'In Synced', level: 2 }).waitFor();
      const sent = fake.state.patches.pop();
      expect(sent).toEqual({ path: `/batches/${SHOWN}`, body: { completeAfter: '2026-01-07T10:00:00.000Z' } });
      expect(errors).toEqual([]);
    },
  );

  it('links the details pane to the batch’s workflow in the Temporal Web UI, with every seed statistic', async () => {
    const { page, errors } = await openPage();
    await page.goto(`${fake.baseUrl}#/batches/${SHOWN}`);
    await page.getByRole('heading', { name: 'In Synced', level: 2 }).waitFor();
    const values: Record<string, string> = {};
    for (const label of [
      'Type',
      'Direction',
      'Status',
      'Requested',
      'Synced mailboxes',
      'Finalized mailboxes',
      'Failed mailboxes',
      'Created by',
      'Created time',
      'Start time',
      'Initial sync time',
      'Initial sync duration',
      'Last synced time',
      'Source endpoint',
      'Destination endpoint',
    ]) {
      values[label] = plain(await detailValue(page, label).textContent());
    }
    expect(values).toMatchObject({
      Type: 'IMAP',
      Direction: 'Onboarding',
      Status: 'Synced',
      'Synced mailboxes': '4 of 10',
      'Created by': 'admin@fake.test',
      'Initial sync time': 'Jan 5, 2026, 9:00:00 PM',
      'Initial sync duration': '15 min 0 s',
      'Last synced time': 'Jan 5, 2026, 9:30:00 PM',
    });

    const link = page.getByRole('link', { name: /Open batch:In Synced in Temporal Web UI/ });
    const href = fake.state.batches[4]!.detail!.temporalUiUrl as string;
    expect(await link.getAttribute('href')).toBe(href);
    expect(await link.getAttribute('target')).toBe('_blank');
    const [workflowPage] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
    await workflowPage.waitForLoadState();
    expect(workflowPage.url()).toBe(href);
    expect(await workflowPage.locator('h1').textContent()).toBe('batch:In Synced');
    await workflowPage.close();
    expect(errors).toEqual([]);
  });

  describe.each(TABLET_VIEWPORTS)('at $width×$height', (viewport) => {
    let page: Page;
    let errors: string[];
    const size = `${viewport.width}x${viewport.height}`;

    beforeAll(async () => {
      ({ page, errors } = await openPage({ viewport }));
    });

    afterEach(() => expect(errors).toEqual([]));

    async function expectNoPageOverflow(what: string): Promise<void> {
      const { scrollWidth, innerWidth } = (await page.evaluate(
        '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
      )) as { scrollWidth: number; innerWidth: number };
      expect({ what, scrollWidth: Math.min(scrollWidth, innerWidth) }).toEqual({ what, scrollWidth });
      expect(innerWidth).toBe(viewport.width);
    }

    it('the batch list with the details pane fits, and every command button can be seen and used', async () => {
      await page.goto(`${fake.baseUrl}#/batches/${SHOWN}`);
      await page.getByRole('heading', { name: 'In Synced', level: 2 }).waitFor();
      await page.locator('figure.chart, .details p.muted').first().waitFor();
      await expectNoPageOverflow('batch list');
      // All seven columns of the migration queue are in view, without scrolling the table sideways.
      const queue = page.locator('.list-pane .table-scroll');
      expect(await queue.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
      const bar = page.getByRole('toolbar', { name: 'Batch commands' });
      for (const name of ['New migration batch', ...BUTTONS.map(([label]) => label), 'Refresh']) {
        const button = bar.getByRole('button', { name, exact: true });
        expect(await button.isVisible()).toBe(true);
        const box = (await button.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      }
      // Enabled buttons take a click where they are (nothing covers them); the disabled one says why.
      for (const [name, command] of BUTTONS) {
        const button = bar.getByRole('button', { name, exact: true });
        if (allowedCommands('Synced').includes(command)) await button.click({ trial: true, timeout: 5000 });
        else expect(await button.getAttribute('title')).toBe('Not allowed while Synced');
      }
      await screenshot(page, `fake-tablet-${size}-batches`);

      const before = fake.state.requests.filter((r) => r === 'GET /batches').length;
      await bar.getByRole('button', { name: 'Refresh' }).click();
      await waitFor(
        () => fake.state.requests.filter((r) => r === 'GET /batches').length > before,
        'Refresh to fetch the list',
      );
      await bar.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete migration batch?' });
      await dialog.waitFor();
      await expectNoPageOverflow('delete dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await bar.getByRole('button', { name: 'New migration batch' }).click();
      await page.getByRole('heading', { name: 'New migration batch', level: 1 }).waitFor();
    });

    it('the New batch form fits', async () => {
      await page.goto(`${fake.baseUrl}#/batches/new`);
      await page.getByRole('heading', { name: 'New migration batch', level: 1 }).waitFor();
      await expectNoPageOverflow('new batch form');
      for (const name of ['Create batch']) expect(await page.getByRole('button', { name }).isVisible()).toBe(true);
      await screenshot(page, `fake-tablet-${size}-new-batch`);
    });

    it('View details fits, scrolling its table inside its pane', async () => {
      await page.goto(`${fake.baseUrl}#/batches/${SHOWN}/users`);
      await page.locator('tr[data-mailbox="user00000@fake.test"]').waitFor();
      await expectNoPageOverflow('view details');
      expect(await page.getByRole('button', { name: /Download CSV/ }).isVisible()).toBe(true);
      await page
        .getByRole('navigation', { name: 'Migration users pages' })
        .getByRole('button', { name: 'Next' })
        .click();
      await page.locator('tr[data-mailbox="user00050@fake.test"]').waitFor();
      await screenshot(page, `fake-tablet-${size}-view-details`);
    });

    it('the endpoints page fits, with an endpoint open', async () => {
      await page.goto(`${fake.baseUrl}#/endpoints`);
      await page.locator('tr[data-endpoint-name="Fake source"] a').click();
      await page.getByRole('heading', { name: 'Fake source', level: 2 }).waitFor();
      await expectNoPageOverflow('endpoints');
      for (const name of ['New endpoint', 'Edit endpoint', 'Delete endpoint']) {
        expect(await page.getByRole('button', { name, exact: true }).isVisible()).toBe(true);
      }
      await screenshot(page, `fake-tablet-${size}-endpoints`);
    });
  });

  describe('loading and error states', () => {
    let page: Page;
    let errors: string[];

    /**
     * Once the API works again, a click on `retry` asks it again. The route's answers are held meanwhile, so the
     * page's own 3 s poll cannot clear the error before the click lands.
     */
    async function recoverOn(route: string, retry: Locator): Promise<void> {
      const release = fake.hold(route);
      const asked = () => fake.state.requests.filter((r) => r === route).length;
      const before = asked();
      try {
        await retry.click();
        await waitFor(() => asked() > before, 'Try again to fetch the list');
      } finally {
        release();
      }
    }

    beforeAll(async () => {
      ({ page, errors } = await openPage());
    });

    afterEach(() => expect(errors).toEqual([]));

    it('the batch list says it is loading while the API is slow', async () => {
      const release = fake.hold('GET /batches');
      try {
        await page.goto(`${fake.baseUrl}#/batches`);
        await page.reload();
        const loading = page.getByRole('status').filter({ hasText: 'Loading batches…' });
        await loading.waitFor();
        expect(await page.locator('.list-pane').getAttribute('aria-busy')).toBe('true');
        await screenshot(page, 'fake-batches-loading');
      } finally {
        release();
      }
      await page.locator('tr[data-batch-name]').first().waitFor();
      expect(await page.getByText('Loading batches…').count()).toBe(0);
    });

    it('the batch list shows the API’s error and recovers on Try again and on Refresh', async () => {
      fake.state.faults['GET /batches'] = {
        status: 503,
        code: 'UNAVAILABLE',
        message: 'The database is not reachable.',
      };
      await page.goto(`${fake.baseUrl}#/batches`);
      await page.reload();
      const alert = page.locator('.list-pane').getByRole('alert');
      await alert.waitFor();
      expect(plain(await alert.textContent())).toBe('Batches: The database is not reachable.Try again');
      expect(await page.locator('tr[data-batch-name]').count()).toBe(0);
      await screenshot(page, 'fake-batches-error');

      // Still failing: Try again asks again and keeps saying so.
      const asked = () => fake.state.requests.filter((r) => r === 'GET /batches').length;
      const before = asked();
      await alert.getByRole('button', { name: 'Try again' }).click();
      await waitFor(() => asked() > before, 'Try again to fetch the list again');
      expect(await alert.isVisible()).toBe(true);

      await recoverOn('GET /batches', alert.getByRole('button', { name: 'Try again' }));
      await page.locator('tr[data-batch-name]').first().waitFor();
      await alert.waitFor({ state: 'detached' });

      // An error after a good answer keeps the list and says so; Refresh clears it once the API answers again.
      fake.state.faults['GET /batches'] = { status: 500, code: 'INTERNAL', message: 'Unexpected failure (ref 42).' };
      await page.getByRole('button', { name: 'Refresh' }).click();
      await alert.waitFor();
      expect(plain(await alert.textContent())).toContain('Batches: Unexpected failure (ref 42).');
      expect(await page.locator('tr[data-batch-name]').count()).toBe(BATCH_STATUSES.length);
      delete fake.state.faults['GET /batches'];
      await page.getByRole('button', { name: 'Refresh' }).click();
      await alert.waitFor({ state: 'detached' });
    });

    it('View details says it is loading, shows the API’s error and recovers on Try again', async () => {
      const route = `GET /batches/${SHOWN}/mailboxes`;
      const release = fake.hold(route);
      try {
        await page.goto(`${fake.baseUrl}#/batches/${SHOWN}/users`);
        await page.getByRole('status').filter({ hasText: 'Loading migration users…' }).waitFor();
      } finally {
        release();
      }
      await page.locator('tr[data-mailbox="user00000@fake.test"]').waitFor();

      fake.state.faults[route] = { status: 503, code: 'UNAVAILABLE', message: 'The report is not available now.' };
      await page.reload();
      const alert = page.getByRole('alert').filter({ hasText: 'Migration users' });
      await alert.waitFor();
      expect(plain(await alert.textContent())).toBe('Migration users: The report is not available now.Try again');
      expect(await page.locator('tr[data-mailbox]').count()).toBe(0);
      await screenshot(page, 'fake-report-error');
      await recoverOn(route, alert.getByRole('button', { name: 'Try again' }));
      await page.locator('tr[data-mailbox="user00000@fake.test"]').waitFor();
      await alert.waitFor({ state: 'detached' });
    });

    it('the batch form says it is loading its endpoints, shows the API’s error and recovers on Try again', async () => {
      const release = fake.hold('GET /endpoints');
      try {
        await page.goto(`${fake.baseUrl}#/batches/new`);
        await page.getByRole('status').filter({ hasText: 'Loading the form…' }).waitFor();
      } finally {
        release();
      }
      await page.getByLabel('Source endpoint').waitFor();

      fake.state.faults['GET /endpoints'] = { status: 500, code: 'INTERNAL', message: 'Cannot list endpoints.' };
      await page.reload();
      const alert = page.getByRole('alert').filter({ hasText: 'Cannot open the form' });
      await alert.waitFor();
      expect(plain(await alert.textContent())).toBe('Cannot open the form: Cannot list endpoints.Try again');
      await screenshot(page, 'fake-form-error');
      delete fake.state.faults['GET /endpoints'];
      await alert.getByRole('button', { name: 'Try again' }).click();
      await page.getByLabel('Source endpoint').selectOption({ label: 'Fake source (imap.fake.test:993)' });
      await alert.waitFor({ state: 'detached' });
    });
  });
});
