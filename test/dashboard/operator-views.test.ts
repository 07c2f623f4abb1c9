import type { Browser, Page } from 'playwright-core';
import { expectNoSeriousViolations } from './accessibility';
import { FAKE_TOKEN, startFakeApi, type FakeApi, type FakeState } from './fake-api';
import { ensureDashboardBuilt, launchBrowser, screenshot, signIn, watchPageErrors } from './support';

/**
 * What an operator watching an unattended migration sees: a banner on every screen while no worker polls the
 * task queue (or Temporal is down), a notice on a batch whose work has waited for a worker for more than a
 * minute, and the audit trail, filtered and paged by the server. The API is the stand-in, whose answers are
 * checked against the real routes' schemas.
 */

const BANNER = 'No worker is running: batches will not progress.';

describe('worker health and the audit trail in the dashboard', () => {
  let fake: FakeApi;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  beforeAll(async () => {
    ensureDashboardBuilt();
    fake = await startFakeApi();
    fake.state.health = { workers: false, temporal: true };
    fake.state.batches = [
      { id: 'stuck', name: 'Stuck wave', status: 'Syncing', total: 4, synced: 0, failed: 0 },
      { id: 'fresh', name: 'Fresh wave', status: 'Syncing', total: 4, synced: 0, failed: 0 },
      { id: 'busy', name: 'Busy wave', status: 'Syncing', total: 4, synced: 1, failed: 0 },
    ];
    fake.state.batches[0]!.detail = { waitingForWorkerSince: minutesAgo(5) };
    fake.state.batches[1]!.detail = { waitingForWorkerSince: new Date(Date.now() - 10_000).toISOString() };
    const actors = ['alice@contoso.com', 'bob@contoso.com', 'policy'];
    const commands = ['create', 'start', 'stop', 'complete', 'edit'];
    fake.state.audit = Array.from({ length: 120 }, (_, i) => ({
      id: String(120 - i),
      at: new Date(Date.parse('2026-01-05T10:00:00Z') - i * 60_000).toISOString(),
      batchId: i % 4 === 0 ? 'stuck' : 'fresh',
      batchName: i % 4 === 0 ? 'Stuck wave' : 'Fresh wave',
      actor: actors[i % actors.length]!,
      command: commands[i % commands.length]!,
      outcome: i % 7 === 0 ? 'rejected' : 'accepted',
      detail: i % 7 === 0 ? { reason: 'not allowed while Syncing' } : {},
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

  async function reloadWith(health: FakeState['health']) {
    fake.state.health = health;
    await page.reload();
    await page.getByRole('heading', { level: 1 }).first().waitFor();
  }

  it('shows the no-worker banner on every screen, and none once a worker polls', async () => {
    const banner = page.getByTestId('worker-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(BANNER);
    await screenshot(page, 'no-worker-banner');
    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    await page.getByRole('heading', { name: 'Migration endpoints', level: 1 }).waitFor();
    expect(await banner.isVisible()).toBe(true);
    await expectNoSeriousViolations(page, 'endpoints with the no-worker banner');

    await reloadWith({ workers: true, temporal: true });
    // The page has asked /health since the reload; with a worker it says nothing.
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/health')));
    expect(await banner.count()).toBe(0);
  });

  it('says so when Temporal itself is not reachable', async () => {
    await reloadWith({ workers: false, temporal: false });
    const banner = page.getByTestId('worker-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(
      'The workflow service (Temporal) is not reachable: batches will not progress.',
    );
    await reloadWith({ workers: false, temporal: true });
  });

  it("says in a batch's detail that its work has waited for a worker for more than a minute, and not sooner", async () => {
    await page.goto(`${fake.baseUrl}#/batches/stuck`);
    await page.getByRole('heading', { name: 'Stuck wave', level: 2 }).waitFor();
    const notice = page.getByTestId('waiting-for-worker');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/^Waiting for a worker since .+: no worker has picked up this batch/);
    await screenshot(page, 'waiting-for-worker');
    for (const [id, name] of [
      ['fresh', 'Fresh wave'],
      ['busy', 'Busy wave'],
    ] as const) {
      await page.goto(`${fake.baseUrl}#/batches/${id}`);
      await page.getByRole('heading', { name, level: 2 }).waitFor();
      await page.getByTestId('batch-details').waitFor();
      expect([id, await notice.count()]).toEqual([id, 0]);
    }
  });

  it('lists the audit trail newest first, fifty a page, paged by the server', async () => {
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    const rows = page.locator('tr[data-audit-id]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute('data-audit-id')).toBe('120');
    expect(await page.locator('.pager span').first().textContent()).toBe('1–50 of 120');
    await expectNoSeriousViolations(page, 'audit trail');
    await screenshot(page, 'audit-trail');

    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction(`document.querySelector('tr[data-audit-id]')?.getAttribute('data-audit-id') === '70'`);
    expect(fake.state.urls).toContain('GET /api/v1/audit?page=2&pageSize=50');
    // A rejected command shows as such, with its reason.
    const rejected = page.locator('tr[data-audit-id="50"]');
    expect(await rejected.locator('.outcome-rejected').textContent()).toBe('Rejected');
    expect(await rejected.locator('.audit-detail').textContent()).toBe('reason: not allowed while Syncing');
  });

  it('filters by actor, command, batch and time, back on the first page', async () => {
    await page.getByLabel('Actor').fill('bob@contoso.com');
    await page.getByLabel('Command', { exact: true }).selectOption('start');
    const rows = page.locator('tr[data-audit-id]');
    // bob is every third entry from the second, start every fifth from the second: one in fifteen, 8 of 120.
    await page.waitForFunction(`document.querySelectorAll('tr[data-audit-id]').length === 8`);
    for (const actor of await rows.locator('td:nth-child(3)').allTextContents()) expect(actor).toBe('bob@contoso.com');
    expect(fake.state.urls).toContain('GET /api/v1/audit?actor=bob%40contoso.com&command=start&page=1&pageSize=50');

    await page.getByLabel('Batch').fill('Stuck wave');
    await page.getByLabel('From').fill('2026-01-05T08:00');
    await page.getByLabel('Outcome').selectOption('rejected');
    const sinceUtc = await page.evaluate(() => new Date('2026-01-05T08:00').toISOString());
    const expected = `batch=Stuck+wave&actor=bob%40contoso.com&command=start&outcome=rejected&since=${encodeURIComponent(sinceUtc)}`;
    await page.waitForFunction(
      (query) => performance.getEntriesByType('resource').some((e) => e.name.includes(query)),
      expected,
    );
  });
});
