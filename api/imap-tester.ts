import { testDavService } from '../dav/connection-test';
import { createAccessTokens, type AccessTokens } from '../credentials/access-tokens';
import { isMintedTokenMethod } from '../domain/endpoint-auth';
import type { ImapCredentials, ImapEndpoint } from '../imap/connection';
import { testImapConnection } from '../imap/connection-test';
import type { ConnectionTester, ConnectionTestSettings } from './deps';

/** The API process's token cache, for connection tests and analyses of endpoints that mint their tokens. */
export const apiAccessTokens: AccessTokens = createAccessTokens();

/** A login as `user` with a token minted for it; null when the settings do not mint their tokens. */
export function mintedCredentialsOf(
  settings: ConnectionTestSettings,
  user: string,
  tokens: AccessTokens = apiAccessTokens,
): ImapCredentials | null {
  const oauth = settings.oauth;
  return oauth ? { user, accessToken: () => tokens.tokenFor(oauth, user) } : null;
}

/** The engine's view of endpoint settings (a saved endpoint's or unsaved ones): where to connect, and how. */
export function imapEndpointOf(settings: ConnectionTestSettings): ImapEndpoint {
  return {
    host: settings.host,
    port: settings.port,
    security: settings.security,
    acceptUntrustedCerts: settings.acceptUntrustedCerts,
    authMethod: isMintedTokenMethod(settings.authMethod) ? 'xoauth2' : settings.authMethod,
    provider: settings.provider,
  };
}

/**
 * The production connection tester: imap/connection-test.ts with the endpoint's settings. With a test mailbox
 * it logs in as that mailbox (with a token minted for it when the endpoint mints its tokens, through the admin
 * user when the endpoint has one); with only admin credentials it logs in as the admin user; otherwise it checks
 * the greeting and capabilities. Then the endpoint's CalDAV and CardDAV services, if it has them
 * (dav/connection-test.ts): down to the test mailbox's collections when it has a password, else whether they answer
 * at all. The first failure is the result.
 */
export function createImapConnectionTester(
  options: { timeoutMs?: number; tokens?: AccessTokens } = {},
): ConnectionTester {
  return async (settings) => {
    const admin =
      settings.adminUser && settings.adminPassword
        ? { user: settings.adminUser, secret: settings.adminPassword }
        : undefined;
    let credentials: Parameters<typeof testImapConnection>[1];
    const minted = settings.testMailbox
      ? mintedCredentialsOf(settings, settings.testMailbox.userName, options.tokens)
      : null;
    if (minted) credentials = minted;
    else if (settings.testMailbox) {
      credentials = admin
        ? { user: settings.testMailbox.userName, admin }
        : {
            user: settings.testMailbox.userName,
            ...(settings.testMailbox.password ? { secret: settings.testMailbox.password } : {}),
          };
    } else if (admin) {
      credentials = { user: admin.user, secret: admin.secret };
    }
    const timeoutMs = options.timeoutMs ?? 15_000;
    const result = await testImapConnection(imapEndpointOf(settings), credentials, { timeoutMs });
    if (!result.ok) return { ok: result.ok, code: result.code, message: result.message };
    const mailbox = settings.testMailbox?.password
      ? { user: settings.testMailbox.userName, password: settings.testMailbox.password }
      : null;
    const messages = [result.message];
    for (const [kind, url] of [
      ['caldav', settings.caldavUrl],
      ['carddav', settings.carddavUrl],
    ] as const) {
      if (!url) continue;
      const dav = await testDavService(kind, url, mailbox, { timeoutMs });
      if (!dav.ok) return dav;
      messages.push(dav.message);
    }
    return { ok: true, code: result.code, message: messages.join('; ') };
  };
}
