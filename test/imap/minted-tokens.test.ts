import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEndpointAccessTokens } from '../../credentials/endpoint-tokens';
import { secretContext } from '../../secrets/secret-box';
import { createLogger } from '../../observability/logger';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { startImapProxy, type ImapProxy } from '../fixtures/imap-proxy';
import { selfSignedCertificate } from '../fixtures/tls';
import { startTokenServer, type TokenServer } from '../fixtures/token-server';
import { insertBatch, insertEndpoint, insertMailbox, mailboxRow, runSync, secretBox } from './helpers';

const USER = 'erin@example.com';
const LIFETIME_MS = 3000;
/** Each Microsoft refresh token expires 6 s after it was issued, and each refresh hands out a new one. */
const REFRESH_LIFETIME_MS = 6000;

describe('a sync outlives its tokens (Dovecot oauth2 passdb validating 3 s tokens; Google service account to Microsoft 365 refresh token)', () => {
  let db: TestDatabase;
  let tokens: TokenServer;
  let source: DovecotServer;
  let destination: DovecotServer;
  let slow: ImapProxy;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mf-minted-'));
    db = await createTestDatabase();
    tokens = await startTokenServer({
      lifetimeMs: LIFETIME_MS,
      refreshLifetimeMs: REFRESH_LIFETIME_MS,
      tls: await selfSignedCertificate(dir),
    });
    const oauth2 = { introspectionUrl: tokens.introspectionUrl };
    [source, destination] = await Promise.all([startDovecot({ oauth2 }), startDovecot({ oauth2 })]);
    await Promise.all([source.addUser(USER, 'unused'), destination.addUser(USER, 'unused')]);
    // A slow link to the source: the sync lasts several token lifetimes.
    slow = await startImapProxy(source, { bytesPerSecond: 16_000 });
  });
  afterAll(async () => {
    await slow?.close();
    await Promise.all([source?.close(), destination?.close()]);
    await tokens?.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies every message exactly once, through reconnects with fresh tokens and rotated refresh tokens, without a failed attempt; the newest refresh token is stored sealed; no token in the log', async () => {
    const folders = ['INBOX', 'Projects', 'Receipts', 'Travel', 'Family', 'Archive'];
    await source.seed(
      USER,
      folders.flatMap((folder) =>
        Array.from({ length: 4 }, (_, i) => ({
          folder,
          raw: buildMessage({ subject: `${folder} ${i}`, size: 12_000 }),
        })),
      ),
    );
    const key = tokens.serviceAccount('migrator@project.iam.gserviceaccount.com', [USER]);
    tokens.registerApp({ tenant: 'contoso.example', clientId: 'mailferry-app' });
    const refreshToken = tokens.refreshTokenFor('mailferry-app', USER);
    const issuedAt = Date.now();
    const destinationId = await insertEndpoint(db.pool, destination, {
      provider: 'generic',
      authMethod: 'm365-refresh-token',
      mintingSecret: refreshToken,
      oauth: { tenantId: 'contoso.example', clientId: 'mailferry-app', authority: tokens.authorityHost },
    });
    const batchId = await insertBatch(
      db.pool,
      await insertEndpoint(db.pool, slow as unknown as DovecotServer, {
        provider: 'gmail',
        authMethod: 'google-service-account',
        mintingSecret: key,
      }),
      destinationId,
    );
    const mailboxId = await insertMailbox(db.pool, batchId, { email: USER });
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => lines.push(l) } });

    const result = await runSync(
      db,
      { batchId, mailboxId, pass: 'initial' },
      {
        tokens: createEndpointAccessTokens(
          { pool: db.pool, secretBox, logger },
          { msalNetworkClient: tokens.msalNetworkClient() },
        ),
        logger,
      },
    );
    const finished = Date.now();

    expect(result).toEqual({ mailboxId, status: 'Synced' });
    const row = await mailboxRow(db.pool, mailboxId);
    expect(row).toMatchObject({ items_synced: String(folders.length * 4), last_error: null, last_error_code: null });
    const arrived = await destination.readMailbox(USER);
    expect(arrived).toHaveLength(folders.length * 4);
    expect(new Set(arrived.map((m) => m.sha256)).size).toBe(folders.length * 4);
    // The sync outlived several tokens of each side, and logged in again with new ones.
    const google = tokens.issued.filter((t) => t.grant === 'google' && t.user === USER);
    const microsoft = tokens.issued.filter((t) => t.grant === 'refresh_token' && t.user === USER);
    expect(google[0]!.expiresAt).toBeLessThan(finished);
    expect(google.length).toBeGreaterThanOrEqual(3);
    // The destination logs in again only between folders, so how many of its tokens expire depends on where those
    // fall in time (three in most runs, two on a loaded machine): at least one was replaced.
    expect(microsoft[0]!.expiresAt).toBeLessThan(finished);
    expect(microsoft.length).toBeGreaterThanOrEqual(2);
    // The refresh token the endpoint was saved with expired during the sync; the sync went on with the new ones,
    // and the newest is the endpoint's now, sealed.
    expect(finished - issuedAt).toBeGreaterThan(REFRESH_LIFETIME_MS);
    const { rows } = await db.pool.query<{ admin_secret: Buffer }>('select admin_secret from endpoints where id = $1', [
      destinationId,
    ]);
    const stored = secretBox.open(rows[0]!.admin_secret, secretContext.endpointAdmin(destinationId));
    expect(stored).not.toBe(refreshToken);
    expect(stored).toMatch(/^rt-/);
    expect(rows[0]!.admin_secret.toString('latin1')).not.toContain(stored);
    expect(slow.connections).toBeGreaterThanOrEqual(3);
    // Every login Dovecot checked was a live token.
    expect(tokens.introspections.inactive).toBe(0);
    const log = lines.join('');
    for (const t of tokens.issued) expect(log).not.toContain(t.token);
    expect(log).not.toContain(refreshToken);
    expect(log).not.toContain(stored);
    expect(log).not.toContain('PRIVATE KEY');
  });

  it('a user outside the delegation fails the mailbox with TOKEN_REFUSED at once; a token endpoint that is down is retried (TOKEN_UNAVAILABLE)', async () => {
    const key = tokens.serviceAccount('narrow@project.iam.gserviceaccount.com', [USER]);
    await destination.addUser('mallory@example.com', 'unused');
    const sourceId = await insertEndpoint(db.pool, source, {
      authMethod: 'google-service-account',
      mintingSecret: key,
    });
    const batchId = await insertBatch(db.pool, sourceId, await insertEndpoint(db.pool, destination));
    const outsider = await insertMailbox(db.pool, batchId, {
      email: 'mallory@example.com',
      destinationPassword: 'unused',
    });
    const refused = await runSync(db, { batchId, mailboxId: outsider, pass: 'initial' });
    expect(refused).toMatchObject({ status: 'Failed', errorCode: 'TOKEN_REFUSED' });
    expect(refused.error).toContain('mallory@example.com');
    expect(refused.error).not.toContain('PRIVATE KEY');

    const mailboxId = await insertMailbox(db.pool, batchId, { email: USER, destinationPassword: 'unused' });
    tokens.setUnavailable(true);
    try {
      await expect(runSync(db, { batchId, mailboxId, pass: 'initial' })).rejects.toMatchObject({
        type: 'TOKEN_UNAVAILABLE',
        nonRetryable: false,
      });
    } finally {
      tokens.setUnavailable(false);
    }
  });
});
