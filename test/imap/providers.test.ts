import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testImapConnection } from '../../imap/connection-test';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { imapEndpointOf, insertBatch, insertEndpoint, insertMailbox, mailboxRow, runSync } from './helpers';

const USER = 'dana@example.com';

describe('Gmail profile (Dovecot with a virtual \\All folder over the label folders)', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startDovecot({ allMail: 'All Mail' }), startDovecot()]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  it('copies the labels, and from All Mail only the archived mail (into Archive), without duplicates', async () => {
    const a = buildMessage({ subject: 'inbox only' });
    const b = buildMessage({ subject: 'inbox and work' });
    const c = buildMessage({ subject: 'work only' });
    const d = buildMessage({ subject: 'archived, no label' });
    await source.seed(USER, [
      { folder: 'INBOX', raw: a },
      { folder: 'INBOX', raw: b, flags: ['\\Seen', '\\Flagged', '$Important'] },
      { folder: 'Work', raw: b, flags: ['\\Seen'] },
      { folder: 'Work', raw: c },
      // Gmail keeps archived mail only in All Mail; here it sits in a folder the batch does not copy.
      { folder: 'Hidden', raw: d },
    ]);
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source, { provider: 'gmail' }),
      await insertEndpoint(db.pool, destination),
      { folderExclude: ['Hidden'] },
    );
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email: USER,
      sourcePassword: 'src-pw',
      destinationPassword: 'dst-pw',
    });
    const run = () => runSync(db, { batchId, mailboxId, pass: 'initial' });
    expect(await run()).toEqual({ mailboxId, status: 'Synced' });

    const subjects = async () =>
      (await destination.readMailbox(USER)).map((m) => `${m.folder}: ${m.messageId ? 'id' : 'no id'} ${m.size}`).sort();
    const byFolder = (await destination.readMailbox(USER)).reduce<Record<string, number>>((acc, m) => {
      acc[m.folder] = (acc[m.folder] ?? 0) + 1;
      return acc;
    }, {});
    // Starred and Important are views of labelled mail: listed on the source, neither copied nor created.
    const sourceFolders = (await source.listFolders(USER)).map((f) => f.path);
    expect(sourceFolders).toEqual(expect.arrayContaining(['[Gmail]/Starred', '[Gmail]/Important']));
    expect(byFolder).toEqual({ INBOX: 2, Work: 2, Archive: 1 });
    const destinationFolders = (await destination.listFolders(USER)).map((f) => f.path);
    expect(destinationFolders.filter((p) => /Starred|Important|Gmail/.test(p))).toEqual([]);
    const archived = (await destination.readMailbox(USER)).find((m) => m.folder === 'Archive');
    expect(archived?.sha256).toBe((await source.readMailbox(USER)).find((m) => m.folder === 'Hidden')?.sha256);
    expect(await mailboxRow(db.pool, mailboxId)).toMatchObject({ items_synced: '5' });

    // Nothing new: a second pass copies nothing more.
    const before = await subjects();
    await source.seed(USER, [{ folder: 'INBOX', raw: buildMessage({ subject: 'new in inbox' }) }]);
    expect(await run()).toEqual({ mailboxId, status: 'Synced' });
    const after = await subjects();
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((x) => x.startsWith('Archive')).length).toBe(1);
  });
});

