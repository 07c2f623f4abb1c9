import { createImapConnectionTester } from '../../api/imap-tester';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { freePort } from '../fixtures/ports';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { startApi, type ApiHarness } from './harness';

/** Endpoints with CalDAV and CardDAV services: stored, returned, preset for Gmail, and tested with the IMAP side. */
let api: ApiHarness;
let dovecot: DovecotServer;
let radicale: RadicaleServer;
const PASSWORD = 'Alice-Secret-91bc';

beforeAll(async () => {
  [dovecot, radicale] = await Promise.all([startDovecot(), startRadicale()]);
  await dovecot.addUser('alice@example.com', PASSWORD);
  await radicale.addUser('alice@example.com', PASSWORD);
  await radicale.makeCalendar('alice@example.com', 'work', { displayName: 'Work' });
  api = await startApi({ testConnection: createImapConnectionTester({ timeoutMs: 5000 }) });
});
afterAll(async () => {
  await api?.close();
  await Promise.all([dovecot?.close(), radicale?.close()]);
});

const settings = () => ({
  host: dovecot.host,
  port: dovecot.port,
  security: 'none' as const,
  provider: 'dovecot' as const,
  testMailbox: { userName: 'alice@example.com', password: PASSWORD },
});

describe('endpoints with CalDAV and CardDAV services', () => {
  it('creates an endpoint whose DAV services pass the test with the mailbox, and returns them', async () => {
    const res = await api.request('POST', '/endpoints', {
      json: { name: 'With DAV', ...settings(), caldavUrl: radicale.url, carddavUrl: radicale.url },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ caldavUrl: radicale.url, carddavUrl: radicale.url });
    const test = await api.request('POST', `/endpoints/${res.body.id}/test`, {
      json: { testMailbox: settings().testMailbox },
    });
    expect(test.body).toMatchObject({ ok: true, message: expect.stringContaining('CalDAV: 1 calendar for') });
  });

  it('refuses an endpoint whose DAV service fails while IMAP works, saying which and why', async () => {
    const wrong = await api.request('POST', '/endpoints/test', {
      json: { ...settings(), caldavUrl: radicale.url, testMailbox: { userName: 'alice@example.com', password: 'x' } },
    });
    // IMAP refuses that password first; with the right one, a DAV service that is not there.
    expect(wrong.body).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const res = await api.request('POST', '/endpoints', {
      json: { name: 'Broken DAV', ...settings(), carddavUrl: nowhere },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.test).toMatchObject({
      ok: false,
      code: 'DAV_UNREACHABLE',
      message: expect.stringContaining(`CardDAV: source DAV service unreachable at ${nowhere}`),
    });
  });

  it("presets Google's CalDAV and CardDAV on a Gmail endpoint, unless told none", async () => {
    const gmail = { host: 'imap.gmail.com', port: 993, security: 'tls', provider: 'gmail', authMethod: 'xoauth2' };
    const preset = await api.request('POST', '/endpoints?skipTest=true', { json: { name: 'Gmail', ...gmail } });
    expect(preset.body).toMatchObject({
      caldavUrl: 'https://apidata.googleusercontent.com/caldav/v2/',
      carddavUrl: 'https://www.googleapis.com/.well-known/carddav',
    });
    const none = await api.request('POST', '/endpoints?skipTest=true', {
      json: { name: 'Gmail mail only', ...gmail, caldavUrl: null, carddavUrl: null },
    });
    expect(none.body).toMatchObject({ caldavUrl: null, carddavUrl: null });
    const edited = await api.request('PATCH', `/endpoints/${preset.body.id}?skipTest=true`, {
      json: { carddavUrl: null },
    });
    expect(edited.body).toMatchObject({
      caldavUrl: 'https://apidata.googleusercontent.com/caldav/v2/',
      carddavUrl: null,
    });
  });

  it('refuses a DAV address that is not an http(s) URL', async () => {
    const res = await api.request('POST', '/endpoints/test', {
      json: { ...settings(), caldavUrl: 'ftp://dav.example.com' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('caldavUrl');
  });
});
