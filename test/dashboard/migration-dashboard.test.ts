import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ACTION_LABELS, rowCommands, SET_PASSWORD_LABEL } from '../../dashboard/src/report/mailbox-actions';
import { allowedCommands, type BatchCommand, type BatchStatus } from '../../domain/batch-status';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { expectNoSeriousViolations } from './accessibility';
import { BUTTONS, ensureDashboardBuilt, launchBrowser, screenshot, signIn, watchPageErrors } from './support';

/**
 * The migration dashboard end to end, in headless Chromium, against the product on real Temporal, PostgreSQL and
 * two Dovecot servers: sign in, create endpoints with a connection test, upload a CSV with an error and see it by
 * line, fix it, start the batch and watch it reach Synced, open View details, complete it, delete it; the
 * commands are enabled exactly per the status table; a viewer cannot mutate. One of Alice's messages is over the
 * batch's large item size, so the real sync skips it and View details shows it among her skipped items. An endpoint
 * that a running batch uses (one whose source refuses connections, so its sync keeps retrying) cannot be edited or
 * deleted, in the dashboard or the API, and both name the batch; stopped, it can be edited, and once the batch is
 * deleted, deleted. The main screens pass an axe-core scan with no serious or critical violation.
 */

const USERS = [
  { email: 'alice@example.com', password: 'alice-source-pw', messages: 5 },
  { email: 'bob@example.com', password: 'bob-source-pw', messages: 3 },
];
const MASTER = { user: 'migration-admin', password: 'destination-master-pw' };
const BATCH = 'Wave 1';
/** An endpoint on a port nothing listens on, and the batch that syncs from it and so stays running. */
const DEAD_SOURCE = 'Unreachable source';
const STUCK_BATCH = 'Wave unreachable';
/** Messages over this many bytes are large items; the batch allows one per mailbox (LargeItemLimit 1). */
const LARGE_ITEM_MAX_BYTES = 16 * 1024;
/** One message of Alice's over that size: skipped and reported, and the mailbox still reaches Synced. */
const LARGE = { owner: USERS[0]!.email, folder: 'Work', subject: 'Scanned contract (large)', size: 40 * 1024 };
const LARGE_RAW = buildMessage({ subject: LARGE.subject, size: LARGE.size });

jest.setTimeout(300_000);

async function textEventually(locator: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
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

async function countEventually(locator: Locator, count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await locator.count()) !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} matches, found ${await locator.count()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Which command buttons are enabled right now, as commands. */
async function enabledCommands(page: Page): Promise<BatchCommand[]> {
  const enabled: BatchCommand[] = [];
  const bar = page.getByRole('toolbar', { name: 'Batch commands' });
  for (const [name, command] of BUTTONS) {
    if (await bar.getByRole('button', { name, exact: true }).isEnabled()) enabled.push(command);
  }
  return enabled.sort();
}

async function expectCommandsFor(page: Page, status: BatchStatus): Promise<void> {
  const expected = [...allowedCommands(status)].sort();
  // The bar follows the polled details; give it a few polls to settle after a status change.
  const deadline = Date.now() + 15_000;
  let actual = await enabledCommands(page);
  while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
    await page.waitForTimeout(300);
    actual = await enabledCommands(page);
  }
  expect(actual).toEqual(expected);
}

/** The times of `GET /batches/:id` the details pane shows. */
interface BatchTimes {
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  initialSyncAt: string | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: string | null;
}

function csv(rows: string[]): Buffer {
  return Buffer.from(['EmailAddress,UserName,Password', ...rows].join('\r\n') + '\r\n');
}