describe('XOAUTH2 (Dovecot oauth2 passdb against a local token-introspection endpoint)', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;
  let introspection: Server;
  const tokens = new Map([['good-token-for-erin', 'erin@example.com']]);

  beforeAll(async () => {
    db = await createTestDatabase();
    introspection = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        const user = tokens.get(token);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(user ? { active: true, username: user } : { active: false }));
      });
    });
    await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
    const { port } = introspection.address() as AddressInfo;
    [source, destination] = await Promise.all([
      startDovecot({ oauth2: { introspectionUrl: `http://127.0.0.1:${port}/introspect` } }),
      startDovecot(),
    ]);
    await source.addUser('erin@example.com', 'not-used-with-oauth');
    await destination.addUser('erin@example.com', 'dst-pw');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await new Promise((resolve) => introspection?.close(resolve));
    await db?.drop();
  });

  it('logs in with an access token (connection test and a sync), and a bad token fails with AUTH_FAILED', async () => {
    const endpoint = imapEndpointOf(source, { authMethod: 'xoauth2', provider: 'generic' });
    expect(
      await testImapConnection(endpoint, { user: 'erin@example.com', secret: 'good-token-for-erin' }),
    ).toMatchObject({ ok: true, code: 'OK' });

    await source.seed('erin@example.com', [{ folder: 'INBOX', raw: buildMessage({ subject: 'via oauth' }) }]);
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source, { provider: 'generic', authMethod: 'xoauth2' }),
      await insertEndpoint(db.pool, destination),
    );
    const mailboxId = await insertMailbox(db.pool, batchId, {
      email: 'erin@example.com',
      sourcePassword: 'good-token-for-erin',
      destinationPassword: 'dst-pw',
    });
    const result = await runSync(db, { batchId, mailboxId, pass: 'initial' });
    expect(result).toEqual({ mailboxId, status: 'Synced' });
    expect(await destination.readMailbox('erin@example.com')).toHaveLength(1);
    // A refusal last: after a failed login Dovecot delays the next ones from this address for a few seconds.
    const bad = await testImapConnection(endpoint, { user: 'erin@example.com', secret: 'expired-token' });
    expect(bad).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    expect(bad.message).not.toContain('expired-token');
  });
});

describe('login forms (Dovecot): AUTH=LOGIN, and an admin logging in through the SASL authorization identity', () => {
  let db: TestDatabase;
  let source: DovecotServer;
  let destination: DovecotServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([
      startDovecot(),
      startDovecot({ masterUser: { user: 'migrator', password: 'admin-pw' } }),
    ]);
    await source.addUser('frank@example.com', 'src-pw');
    await destination.addUser('frank@example.com', 'frank-own-pw');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  it('the Microsoft 365 profile logs the admin in on behalf of the mailbox (PLAIN authzid), and mail lands there', async () => {
    // Gmail and Microsoft 365 take the admin as the SASL PLAIN authentication identity and the mailbox as the
    // authorization identity; Dovecot's master users accept the same form.
    const endpoint = imapEndpointOf(destination, { provider: 'm365' });
    const admin = { user: 'migrator', secret: 'admin-pw' };
    expect(await testImapConnection(endpoint, { user: 'frank@example.com', admin })).toMatchObject({ ok: true });

    await source.seed('frank@example.com', [{ folder: 'INBOX', raw: buildMessage({ subject: 'via authzid' }) }]);
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, source, { authMethod: 'login' }),
      await insertEndpoint(db.pool, destination, {
        provider: 'm365',
        admin: { user: 'migrator', password: 'admin-pw' },
      }),
    );
    const mailboxId = await insertMailbox(db.pool, batchId, { email: 'frank@example.com', sourcePassword: 'src-pw' });
    expect(await runSync(db, { batchId, mailboxId, pass: 'initial' })).toEqual({ mailboxId, status: 'Synced' });
    const arrived = await destination.readMailbox('frank@example.com');
    expect(arrived.map((m) => m.folder)).toEqual(['INBOX']);
    // Refusals last: after a failed login Dovecot delays the next ones from this address for a few seconds.
    const wrong = await testImapConnection(endpoint, {
      user: 'frank@example.com',
      admin: { ...admin, secret: 'nope' },
    });
    expect(wrong).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
  });

  it('logs in with AUTH=LOGIN, and a wrong password fails with AUTH_FAILED', async () => {
    const endpoint = imapEndpointOf(source, { authMethod: 'login', provider: 'generic' });
    expect(await testImapConnection(endpoint, { user: 'frank@example.com', secret: 'src-pw' })).toMatchObject({
      ok: true,
      code: 'OK',
    });
    const bad = await testImapConnection(endpoint, { user: 'frank@example.com', secret: 'not-it' });
    expect(bad).toMatchObject({ ok: false, code: 'AUTH_FAILED' });
    expect(bad.message).not.toContain('not-it');
  });
});
