import type { Browser, Locator, Page } from 'playwright-core';
import { ACTION_LABELS, rowCommands, SET_PASSWORD_LABEL } from '../../dashboard/src/report/mailbox-actions';
import type { MailboxStatus } from '../../domain/batch-status';
import { expectNoSeriousViolations } from './accessibility';
import { FAKE_TOKEN, startFakeApi, type FakeApi, type FakeMailbox } from './fake-api';
import { waitFor } from '../fixtures/wait-for';
import { ensureDashboardBuilt, launchBrowser, screenshot, signIn, watchPageErrors } from './support';

/**
 * View details' per-row commands (Stop, Start, Resume, Remove, Move…, Set…, and Set password… on every row)
 * against the stand-in API, which applies them with the real status table: each row offers only what the table
 * allows now, each asks first,
 * sends what it should, announces the outcome and shows the refreshed row, and a refusal's words reach the admin.
 * The browser runs in Asia/Kolkata, so a StartAfter typed there must go out with +05:30.
 */

const SALES = 'batch-sales';
const mailbox = (id: string, name: string, status: MailboxStatus, extra: Partial<FakeMailbox> = {}): FakeMailbox => ({
  id,
  emailAddress: `${name}@fake.test`,
  status,
  ...extra,
});

/** A verification that found one message missing on the destination and a flag that differs. */
const INVESTIGATE: NonNullable<FakeMailbox['consistency']> = {
  grade: 'Investigate',
  deep: false,
  verifiedAt: '2026-11-30T10:00:00.000Z',
  sourceItems: 10,
  destinationItems: 9,
  differenceCount: 2,
  approvedBy: null,
  approvedAt: null,
  differences: [
    {
      kind: 'mail',
      type: 'missing',
      folder: 'INBOX',
      side: 'source',
      messageId: '<q3@fake.test>',
      subject: 'Q3 figures',
      date: '2026-09-30T08:00:00.000Z',
      size: 2048,
      detail: null,
      count: 1,
    },
    {
      kind: 'mail',
      type: 'flags',
      folder: 'Sent',
      side: 'destination',
      messageId: '<hello@fake.test>',
      subject: 'Hello',
      date: '2026-09-01T08:00:00.000Z',
      size: 1024,
      detail: 'source \\Seen, destination none',
      count: 1,
    },
  ],
};

