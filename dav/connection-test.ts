import { basicAuthorization, DavClient, type DavServiceKind } from './client';
import { DavSyncError } from './errors';

/** The result of a DAV service test: `OK` or a {@link DavSyncError} code, and words an admin can act on. */
export interface DavTestResult {
  ok: boolean;
  code: string;
  message: string;
}

const NAMES: Record<DavServiceKind, string> = { caldav: 'CalDAV', carddav: 'CardDAV' };

/**
 * Tests a CalDAV or CardDAV service: with a mailbox's credentials, discovery down to its home set and the list
 * of its collections; without, only that the service answers over HTTP. Never throws; never puts a secret in the
 * result.
 */
export async function testDavService(
  kind: DavServiceKind,
  url: string,
  credentials: { user: string; password: string } | null,
  opts: { timeoutMs?: number } = {},
): Promise<DavTestResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const name = NAMES[kind];
  try {
    if (!credentials) {
      const client = new DavClient({ kind, url, side: 'source', authorization: () => Promise.resolve({}) }, signal);
      const res = await client.fetch(url, { method: 'OPTIONS' }).catch((err: unknown) => {
        // 401 without credentials: the service is there and wants a login, which is all this test can tell.
        if (err instanceof DavSyncError && err.code === 'DAV_AUTH_FAILED') return null;
        throw err;
      });
      await res?.body?.cancel();
      return { ok: true, code: 'OK', message: `${name} service at ${url} answers` };
    }
    const client = new DavClient(
      { kind, url, side: 'source', authorization: basicAuthorization(credentials.user, credentials.password) },
      signal,
    );
    const { length } = await client.collections();
    const noun = kind === 'caldav' ? 'calendar' : 'address book';
    return {
      ok: true,
      code: 'OK',
      message: `${name}: ${length} ${noun}${length === 1 ? '' : 's'} for ${credentials.user}`,
    };
  } catch (err) {
    const e = err instanceof DavSyncError ? err : null;
    const timedOut = signal.aborted;
    return {
      ok: false,
      code: timedOut ? 'DAV_UNREACHABLE' : (e?.code ?? 'DAV_SERVER_ERROR'),
      message: `${name}: ${timedOut ? `no answer from ${url} within the timeout` : (err as Error).message}`,
    };
  }
}
