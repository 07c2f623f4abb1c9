import { runCli } from '../../cli/run';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startProduct, type RunningProduct } from '../fixtures/product';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { waitFor } from '../fixtures/wait-for';
import { seedMailbox } from '../dav/corpus';

/**
 * Calendars and contacts end to end on the real pieces: endpoints with CalDAV and CardDAV created (and tested)
 * through the API, batches run by the workflow on a `temporal server start-dev` and the worker, two Dovecots for
 * the mail and two Radicales for the calendars and address books.
 */
const USERS = ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com'];
const PASSWORD = (user: string) => `pw-${user.split('@')[0]}-S3cret!`;

let product: RunningProduct;
let imapSource: DovecotServer;
let imapDestination: DovecotServer;
let davSource: RadicaleServer;
let davDestination: RadicaleServer;

beforeAll(async () => {
  const accounts = [...USERS, 'dave@contoso.com'].map((u) => ({ user: u, password: PASSWORD(u) }));
  [product, imapSource, imapDestination, davSource, davDestination] = await Promise.all([
    startProduct(),
    startDovecot({ users: accounts }),
    startDovecot({ users: accounts }),
    startRadicale({ users: accounts }),
    startRadicale({ users: accounts }),
  ]);
  for (const { user } of accounts) {
    await imapSource.seed(
      user,
      Array.from({ length: 4 }, (_, n) => ({ folder: 'INBOX', raw: buildMessage({ subject: `${user} ${n}` }) })),
    );
    await davSource.addUser(user, PASSWORD(user));
    await davDestination.addUser(user, PASSWORD(user));
    await seedMailbox(davSource, user);
  }
});

afterAll(async () => {
  await Promise.allSettled([
    product?.stop(),
    imapSource?.close(),
    imapDestination?.close(),
    davSource?.close(),
    davDestination?.close(),
  ]);
});

const api = <T = any>(method: string, path: string, json?: unknown) => product.api.call<T>(method, path, json);

const csvOf = (users: string[]) =>
  [
    'EmailAddress,UserName,Password,DestinationUserName,DestinationPassword',
    ...users.map((u) => `${u},${u},${PASSWORD(u)},${u},${PASSWORD(u)}`),
  ].join('\n');

async function cli(...argv: string[]) {
  let stdout = '';
  const code = await runCli(argv, {
    readStdin: async () => '',
    env: { MAILFERRY_URL: product.api.url, MAILFERRY_TOKEN: product.api.adminToken, HOME: '/nonexistent' },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stdout += t),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
  });
  return { code, stdout };
}

function waitForBatch(id: string, status: string): Promise<any> {
  return waitFor(
    async () => {
      const batch = await api('GET', `/batches/${id}`);
      if (batch.failed > 0)
        throw new Error(`a mailbox failed: ${JSON.stringify(await api('GET', `/batches/${id}/mailboxes`))}`);
      return batch.status === status && batch;
    },
    `the batch to be ${status}`,
    { timeoutMs: 90_000, intervalMs: 200, failFast: true, describe: () => api('GET', `/batches/${id}/mailboxes`) },
  );
}

test('a batch moves mail, calendars and contacts of several mailboxes, counted by kind; another skips calendars', async () => {
  const endpoint = (name: string, imap: DovecotServer, dav: RadicaleServer) =>
    api('POST', '/endpoints', {
      name,
      type: 'imap',
      host: imap.host,
      port: imap.port,
      security: 'none',
      caldavUrl: dav.url,
      carddavUrl: dav.url,
      testMailbox: { userName: USERS[0], password: PASSWORD(USERS[0]!) },
    });
  const src = await endpoint('Old server', imapSource, davSource);
  const dst = await endpoint('New server', imapDestination, davDestination);
  expect(src).toMatchObject({ caldavUrl: davSource.url, carddavUrl: davSource.url });

  const batch = await api('POST', '/batches', {
    name: 'Everything',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv: csvOf(USERS),
    autoStart: true,
  });
  const noCalendars = await api('POST', '/batches', {
    name: 'No calendars',
    sourceEndpointId: src.id,
    destinationEndpointId: dst.id,
    csv: csvOf(['dave@contoso.com']),
    autoStart: true,
    skipCalendar: true,
  });
  expect(noCalendars).toMatchObject({ skipCalendar: true, skipContacts: false, skipTasks: false });

  const synced = await waitForBatch(batch.id, 'Synced');
  // 4 messages, 10 calendar items (8 events, 2 tasks) and 3 contacts per mailbox.
  expect(synced.items).toEqual({ synced: 3 * 17, mail: 12, calendar: 30, contacts: 9, skipped: 0 });
  const report = await api('GET', `/batches/${batch.id}/mailboxes`);
  for (const m of report.items) {
    expect(m).toMatchObject({
      status: 'Synced',
      itemsSynced: 17,
      mailItemsSynced: 4,
      calendarItemsSynced: 10,
      contactsSynced: 3,
    });
  }
  for (const user of USERS) {
    expect(await davDestination.collections(user)).toEqual(['contacts', 'tasks', 'work']);
    for (const c of ['contacts', 'tasks', 'work']) {
      expect(await davDestination.objects(user, c)).toEqual(await davSource.objects(user, c));
    }
  }

  const other = await waitForBatch(noCalendars.id, 'Synced');
  expect(other.items).toEqual({ synced: 9, mail: 4, calendar: 2, contacts: 3, skipped: 0 });
  expect(await davDestination.collections('dave@contoso.com')).toEqual(['contacts', 'tasks']);
  const csv = await product.api.request('GET', `/batches/${batch.id}/mailboxes.csv`);
  expect(csv.text.split('\r\n')[0]).toMatch(/,MailItemsSynced,CalendarItemsSynced,ContactsSynced$/);
  expect(csv.text.split('\r\n')[1]).toMatch(/,4,10,3$/);

  const user = await cli('users', 'show', 'alice@contoso.com', '--batch', 'Everything');
  expect(user).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/By kind\s+4 mail, 10 calendar items, 3 contacts/),
  });
  const shown = await cli('batches', 'show', 'No calendars');
  expect(shown.stdout).toMatch(/Left out\s+calendars/);
  expect(shown.stdout).toMatch(/Items synced\s+9: 4 mail, 2 calendar, 3 contacts/);

  // Dave's own setting wins over his batch's: his calendars come with the next pass.
  const set = await cli('users', 'set', 'dave@contoso.com', '--skip-calendar', 'no');
  expect(set).toMatchObject({ code: 0 });
  const dave = await cli('users', 'show', 'dave@contoso.com');
  expect(dave.stdout).toMatch(/Left out \(own\)\s+calendars in, tasks as the batch, contacts as the batch/);
  await api('POST', `/batches/${noCalendars.id}/sync-now`);
  await waitFor(
    async () => (await api('GET', `/batches/${noCalendars.id}`)).items.calendar === 10,
    "Dave's calendars to be copied",
    { timeoutMs: 60_000, intervalMs: 200, describe: () => api('GET', `/batches/${noCalendars.id}/mailboxes`) },
  );
  expect(await davDestination.collections('dave@contoso.com')).toEqual(['contacts', 'tasks', 'work']);
});
