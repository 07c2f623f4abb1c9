import type { ImapFlow } from 'imapflow';
import type { Logger } from '../observability/logger';
import { closeImapConnection, openImapConnection, type ImapCredentials, type ImapEndpoint } from './connection';
import { classifyImapError, ImapSyncError, type Side } from './errors';

/**
 * What the read-only looks at a mailbox share (the analysis, imap/analyze.ts, and the verification,
 * imap/verify.ts): both sides logged in at once with the side's `host:port` in a refusal, every connection closed
 * when the look ends or is cancelled, and folders opened with EXAMINE only.
 */

/** One side of a read-only look: where and as whom. */
export interface ReadOnlySide {
  endpoint: ImapEndpoint;
  credentials: ImapCredentials;
}

export interface ReadOnlyOptions {
  /** Aborting closes both connections; the look then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** How long opening a connection may take. Default 15 s. */
  connectionTimeoutMs?: number;
  /** Where imapflow's own log goes (debug); nowhere without one. */
  logger?: Logger;
}

/**
 * Logs in to both sides, runs `look` with the two connections and closes them. Throws {@link ImapSyncError}:
 * AUTH_FAILED or CONNECTION_FAILED (and the others of imap/errors.ts) with a message naming the side and its
 * `host:port`; CANCELLED (`${what} cancelled`) when `options.signal` aborted.
 */
export async function withBothSides<T>(
  source: ReadOnlySide,
  destination: ReadOnlySide,
  options: ReadOnlyOptions & { what: string },
  look: (src: ImapFlow, dst: ImapFlow) => Promise<T>,
): Promise<T> {
  const { signal } = options;
  const clients: ImapFlow[] = [];
  const onAbort = () => clients.forEach((c) => c.close());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const opened = await Promise.allSettled([
      login(source, 'source', options),
      login(destination, 'destination', options),
    ]);
    for (const o of opened) if (o.status === 'fulfilled') clients.push(o.value);
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    cancelledCheck(signal, options.what);
    const [src, dst] = clients as [ImapFlow, ImapFlow];
    return await look(src, dst);
  } catch (err) {
    if (signal?.aborted) throw new ImapSyncError('CANCELLED', `${options.what} cancelled`, { cause: err });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(clients.map((c) => closeImapConnection(c)));
  }
}

/** Throws CANCELLED (`${what} cancelled`) once `signal` has aborted. */
export function cancelledCheck(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new ImapSyncError('CANCELLED', `${what} cancelled`);
}

/** Logs in, with the side's `host:port` in the message of a refusal, so the administrator knows which side. */
async function login(side: ReadOnlySide, name: Side, options: ReadOnlyOptions): Promise<ImapFlow> {
  try {
    return await openImapConnection(side.endpoint, side.credentials, {
      side: name,
      connectionTimeoutMs: options.connectionTimeoutMs ?? 15_000,
      signal: options.signal,
      logger: options.logger,
    });
  } catch (err) {
    const e = classifyImapError(err, name, true);
    const where = `${name} server ${side.endpoint.host}:${side.endpoint.port}`;
    throw new ImapSyncError(e.code, e.message.replace(`${name} server`, where), { side: name, cause: err });
  }
}

/**
 * Opens `path` with EXAMINE (nothing is changed, not even \Recent or \Seen), runs `read` with the number of
 * messages in it, and closes it again. Returns null, without calling `read`, when the folder does not exist.
 * Errors are classified for `side`.
 */
export async function examine<T>(
  client: ImapFlow,
  side: Side,
  path: string,
  read: (exists: number) => Promise<T>,
): Promise<T | null> {
  let lock;
  try {
    lock = await client.getMailboxLock(path, { readOnly: true });
  } catch (err) {
    const e = classifyImapError(err, side);
    if (e.code === 'MAILBOX_NOT_FOUND') return null;
    throw e;
  }
  try {
    return await read(client.mailbox ? client.mailbox.exists : 0);
  } catch (err) {
    throw err instanceof ImapSyncError ? err : classifyImapError(err, side);
  } finally {
    lock.release();
  }
}