describe('migration dashboard in the browser', () => {
  let source: DovecotServer;
  let destination: DovecotServer;
  let running: RunningProduct;
  /** What the browser needs of the product: where it is and its tokens. */
  let product: { baseUrl: string; adminToken: string; viewerToken: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    ensureDashboardBuilt();
    [source, destination] = await Promise.all([
      startDovecot({ separator: '/', prefix: '' }),
      startDovecot({ separator: '.', prefix: 'INBOX.', masterUser: MASTER }),
    ]);
    for (const user of USERS) {
      await source.addUser(user.email, user.password);
      await destination.addUser(user.email, `${user.email}-destination-only`);
      await source.seed(
        user.email,
        Array.from({ length: user.messages }, (_, i) => ({
          folder: i % 2 ? 'Work' : 'INBOX',
          raw: buildMessage({ subject: `${user.email} message ${i}` }),
        })),
      );
    }
    await source.seed(LARGE.owner, [{ folder: LARGE.folder, raw: LARGE_RAW }]);
    running = await startProduct();
    product = {
      baseUrl: `${running.api.url}/`,
      adminToken: running.api.adminToken,
      viewerToken: running.api.viewerToken,
    };
    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
      reducedMotion: 'reduce',
    });
    page = await context.newPage();
    pageErrors = watchPageErrors(page);
  });

  /** One API request as the admin, with a JSON body when given. */
  function api(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(new URL(`/api/v1${path}`, product.baseUrl), {
      method,
      headers: {
        Authorization: `Bearer ${product.adminToken}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Polls a GET until `done` holds for its JSON body (and status), or fails with the last answer. */
  async function apiEventually<T>(
    path: string,
    done: (body: T, status: number) => boolean,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await api('GET', path);
      const body = (await response.json()) as T;
      if (done(body, response.status)) return body;
      if (Date.now() > deadline) {
        throw new Error(
          `GET ${path} not as expected within ${timeoutMs} ms: ${response.status} ${JSON.stringify(body)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await Promise.all([source?.close(), destination?.close()]);
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  it('refuses an unknown token and signs in with the admin token', async () => {
    await page.goto(product.baseUrl);
    await screenshot(page, '01-sign-in');
    await page.getByLabel('API token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await textEventually(page.locator('#api-token-error'), /not accepted/);
    await expectNoSeriousViolations(page, 'sign-in with a refused token');
    await signIn(page, product.baseUrl, product.adminToken);
    await page.getByText('No migration batches yet.').waitFor();
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['mailferry.apiToken']);
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
  });

  it('tests connections and creates the source and destination endpoints', async () => {
    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    await page.getByText('No migration endpoints yet.').waitFor();

    const create = async (name: string, server: DovecotServer, admin?: typeof MASTER) => {
      await page.getByRole('button', { name: 'New endpoint' }).click();
      const form = page.locator('form.endpoint-form');
      await form.getByLabel('Name', { exact: true }).fill(name);
      await form.getByLabel('Provider').selectOption('dovecot');
      await form.getByLabel('IMAP server').fill(server.host);
      await form.getByLabel('Encryption').selectOption('none');
      await form.getByLabel('Port').fill(String(server.port));
      if (admin) {
        await form.getByLabel('Admin (master) user').fill(admin.user);
        await form.getByLabel('Admin password').fill(admin.password);
        // Log in as a mailbox through the master user, as the sync will.
        await form.getByLabel('Test mailbox user name').fill(USERS[0]!.email);
      }
      await form.getByRole('button', { name: 'Test connection' }).click();
      await textEventually(
        form.getByTestId('connection-test'),
        admin ? /Connection test passed.*through admin/ : /Connection test passed/,
      );
      await form.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByText(`Endpoint ${name} created.`).waitFor();
      await page.locator(`tr[data-endpoint-name="${name}"]`).waitFor();
    };

    // A wrong port: the test fails and says so, and nothing is saved.
    await page.getByRole('button', { name: 'New endpoint' }).click();
    const form = page.locator('form.endpoint-form');
    await form.getByLabel('Name', { exact: true }).fill('Nowhere');
    await form.getByLabel('IMAP server').fill('127.0.0.1');
    await form.getByLabel('Encryption').selectOption('none');
    await form.getByLabel('Port').fill('1');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await textEventually(form.getByTestId('connection-test'), /Connection test failed/);
    await screenshot(page, '02-endpoint-test-failed');
    await expectNoSeriousViolations(page, 'new endpoint form with a failed connection test');
    await form.getByRole('button', { name: 'Cancel' }).click();

    await create('Source Dovecot', source);
    await create('Destination Dovecot', destination, MASTER);
    await page.locator('tr[data-endpoint-name="Destination Dovecot"] a').click();
    await page.getByText('stored (never shown)').waitFor();
    expect(await page.content()).not.toContain(MASTER.password);
    await screenshot(page, '03-endpoints');
    await expectNoSeriousViolations(page, 'endpoints with the details of one');
  });

  it('reports a bad CSV line next to the line, creates nothing, and creates the batch once fixed', async () => {
    await page.getByRole('link', { name: 'Migration batches' }).click();
    await page.getByRole('button', { name: 'New migration batch' }).click();
    await page.getByLabel('Name', { exact: true }).fill(BATCH);
    await page.getByLabel('Large item limit').fill('1');
    await page.getByLabel('Source endpoint').selectOption({ label: `Source Dovecot (${source.host}:${source.port})` });
    await page
      .getByLabel('Destination endpoint')
      .selectOption({ label: `Destination Dovecot (${destination.host}:${destination.port})` });

    const good = USERS.map((u) => `${u.email},${u.email},${u.password}`);
    await page.getByLabel('CSV file').setInputFiles({
      name: 'wave-1.csv',
      mimeType: 'text/csv',
      buffer: csv([good[0]!, 'not-an-address,carol,carol-pw', good[1]!]),
    });
    await page.getByRole('button', { name: 'Create batch' }).click();
    const problem = page.locator('.csv-errors tr[data-csv-line="3"]');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/not-an-address/);
    expect(await problem.textContent()).toMatch(/EmailAddress/);
    expect(await page.locator('.csv-errors').textContent()).not.toContain('carol-pw');
    await screenshot(page, '04-csv-error-by-line');
    await expectNoSeriousViolations(page, 'new batch form with a CSV problem');

    const listed = await fetch(new URL('/api/v1/batches', product.baseUrl), {
      headers: { Authorization: `Bearer ${product.adminToken}` },
    });
    expect(((await listed.json()) as { total: number }).total).toBe(0);

    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'wave-1-fixed.csv', mimeType: 'text/csv', buffer: csv(good) });
    await page.getByRole('button', { name: 'Create batch' }).click();
    await page.locator(`tr[data-batch-name="${BATCH}"]`).waitFor();
    await page.getByRole('heading', { name: BATCH, level: 2 }).waitFor();
    await textEventually(page.locator(`tr[data-batch-name="${BATCH}"] .badge`), /^Created$/);
    await expectCommandsFor(page, 'Created');

    // The size over which a message is a large item is an API setting the form does not offer.
    const batchId = /#\/batches\/([^/]+)$/.exec(page.url())?.[1];
    expect(batchId).toBeDefined();
    const edited = await fetch(new URL(`/api/v1/batches/${batchId}`, product.baseUrl), {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${product.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ largeItemMaxBytes: LARGE_ITEM_MAX_BYTES }),
    });
    expect(edited.status).toBe(200);
    const { batch } = (await edited.json()) as { batch: { largeItemLimit: number; largeItemMaxBytes: number } };
    expect(batch).toMatchObject({ largeItemLimit: 1, largeItemMaxBytes: LARGE_ITEM_MAX_BYTES });
  });

  it('starts the batch and shows it reaching Synced with its counts, live', async () => {
    const row = page.locator(`tr[data-batch-name="${BATCH}"]`);
    await page.getByRole('button', { name: 'Start migration', exact: true }).click();
    await textEventually(row.locator('.badge'), /^Synced$/, 180_000);
    const cells = await row.locator('td.num').allTextContents();
    expect(cells).toEqual(['2', '2', '0', '0']); // Total, Synced, Finalized, Failed
    await textEventually(row.locator('.progress-text'), /^100%$/);
    await expectCommandsFor(page, 'Synced');

    const details = page.getByTestId('batch-details');
    await textEventually(details, /Synced mailboxes\s*2 of 2/);
    expect(await details.textContent()).toMatch(/Requested\s*2/);
    expect(await details.textContent()).toMatch(/Type\s*IMAP/);
    expect(await details.textContent()).toMatch(/Source endpointSource Dovecot/);

    // The seed's statistics, each with a value: the times are the API's instants as this browser shows them.
    const batchId = /#\/batches\/([^/]+)$/.exec(page.url())![1]!;
    const shown = await apiEventually(
      `/batches/${batchId}`,
      (b: BatchTimes) => b.startedAt !== null && b.initialSyncAt !== null && b.initialSyncDurationMs !== null,
    );
    const value = (label: string) => details.locator(`xpath=./div[dt="${label}"]/dd`);
    const local = (iso: string) =>
      page.evaluate(
        (at) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(at)),
        iso,
      );
    const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    expect(await value('Direction').textContent()).toBe('Onboarding');
    expect(await value('Created by').textContent()).toBe(shown.createdBy);
    expect(shown.createdBy).toBeTruthy();
    await textEventually(value('Created time'), exactly(await local(shown.createdAt)));
    await textEventually(value('Start time'), exactly(await local(shown.startedAt!)));
    await textEventually(value('Initial sync time'), exactly(await local(shown.initialSyncAt!)));
    await textEventually(value('Initial sync duration'), /^(under 1 s|\d+ s|\d+ min \d+ s)$/);
    // The last sync moves on with each incremental sync: compare with the API's value as of each look.
    await apiEventually(`/batches/${batchId}`, (b: BatchTimes) => b.lastSyncedAt !== null);
    const lastSynced = async () =>
      [
        ((await value('Last synced time').textContent()) ?? '').trim(),
        await local(((await (await api('GET', `/batches/${batchId}`)).json()) as BatchTimes).lastSyncedAt!),
      ] as const;
    let [lastShown, lastExpected] = await lastSynced();
    for (const deadline = Date.now() + 15_000; lastShown !== lastExpected && Date.now() < deadline;) {
      await page.waitForTimeout(500);
      [lastShown, lastExpected] = await lastSynced();
    }
    expect(lastShown).toBe(lastExpected);
    // The workflow's link is the product's Temporal Web UI (test/fixtures/product.ts) at workflow batch:<name>.
    const workflowLink = details.getByRole('link', {
      name: `Open batch:${BATCH} in Temporal Web UI (opens in a new tab)`,
    });
    const namespace = encodeURIComponent(running.env.client.options.namespace);
    expect(await workflowLink.getAttribute('href')).toBe(
      `http://localhost:8233/namespaces/${namespace}/workflows/${encodeURIComponent(`batch:${BATCH}`)}`,
    );
    expect(await workflowLink.getAttribute('target')).toBe('_blank');

    await textEventually(page.getByTestId('overall-synced'), /^2$/);
    expect(await page.getByTestId('overall-total').textContent()).toBe('2');
    await page.locator('figure.chart svg').waitFor();
    await screenshot(page, '05-batch-synced');
    await expectNoSeriousViolations(page, 'batch list with the details pane');

    // Both mailboxes really arrived, all but the large item.
    for (const user of USERS) {
      expect(await destination.readMailbox(user.email)).toHaveLength(user.messages);
    }
  });

  it('Edit batch changes a setting and the details show it', async () => {
    await page.getByRole('button', { name: 'Edit batch' }).click();
    await page.getByRole('heading', { name: `Edit batch ${BATCH}` }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(BATCH);
    await page.getByLabel('Complete after').fill('2031-06-15T14:30');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const details = page.getByTestId('batch-details');
    await details.waitFor();
    const expected = await page.evaluate(
      `new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date('2031-06-15T14:30'))`,
    );
    await textEventually(
      details,
      new RegExp(`Complete after\\s*${String(expected).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    await expectCommandsFor(page, 'Synced');
  });

  it('View details lists every migration user, filters, searches and downloads the CSV', async () => {
    await page.getByRole('link', { name: 'View details' }).click();
    await page.getByRole('heading', { name: `Migration users: ${BATCH}` }).waitFor();
    for (const user of USERS) {
      const line = page.locator(`tr[data-mailbox="${user.email}"]`);
      await line.waitFor();
      await textEventually(line.locator('.badge'), /^Synced$/);
      expect((await line.locator('td.num').first().textContent())?.startsWith(String(user.messages))).toBe(true);
    }
    await screenshot(page, '06-migration-users');
    await expectNoSeriousViolations(page, 'View details (migration users)');

    // Alice's large message was skipped, not copied, and her mailbox is Synced all the same.
    const skippedCell = (email: string) => page.locator(`tr[data-mailbox="${email}"] td.num`).nth(1);
    expect((await skippedCell(USERS[1]!.email).textContent())?.trim()).toBe('0');
    await textEventually(skippedCell(LARGE.owner), /^1\b/);
    await page.getByRole('button', { name: `skipped items of ${LARGE.owner}: show` }).click();
    const skipped = page.getByRole('dialog', { name: `Skipped items of ${LARGE.owner}` });
    await countEventually(skipped.locator('tbody tr'), 1);
    const [folder, subject, , size, reason] = (await skipped.locator('tbody tr td').allTextContents()).map((cell) =>
      cell.trim(),
    );
    expect({ folder, subject, size, reason }).toEqual({
      folder: LARGE.folder,
      subject: LARGE.subject,
      size: `${(LARGE_RAW.length / 1024).toFixed(1)} KB`,
      reason: `larger than the limit of ${LARGE_ITEM_MAX_BYTES} bytes`,
    });
    await screenshot(page, '06b-skipped-items');
    await expectNoSeriousViolations(page, 'skipped items of a mailbox');
    await skipped.getByRole('button', { name: 'Close' }).click();
    await skipped.waitFor({ state: 'hidden' });

    await page.getByLabel('Search').fill('bob');
    await countEventually(page.locator('tr[data-mailbox]'), 1);
    await page.locator('tr[data-mailbox="bob@example.com"]').waitFor();
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Status').selectOption('Failed');
    await page.getByText('No migration users match.').waitFor();
    await page.getByLabel('Status').selectOption('');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download CSV/ }).click(),
    ]);
    const text = await readFile((await download.path())!, 'utf8');
    for (const user of USERS) expect(text).toContain(user.email);
    for (const user of USERS) expect(text).not.toContain(user.password);

    // A row's commands are the status table's for a Synced mailbox of a Synced batch. Set… goes through the real
    // API and workflow: Bob's own bad item limit, then back to the batch's value (null).
    const bob = USERS[1]!.email;
    const bobRow = page.locator(`tr[data-mailbox="${bob}"]`);
    const labels = (await bobRow.locator('.row-actions button').allTextContents()).map((t) => t.replace(` ${bob}`, ''));
    expect(labels).toEqual([...rowCommands('Synced', 'Synced').map((c) => ACTION_LABELS[c]), SET_PASSWORD_LABEL]);
    type Users = { items: { overrides: { badItemLimit: number | null } }[] };
    const ownLimit = `/mailboxes?email=${encodeURIComponent(bob)}`;
    for (const [own, expected] of [
      [true, 7],
      [false, null],
    ] as const) {
      await bobRow.getByRole('button', { name: `Set… ${bob}` }).click();
      const dialog = page.getByRole('dialog', { name: `Settings of ${bob}` });
      const useBatch = dialog.getByLabel('The batch’s value for bad item limit');
      await useBatch.waitFor();
      await useBatch.setChecked(!own);
      if (own) await dialog.getByLabel('Bad item limit', { exact: true }).fill('7');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByText(`Settings of ${bob} saved.`).waitFor();
      await apiEventually(ownLimit, (u: Users) => u.items[0]?.overrides.badItemLimit === expected);
    }
    await page.getByRole('link', { name: /Back to/ }).click();
  });

  it('Stop, Resume and Sync now act on the batch, each enabled only where the table allows it', async () => {
    const row = page.locator(`tr[data-batch-name="${BATCH}"]`);
    await row.locator('a').click();
    await page.getByRole('button', { name: 'Stop migration' }).click();
    await textEventually(row.locator('.badge'), /^Stopped$/, 120_000);
    await expectCommandsFor(page, 'Stopped');
    await screenshot(page, '07-batch-stopped');

    await page.getByRole('button', { name: 'Resume migration' }).click();
    await textEventually(row.locator('.badge'), /^Synced$/, 120_000);
    await expectCommandsFor(page, 'Synced');

    // The badge may still say Synced from before the pass: wait for the pass itself to have ended.
    const path = `/batches/${encodeURIComponent(BATCH)}`;
    type Sync = { status: string; lastSyncedAt: string | null };
    const before = ((await (await api('GET', path)).json()) as Sync).lastSyncedAt;
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText(`Incremental sync requested for ${BATCH}.`).waitFor();
    await apiEventually(path, (b: Sync) => b.status === 'Synced' && b.lastSyncedAt !== before, 120_000);
    await textEventually(row.locator('.badge'), /^Synced$/, 120_000);
    await textEventually(row.locator('td.num').nth(1), /^2$/);
  });

  it('a viewer sees everything but no control that changes anything', async () => {
    const viewerToken = product.viewerToken;
    const viewerContext = await browser.newContext({ viewport: { width: 900, height: 1000 } });
    const viewer = await viewerContext.newPage();
    const errors = watchPageErrors(viewer);
    try {
      await signIn(viewer, product.baseUrl, viewerToken);
      await viewer.getByText('(viewer)').waitFor();
      await viewer.locator(`tr[data-batch-name="${BATCH}"] a`).click();
      await viewer.getByTestId('batch-details').waitFor();
      for (const name of ['New migration batch', ...BUTTONS.map(([label]) => label)]) {
        expect(await viewer.getByRole('button', { name, exact: true }).count()).toBe(0);
      }
      expect(await viewer.getByRole('button', { name: 'Refresh' }).isEnabled()).toBe(true);
      await screenshot(viewer, '08-viewer-tablet');

      await viewer.getByRole('link', { name: 'View details' }).click();
      await viewer.locator(`tr[data-mailbox="${USERS[1]!.email}"]`).waitFor();
      expect(await viewer.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
      expect(await viewer.locator('.row-actions').count()).toBe(0);
      await viewer.getByRole('link', { name: /Back to/ }).click();

      await viewer.getByRole('link', { name: 'Migration endpoints' }).click();
      await viewer.locator('tr[data-endpoint-name="Source Dovecot"] a').click();
      await viewer.getByText('Batches using this endpoint').waitFor();
      for (const name of ['New endpoint', 'Edit endpoint', 'Delete endpoint', 'Test connection']) {
        expect(await viewer.getByRole('button', { name, exact: true }).count()).toBe(0);
      }
      await viewer.goto(`${product.baseUrl}#/batches/new`);
      await viewer.getByText(/read-only \(viewer\)/).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await viewerContext.close();
    }
  });

  it('Complete asks first, then completes the batch', async () => {
    const row = page.locator(`tr[data-batch-name="${BATCH}"]`);
    await row.locator('a').click();
    await page.getByRole('button', { name: 'Complete migration' }).click();
    const dialog = page.getByRole('dialog', { name: 'Complete migration batch?' });
    await dialog.waitFor();
    await screenshot(page, '09-confirm-complete');
    await expectNoSeriousViolations(page, 'Complete confirmation dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await row.locator('.badge').textContent()).toBe('Synced');

    await page.getByRole('button', { name: 'Complete migration' }).click();
    await dialog.getByRole('button', { name: 'Complete' }).click();
    await textEventually(row.locator('.badge'), /^Completed$/, 180_000);
    await expectCommandsFor(page, 'Completed');
    await textEventually(row.locator('td.num').nth(2), /^2$/); // Finalized
    await screenshot(page, '10-batch-completed');
  });

  it('Delete asks first, then removes the batch', async () => {
    const row = page.locator(`tr[data-batch-name="${BATCH}"]`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete migration batch?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 120_000 });
    await page.getByText('No migration batches yet.').waitFor();
    await screenshot(page, '11-batch-deleted');
  });

  it('blocks editing and deleting an endpoint a running batch uses, names the batch, and frees it once stopped', async () => {
    // A source nothing listens on: every sync attempt is refused, a transient error, so the sync activity
    // waits in retry backoff and the batch stays Syncing until it is stopped.
    const endpointsBefore = (await (await api('GET', '/endpoints')).json()) as {
      items: { id: string; name: string }[];
    };
    const destinationId = endpointsBefore.items.find((e) => e.name === 'Destination Dovecot')!.id;
    const createdEndpoint = await api('POST', '/endpoints?skipTest=true', {
      name: DEAD_SOURCE,
      provider: 'dovecot',
      host: '127.0.0.1',
      port: 1, // as the refused 'Nowhere' above: nothing listens on 127.0.0.1:1
      security: 'none',
    });
    expect(createdEndpoint.status).toBe(201);
    const endpointId = ((await createdEndpoint.json()) as { id: string }).id;
    const createdBatch = await api('POST', '/batches', {
      name: STUCK_BATCH,
      sourceEndpointId: endpointId,
      destinationEndpointId: destinationId,
      csv: csv([`${USERS[1]!.email},${USERS[1]!.email},${USERS[1]!.password}`]).toString(),
    });
    expect(createdBatch.status).toBe(201);
    const batchId = ((await createdBatch.json()) as { id: string }).id;
    expect((await api('POST', `/batches/${batchId}/start`)).status).toBe(200);
    // Running, and its one mailbox's sync has been refused at least once: the activity is retrying.
    await apiEventually(`/batches/${batchId}`, (b: { status: string }) => b.status === 'Syncing');
    await apiEventually(
      `/batches/${batchId}/mailboxes`,
      (m: { items: { lastErrorCode: string | null }[] }) => m.items[0]?.lastErrorCode === 'CONNECTION_FAILED',
    );

    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    await page.locator(`tr[data-endpoint-name="${DEAD_SOURCE}"] a`).click();
    await page.getByRole('heading', { name: DEAD_SOURCE, level: 2 }).waitFor();
    const reason = page.locator('#endpoint-blocked');
    expect(await textEventually(reason, /cannot be edited or deleted/)).toContain(`${STUCK_BATCH} (Syncing)`);
    const editButton = page.getByRole('button', { name: 'Edit endpoint' });
    const deleteButton = page.getByRole('button', { name: 'Delete endpoint' });
    expect(await editButton.isDisabled()).toBe(true);
    expect(await deleteButton.isDisabled()).toBe(true);
    expect(await editButton.getAttribute('aria-describedby')).toBe('endpoint-blocked');
    await textEventually(page.locator('.plain-list li'), new RegExp(`^${STUCK_BATCH}\\s*Syncing$`));
    await screenshot(page, '12-endpoint-blocked-by-running-batch');
    await expectNoSeriousViolations(page, 'endpoint blocked by a running batch');
    // The destination the batch writes to is blocked the same way.
    await page.locator('tr[data-endpoint-name="Destination Dovecot"] a').click();
    await textEventually(reason, new RegExp(`${STUCK_BATCH} \\(Syncing\\)`));
    expect(await deleteButton.isDisabled()).toBe(true);

    // The API refuses both, naming the batch.
    const inUse = {
      code: 'ENDPOINT_IN_USE',
      details: { batches: [{ id: batchId, name: STUCK_BATCH, status: 'Syncing' }] },
    };
    const patched = await api('PATCH', `/endpoints/${endpointId}`, { maxConcurrentMigrations: 7 });
    expect(patched.status).toBe(409);
    const patchError = ((await patched.json()) as { error: { message: string } }).error;
    expect(patchError).toMatchObject(inUse);
    expect(patchError.message).toContain(STUCK_BATCH);
    const deleted = await api('DELETE', `/endpoints/${endpointId}`);
    expect(deleted.status).toBe(409);
    expect(((await deleted.json()) as { error: unknown }).error).toMatchObject(inUse);

    // Stop: the sync waits in retry backoff, so the cancellation is quick.
    const stopAsked = Date.now();
    expect((await api('POST', `/batches/${batchId}/stop`)).status).toBe(200);
    await apiEventually(`/batches/${batchId}`, (b: { status: string }) => b.status === 'Stopped', 20_000);
    expect(Date.now() - stopAsked).toBeLessThan(20_000);

    // Stopped, the endpoint can be edited from the dashboard (the details poll every 5 s).
    await page.locator(`tr[data-endpoint-name="${DEAD_SOURCE}"] a`).click();
    await page.getByRole('heading', { name: DEAD_SOURCE, level: 2 }).waitFor();
    await reason.waitFor({ state: 'detached', timeout: 15_000 });
    await textEventually(page.locator('.plain-list li'), new RegExp(`^${STUCK_BATCH}\\s*Stopped$`));
    await editButton.click();
    const form = page.locator('form.endpoint-form');
    await form.getByLabel('Name', { exact: true }).fill(`${DEAD_SOURCE} (renamed)`);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(`Endpoint ${DEAD_SOURCE} (renamed) saved.`).waitFor();
    await page.locator(`tr[data-endpoint-name="${DEAD_SOURCE} (renamed)"]`).waitFor();

    // A stopped batch still uses it, so it cannot be deleted yet; once the batch is gone it can.
    const stillUsed = await api('DELETE', `/endpoints/${endpointId}`);
    expect(stillUsed.status).toBe(409);
    expect(((await stillUsed.json()) as { error: unknown }).error).toMatchObject({
      code: 'ENDPOINT_IN_USE',
      details: { batches: [{ id: batchId, name: STUCK_BATCH, status: 'Stopped' }] },
    });
    expect((await api('DELETE', `/batches/${batchId}`)).status).toBe(202);
    await apiEventually(`/batches/${batchId}`, (_body, status) => status === 404, 30_000);

    await page.getByRole('heading', { name: `${DEAD_SOURCE} (renamed)`, level: 2 }).waitFor();
    await page.getByText('No batch uses this endpoint.').waitFor({ timeout: 15_000 });
    await deleteButton.click();
    const [removal] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/endpoints/${endpointId}`)),
      page.getByRole('dialog', { name: 'Delete migration endpoint?' }).getByRole('button', { name: 'Delete' }).click(),
    ]);
    expect(removal.status()).toBe(204);
    await page.locator(`tr[data-endpoint-name="${DEAD_SOURCE} (renamed)"]`).waitFor({ state: 'detached' });
    expect((await api('GET', `/endpoints/${endpointId}`)).status).toBe(404);
    const left = (await (await api('GET', '/batches')).json()) as { total: number };
    expect(left.total).toBe(0);
  });

  it('edits an endpoint no batch runs on, and deletes one after asking', async () => {
    await page.getByRole('link', { name: 'Migration endpoints' }).click();
    await page.locator('tr[data-endpoint-name="Source Dovecot"] a').click();
    await page.getByRole('button', { name: 'Edit endpoint' }).click();
    const form = page.locator('form.endpoint-form');
    await form.getByLabel('Max concurrent migrations').fill('7');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Endpoint Source Dovecot saved.').waitFor();
    await textEventually(page.locator('tr[data-endpoint-name="Source Dovecot"] td.num').first(), /^7$/);

    await page.locator('tr[data-endpoint-name="Destination Dovecot"] a').click();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete migration endpoint?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-endpoint-name="Destination Dovecot"]').waitFor({ state: 'detached' });
    await page.getByText('Endpoint Destination Dovecot deleted.').waitFor();
  });
});
