import type { Browser, Locator, Page } from 'playwright-core';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { seedMailbox } from '../dav/corpus';
import { expectNoSeriousViolations } from './accessibility';
import { ensureDashboardBuilt, launchBrowser, screenshot, signIn, watchPageErrors } from './support';

/**
 * Calendars and contacts in the dashboard, in headless Chromium, against the product on real Temporal and
 * PostgreSQL, two Dovecots and two Radicales: endpoints created with their CalDAV and CardDAV addresses (the
 * connection test logs in to them as a mailbox), a batch created with Tasks left out, started, and View details
 * showing each mailbox's mail, calendar items and contacts.
 */
const USERS = ['alice@example.com', 'bob@example.com'];
const PASSWORD = (user: string) => `${user.split('@')[0]}-pw`;
const BATCH = 'Calendars wave';

jest.setTimeout(300_000);

async function textEventually(locator: Locator, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (
      (await locator
        .first()
        .textContent()
        .catch(() => null)) ?? ''
    ).trim();
    if (pattern.test(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`expected ${pattern} within ${timeoutMs} ms; last text was "${last}"`);
}

describe('calendars and contacts in the dashboard', () => {
  let imap: DovecotServer[];
  let dav: RadicaleServer[];
  let running: RunningProduct;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    ensureDashboardBuilt();
    const accounts = USERS.map((user) => ({ user, password: PASSWORD(user) }));
    imap = await Promise.all([startDovecot({ users: accounts }), startDovecot({ users: accounts })]);
    dav = await Promise.all([startRadicale({ users: accounts }), startRadicale({ users: accounts })]);
    for (const user of USERS) {
      await imap[0]!.seed(
        user,
        [0, 1, 2].map((i) => ({ folder: 'INBOX', raw: buildMessage({ subject: `m${i}` }) })),
      );
      for (const server of dav) await server.addUser(user, PASSWORD(user));
      await seedMailbox(dav[0]!, user);
    }
    running = await startProduct();
    browser = await launchBrowser();
    page = await (
      await browser.newContext({ viewport: { width: 1400, height: 900 }, reducedMotion: 'reduce' })
    ).newPage();
    pageErrors = watchPageErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await Promise.all([...(imap ?? []), ...(dav ?? [])].map((s) => s.close()));
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  it('creates endpoints with CalDAV and CardDAV, runs a batch without tasks and shows the counts by kind', async () => {
    await signIn(page, `${running.api.url}/`, running.api.adminToken);
    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    for (const [i, name] of ['Old server', 'New server'].entries()) {
      await page.getByRole('button', { name: 'New endpoint' }).click();
      const form = page.locator('form.endpoint-form');
      await form.getByLabel('Name', { exact: true }).fill(name);
      await form.getByLabel('Provider').selectOption('dovecot');
      await form.getByLabel('IMAP server').fill(imap[i]!.host);
      await form.getByLabel('Encryption').selectOption('none');
      await form.getByLabel('Port').fill(String(imap[i]!.port));
      await form.getByLabel('CalDAV (calendars)').fill(dav[i]!.url);
      await form.getByLabel('CardDAV (contacts)').fill(dav[i]!.url);
      await form.getByLabel('Test mailbox user name').fill(USERS[0]!);
      await form.getByLabel('Test mailbox password').fill(PASSWORD(USERS[0]!));
      await form.getByRole('button', { name: 'Test connection' }).click();
      // The source has Alice's two calendars and her address book; the destination nothing yet.
      const found = i === 0 ? /CalDAV: 2 calendars .*; CardDAV: 1 address book for/ : /CalDAV: 0 calendars/;
      await textEventually(form.getByTestId('connection-test'), new RegExp(`Connection test passed.*${found.source}`));
      if (i === 0) {
        await screenshot(page, 'dav-01-endpoint-form');
        await expectNoSeriousViolations(page, 'endpoint form with CalDAV and CardDAV');
      }
      await form.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByText(`Endpoint ${name} created.`).waitFor();
    }

    await page.getByRole('link', { name: 'Migration batches' }).click();
    await page.getByRole('button', { name: 'New migration batch' }).click();
    await page.getByLabel('Name', { exact: true }).fill(BATCH);
    await page.getByLabel('Source endpoint').selectOption({ label: `Old server (${imap[0]!.host}:${imap[0]!.port})` });
    await page
      .getByLabel('Destination endpoint')
      .selectOption({ label: `New server (${imap[1]!.host}:${imap[1]!.port})` });
    await page.getByLabel('Tasks (SkipTasks)').check();
    const rows = USERS.map((u) => `${u},${u},${PASSWORD(u)},${u},${PASSWORD(u)}`);
    await page.getByLabel('CSV file').setInputFiles({
      name: 'wave.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        ['EmailAddress,UserName,Password,DestinationUserName,DestinationPassword', ...rows].join('\r\n'),
      ),
    });
    await page.getByRole('button', { name: 'Create batch' }).click();
    const row = page.locator(`tr[data-batch-name="${BATCH}"]`);
    await row.waitFor();
    await page.getByRole('button', { name: 'Start migration', exact: true }).click();
    await textEventually(row.locator('.badge'), /^Synced$/, 180_000);
    const details = page.getByTestId('batch-details');
    await textEventually(details, /Items synced28: 6 mail, 16 calendar items, 6 contacts/);
    expect(await details.textContent()).toMatch(/Left outtasks/);

    await page.getByRole('link', { name: 'View details' }).click();
    for (const user of USERS) {
      const line = page.locator(`tr[data-mailbox="${user}"]`);
      // 3 messages, the 8 events (the 2 tasks left out) and 3 contacts.
      await textEventually(line.locator('[data-kinds]'), /^3 mail · 8 calendar · 3 contacts$/);
      expect((await line.locator('td.num').first().textContent())?.startsWith('14')).toBe(true);
      expect(await dav[1]!.collections(user)).toEqual(['contacts', 'work']);
    }
    await screenshot(page, 'dav-02-migration-users');
    await expectNoSeriousViolations(page, 'View details with calendar items and contacts');
  });
});
