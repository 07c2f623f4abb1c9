import { ImapFlow } from 'imapflow';
import {
  closeImapConnection,
  imapFlowOptions,
  openImapConnection,
  type ImapCredentials,
  type ImapEndpoint,
} from './connection';
import { classifyImapError, ImapSyncError } from './errors';

/**
 * The result of a connectivity test. `code` is `OK` or one of the {@link ImapSyncError} codes (`AUTH_FAILED`,
 * `CONNECTION_FAILED`, `TLS_FAILED`, ...); `message` says what happened in words an administrator can act on.
 */
export interface ConnectionTestResult {
  ok: boolean;
  code: string;
  message: string;
  /** The server's capabilities after login (or before, without credentials). */
  capabilities?: string[];
}

/**
 * Tests an IMAP endpoint: connects with its security settings and, with `credentials`, logs in (per-mailbox
 * password, XOAUTH2 token or admin on behalf of the user) and lists the INBOX. Never throws; never puts a
 * secret in the result.
 */
export async function testImapConnection(
  endpoint: ImapEndpoint,
  credentials?: ImapCredentials,
  opts: { timeoutMs?: number } = {},
): Promise<ConnectionTestResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  if (!credentials) {
    // Greeting, TLS and capabilities only: imapflow without a login stops (with an error) where LOGIN would be.
    const options = imapFlowOptions(endpoint, { user: '' }, { side: 'source', connectionTimeoutMs: timeoutMs });
    delete options.auth;
    const client = new ImapFlow(options);
    client.on('error', () => undefined);
    try {
      await client.connect();
      return {
        ok: true,
        code: 'OK',
        message: `connected to ${endpoint.host}:${endpoint.port} (${endpoint.security})`,
        capabilities: [...client.capabilities.keys()],
      };
    } catch (err) {
      if ((err as Error).message === 'Please configure the login' && client.capabilities.size) {
        return {
          ok: true,
          code: 'OK',
          message: `connected to ${endpoint.host}:${endpoint.port} (${endpoint.security}); login not tested`,
          capabilities: [...client.capabilities.keys()],
        };
      }
      const e = classifyImapError(err, 'source', true);
      return { ok: false, code: e.code, message: stripSide(e.message) };
    } finally {
      client.close();
    }
  }
  let client: ImapFlow | null = null;
  try {
    client = await openImapConnection(endpoint, credentials, { side: 'source', connectionTimeoutMs: timeoutMs });
    const inbox = await client.status('INBOX', { messages: true });
    return {
      ok: true,
      code: 'OK',
      message: `logged in as ${credentials.user}${credentials.admin ? ` (through admin ${credentials.admin.user})` : ''}; INBOX has ${inbox ? (inbox.messages ?? 0) : 0} messages`,
      capabilities: [...client.capabilities.keys()],
    };
  } catch (err) {
    const e = err instanceof ImapSyncError ? err : classifyImapError(err, 'source');
    return { ok: false, code: e.code, message: stripSide(e.message) };
  } finally {
    await closeImapConnection(client);
  }
}

function stripSide(message: string): string {
  return message.replace(/^source server /, 'server ');
}