describe('per-mailbox commands on View details', () => {
  let fake: FakeApi;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const row = (name: string) => page.locator(`tr[data-mailbox="${name}@fake.test"]`);
  const actionNames = async (r: Locator) =>
    (await r.locator('.row-actions button').allTextContents()).map((text) => text.replace(/ \S+@fake\.test$/, ''));
  const notice = () => page.locator('.notice-area .message');

  beforeAll(async () => {
    ensureDashboardBuilt();
    fake = await startFakeApi();
    fake.state.batches = [
      {
        id: SALES,
        name: 'Sales',
        status: 'Syncing',
        total: 4,
        synced: 1,
        failed: 1,
        mailboxes: [
          mailbox('1', 'alice', 'Syncing'),
          mailbox('2', 'bob', 'Stopped'),
          mailbox('3', 'carol', 'Synced', { consistency: INVESTIGATE }),
          mailbox('4', 'dave', 'Failed', { overrides: { badItemLimit: 5, folderExclude: ['Junk'] } }),
        ],
      },
      { id: 'batch-finance', name: 'Finance', status: 'Synced', total: 0, synced: 0, failed: 0, mailboxes: [] },
      {
        id: 'batch-elsewhere',
        name: 'Elsewhere',
        status: 'Syncing',
        total: 0,
        synced: 0,
        failed: 0,
        mailboxes: [],
        otherEndpoints: true,
      },
      { id: 'batch-closed', name: 'Closed', status: 'Completed', total: 0, synced: 0, failed: 0, mailboxes: [] },
    ];
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, timezoneId: 'Asia/Kolkata' });
    errors = watchPageErrors(page);
    await signIn(page, fake.baseUrl, FAKE_TOKEN);
    await page.goto(`${fake.baseUrl}#/batches/${SALES}/users`);
    await row('alice').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await fake?.close();
  });

  afterEach(() => expect(errors).toEqual([]));

  it('offers each row exactly what the status table allows: a Stopped mailbox Start and Resume, not Stop', async () => {
    await page.getByRole('columnheader', { name: 'Actions' }).waitFor();
    for (const [name, status] of [
      ['alice', 'Syncing'],
      ['bob', 'Stopped'],
      ['carol', 'Synced'],
      ['dave', 'Failed'],
    ] as const) {
      const expected = [...rowCommands('Syncing', status).map((c) => ACTION_LABELS[c]), SET_PASSWORD_LABEL];
      expect(await actionNames(row(name))).toEqual(expected);
    }
    expect(await actionNames(row('bob'))).toEqual([
      'Start',
      'Resume',
      'Remove',
      'Move…',
      'Set…',
      'Verify',
      'Set password…',
    ]);
    await row('bob').getByRole('button', { name: 'Resume bob@fake.test' }).waitFor();
  });

  it('shows each row’s consistency grade, and verifies a mailbox after the admin confirms', async () => {
    const consistency = row('carol').locator('[data-grade]');
    expect(await consistency.textContent()).toBe('Investigate · 2 differences');
    expect(await consistency.getAttribute('title')).toBe(
      'missing in INBOX: Q3 figures\nflags in Sent: Hello (source \\Seen, destination none)',
    );
    expect(await row('bob').getByText('Not verified').count()).toBe(1);

    await row('carol').getByRole('button', { name: 'Verify carol@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Verify this mailbox?' });
    await dialog.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('Verify requested for carol@fake.test.').waitFor();
    expect(fake.state.mailboxCommands).toEqual([{ mailboxId: '3', command: 'verify', body: null }]);
    fake.state.mailboxCommands.length = 0;
  });

  it('stops a Syncing mailbox only after the admin confirms, then announces it and shows the refreshed row', async () => {
    await row('alice').getByRole('button', { name: 'Stop alice@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop this mailbox?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('alice@fake.test');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(fake.state.mailboxCommands).toEqual([]);

    await row('alice').getByRole('button', { name: 'Stop alice@fake.test' }).click();
    await dialog.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByText('Stop requested for alice@fake.test.').waitFor();
    expect(await page.locator('.notice-area').getAttribute('aria-live')).toBe('polite');
    expect(fake.state.mailboxCommands).toEqual([{ mailboxId: '1', command: 'stop', body: null }]);
    await row('alice').getByRole('button', { name: 'Start alice@fake.test' }).waitFor();
    expect(await row('alice').locator('.badge').textContent()).toBe('Stopped');
    expect(await actionNames(row('alice'))).not.toContain('Stop');
  });

  it('shows the API’s refusal when the batch moved on before the admin confirmed', async () => {
    await row('dave').getByRole('button', { name: 'Resume dave@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Resume this mailbox?' });
    await dialog.waitFor();
    const sales = fake.state.batches.find((b) => b.id === SALES)!;
    sales.status = 'Stopping';
    try {
      await dialog.getByRole('button', { name: 'Resume', exact: true }).click();
      await notice().filter({ hasText: 'resume is not allowed' }).waitFor();
      expect(await notice().textContent()).toContain(
        'resume is not allowed for a mailbox that is Failed in a batch that is Stopping. The mailbox allows nothing now.',
      );
      expect(await notice().getAttribute('class')).toContain('message-error');
      // The next poll of the batch takes every row's commands away while it is Stopping: a password can still be set.
      await waitFor(async () => (await actionNames(row('dave'))).join() === SET_PASSWORD_LABEL, 'only Set password…', {
        timeoutMs: 20_000,
      });
    } finally {
      sales.status = 'Syncing';
    }
    await row('dave').getByRole('button', { name: 'Resume dave@fake.test' }).waitFor({ timeout: 20_000 });
  });

  it('moves a mailbox to the chosen batch, showing why a batch with other endpoints refuses it', async () => {
    await row('carol').getByRole('button', { name: 'Move… carol@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move carol@fake.test' });
    const target = dialog.getByLabel('Target batch');
    await target.waitFor();
    // Neither its own batch nor a completed one (the stand-in answers the list unsorted).
    expect((await target.locator('option').allTextContents()).sort()).toEqual([
      'Elsewhere (Syncing)',
      'Finance (Synced)',
    ]);
    await expectNoSeriousViolations(page, 'View details with the Move dialog open');
    await screenshot(page, 'fake-move-mailbox');

    await target.selectOption({ label: 'Elsewhere (Syncing)' });
    await dialog.getByRole('button', { name: 'Move', exact: true }).click();
    await dialog.getByRole('alert').filter({ hasText: 'moves mail between other endpoints' }).waitFor();
    expect(fake.state.mailboxCommands.at(-1)).toEqual({
      mailboxId: '3',
      command: 'move',
      body: { targetBatch: 'batch-elsewhere' },
    });

    await target.selectOption({ label: 'Finance (Synced)' });
    await dialog.getByRole('button', { name: 'Move', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Moved carol@fake.test to Finance.').waitFor();
    expect(fake.state.mailboxCommands.at(-1)).toEqual({
      mailboxId: '3',
      command: 'move',
      body: { targetBatch: 'batch-finance' },
    });
    await row('carol').waitFor({ state: 'detached' });
  });

  it('sets only the changed settings, null for the batch’s value, StartAfter with the admin’s offset', async () => {
    await row('dave').getByRole('button', { name: 'Set… dave@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings of dave@fake.test' });
    const bad = dialog.getByLabel('Bad item limit', { exact: true });
    await bad.waitFor();
    // The mailbox's own values, from GET /mailboxes/:id; the others show the batch's.
    expect(await bad.inputValue()).toBe('5');
    expect(await dialog.getByLabel('Exclude folders', { exact: true }).inputValue()).toBe('Junk');
    expect(await dialog.getByLabel('The batch’s value for large item limit').isChecked()).toBe(true);
    expect(await dialog.getByLabel('Large item limit', { exact: true }).isDisabled()).toBe(true);
    await expectNoSeriousViolations(page, 'View details with the Set dialog open');
    await screenshot(page, 'fake-set-mailbox');

    const save = dialog.getByRole('button', { name: 'Save' });
    await save.click();
    await dialog.getByRole('alert').filter({ hasText: 'Nothing changed.' }).waitFor();
    await dialog.getByLabel('The batch’s value for large item limit').uncheck();
    await dialog.getByLabel('Large item limit', { exact: true }).fill('-1');
    await save.click();
    await dialog.getByText('Enter a whole number from 0 to 1,000,000.').waitFor();
    await dialog.getByLabel('The batch’s value for large item limit').check();
    const before = fake.state.mailboxCommands.length;

    await dialog.getByLabel('The batch’s value for bad item limit').check();
    await dialog.getByLabel('The batch’s value for start after').uncheck();
    await dialog.getByLabel('Start after', { exact: true }).fill('2026-12-24T09:30');
    await save.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Settings of dave@fake.test saved.').waitFor();
    expect(fake.state.mailboxCommands.slice(before)).toEqual([
      { mailboxId: '4', command: 'set', body: { startAfter: '2026-12-24T09:30:00+05:30', badItemLimit: null } },
    ]);
  });

  it('sets a new password for either side, resuming a Failed mailbox at once, and says what it did', async () => {
    await row('dave').getByRole('button', { name: 'Set password… dave@fake.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Password of dave@fake.test' });
    const password = dialog.getByLabel('New password');
    await password.waitFor();
    expect(await password.getAttribute('type')).toBe('password');
    expect(await dialog.getByLabel('Source server').isChecked()).toBe(true);
    expect(await dialog.getByLabel('Resume the mailbox now').isChecked()).toBe(true);
    await expectNoSeriousViolations(page, 'View details with the Set password dialog open');
    await screenshot(page, 'fake-set-password');

    const save = dialog.getByRole('button', { name: 'Save password' });
    const before = fake.state.mailboxCommands.length;
    await save.click();
    await dialog.getByText('Enter the new password.').waitFor();
    expect(fake.state.mailboxCommands.length).toBe(before);
    await password.fill('n3w-Secret!');
    await save.click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('New source password of dave@fake.test saved; the mailbox resumes.').waitFor();
    expect(fake.state.mailboxCommands.slice(before)).toEqual([
      { mailboxId: '4', command: 'set-password', body: { side: 'source', password: 'n3w-Secret!', resume: true } },
    ]);
    await row('dave').locator('.badge').filter({ hasText: 'Syncing' }).waitFor();
    // Nowhere on the page afterwards.
    expect(await page.content()).not.toContain('n3w-Secret!');

    // A Syncing mailbox: no resume to offer; the destination's password.
    await row('dave').getByRole('button', { name: 'Set password… dave@fake.test' }).click();
    await dialog.getByLabel('New password').waitFor();
    expect(await dialog.getByLabel('Resume the mailbox now').count()).toBe(0);
    await dialog.getByLabel('Destination server').check();
    await dialog.getByLabel('New password').fill('dest-Pw');
    await dialog.getByRole('button', { name: 'Save password' }).click();
    await page.getByText('New destination password of dave@fake.test saved.').waitFor();
    expect(fake.state.mailboxCommands.at(-1)).toEqual({
      mailboxId: '4',
      command: 'set-password',
      body: { side: 'destination', password: 'dest-Pw', resume: false },
    });
  });

  it('shows a viewer no actions at all', async () => {
    fake.state.role = 'viewer';
    const viewer = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await signIn(viewer, fake.baseUrl, FAKE_TOKEN);
      await viewer.goto(`${fake.baseUrl}#/batches/${SALES}/users`);
      await viewer.locator('tr[data-mailbox="alice@fake.test"]').waitFor();
      expect(await viewer.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
      expect(await viewer.locator('table button').count()).toBe(0);
      for (const label of [...Object.values(ACTION_LABELS), SET_PASSWORD_LABEL]) {
        expect(await viewer.getByRole('button', { name: new RegExp(`^${label}`) }).count()).toBe(0);
      }
    } finally {
      await viewer.close();
      fake.state.role = 'admin';
    }
  });
});
