import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAccessTokens, type TokenEndpoint } from '../../credentials/access-tokens';
import { startTokenServer, type TokenServer } from '../fixtures/token-server';
import { selfSignedCertificate } from '../fixtures/tls';
import { waitFor } from '../fixtures/wait-for';

describe('minted access tokens (against a local token endpoint whose tokens live 3 s)', () => {
  let server: TokenServer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mf-tokens-'));
    server = await startTokenServer({ lifetimeMs: 3000, tls: await selfSignedCertificate(dir) });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const google = (key: string, id = 'ep-google'): TokenEndpoint => ({
    id,
    authMethod: 'google-service-account',
    secret: key,
    tenantId: null,
    clientId: null,
    authority: null,
  });

  it('Google: a service account signs a JWT for the user; the token is cached, then minted again before it expires', async () => {
    const tokens = createAccessTokens();
    const ep = google(server.serviceAccount('migrator@project.iam.gserviceaccount.com'));
    const first = await tokens.tokenFor(ep, 'alice@example.com');
    expect(server.issued.at(-1)).toMatchObject({ grant: 'google', user: 'alice@example.com', token: first.token });
    expect(await tokens.accessTokenFor(ep, 'alice@example.com')).toBe(first.token);
    // Another user is another subject, another token.
    expect(await tokens.accessTokenFor(ep, 'bob@example.com')).not.toBe(first.token);
    // A third of the lifetime before expiry the cache mints a new one, while the old one is still valid.
    const second = await waitFor(async () => {
      const t = await tokens.tokenFor(ep, 'alice@example.com');
      return t.token !== first.token ? t : null;
    }, 'a token minted again before the first expired');
    expect(first.expiresAt).toBeGreaterThan(Date.now() - 1000);
    expect(second.expiresAt).toBeGreaterThan(first.expiresAt);
  });

  it('Google: parallel logins of one mailbox share one mint', async () => {
    const tokens = createAccessTokens();
    const ep = google(server.serviceAccount('parallel@project.iam.gserviceaccount.com'), 'ep-parallel');
    const before = server.issued.length;
    const all = await Promise.all(Array.from({ length: 5 }, () => tokens.accessTokenFor(ep, 'carol@example.com')));
    expect(new Set(all).size).toBe(1);
    expect(server.issued.length).toBe(before + 1);
  });

  it('Google: an unknown key or a user outside the delegation is TOKEN_REFUSED; a failing endpoint TOKEN_UNAVAILABLE; no secret in the message', async () => {
    const tokens = createAccessTokens();
    const key = server.serviceAccount('limited@project.iam.gserviceaccount.com', ['dave@example.com']);
    const forged = JSON.parse(server.serviceAccount('other@project.iam.gserviceaccount.com')) as Record<string, string>;
    const wrongKey = JSON.stringify({ ...forged, client_email: 'limited@project.iam.gserviceaccount.com' });
    const refused = await tokens.accessTokenFor(google(wrongKey, 'ep-x'), 'dave@example.com').catch((e: Error) => e);
    expect(refused).toMatchObject({ code: 'TOKEN_REFUSED' });
    expect((refused as Error).message).not.toContain('PRIVATE KEY');
    await expect(tokens.accessTokenFor(google(key, 'ep-y'), 'erin@example.com')).rejects.toMatchObject({
      code: 'TOKEN_REFUSED',
    });
    await expect(tokens.accessTokenFor(google('{"type":"nope"}', 'ep-z'), 'erin@example.com')).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
    });
    server.setUnavailable(true);
    try {
      await expect(tokens.accessTokenFor(google(key, 'ep-y'), 'dave@example.com')).rejects.toMatchObject({
        code: 'TOKEN_UNAVAILABLE',
      });
    } finally {
      server.setUnavailable(false);
    }
    expect(await tokens.accessTokenFor(google(key, 'ep-y'), 'dave@example.com')).toMatch(/^tok-/);
  });

  it('Microsoft 365: client credentials and a refresh token through msal-node; a wrong secret is TOKEN_REFUSED', async () => {
    server.registerApp({ tenant: 'contoso.example', clientId: 'app-1', clientSecret: 'app-secret', appUser: 'app' });
    const tokens = createAccessTokens({ msalNetworkClient: server.msalNetworkClient() });
    const ms = (authMethod: TokenEndpoint['authMethod'], secret: string): TokenEndpoint => ({
      id: `ep-${authMethod}`,
      authMethod,
      secret,
      tenantId: 'contoso.example',
      clientId: 'app-1',
      authority: server.authorityHost,
    });
    const app = await tokens.tokenFor(ms('m365-client-credentials', 'app-secret'), 'frank@contoso.example');
    expect(server.issued.at(-1)).toMatchObject({ grant: 'client_credentials', token: app.token });
    // The application's token serves every mailbox.
    expect(await tokens.accessTokenFor(ms('m365-client-credentials', 'app-secret'), 'gina@contoso.example')).toBe(
      app.token,
    );
    const refresh = server.refreshTokenFor('app-1', 'frank@contoso.example');
    const delegated = await tokens.accessTokenFor(ms('m365-refresh-token', refresh), 'frank@contoso.example');
    expect(server.issued.at(-1)).toMatchObject({ grant: 'refresh_token', user: 'frank@contoso.example' });
    expect(delegated).not.toBe(app.token);
    const wrong = await tokens
      .accessTokenFor({ ...ms('m365-client-credentials', 'not-the-secret'), id: 'ep-wrong' }, 'frank@contoso.example')
      .catch((e: Error) => e);
    expect(wrong).toMatchObject({ code: 'TOKEN_REFUSED' });
    expect((wrong as Error).message).not.toContain('not-the-secret');
  });
});
