import { MAILBOX_ERROR_CODES, type MailboxErrorCodeFrom, type RetryClass } from '../domain/mailbox-errors';

/**
 * Errors of the calendar and contact engine. Every failure that leaves `dav/` is a {@link DavSyncError} with a
 * stable `code` and a retry class from the product's one table of mailbox error codes (domain/mailbox-errors.ts,
 * the rows from `dav`, plus the two the engines share: BAD_ITEM_LIMIT_EXCEEDED and CANCELLED). Messages name the
 * side and the service URL, never a password or a token.
 */
export type DavErrorCode = MailboxErrorCodeFrom<'dav'> | 'BAD_ITEM_LIMIT_EXCEEDED' | 'CANCELLED';

export type Side = 'source' | 'destination';

export class DavSyncError extends Error {
  readonly code: DavErrorCode;
  readonly retryClass: RetryClass;
  readonly side: Side | undefined;

  constructor(code: DavErrorCode, message: string, opts: { side?: Side; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DavSyncError';
    this.code = code;
    this.retryClass = MAILBOX_ERROR_CODES[code].retry;
    this.side = opts.side;
  }
}

/** The network error behind a failed fetch (undici puts it in `cause`). */
function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string; name?: string } }).cause;
  return cause?.code ?? cause?.name ?? (err as { code?: string }).code ?? (err as Error).name ?? 'error';
}

/** A request that never got an HTTP answer: the service is unreachable (or the sync was cancelled). */
export function classifyFetchFailure(err: unknown, side: Side, url: string, signal?: AbortSignal): DavSyncError {
  if (err instanceof DavSyncError) return err;
  if (signal?.aborted) return new DavSyncError('CANCELLED', 'sync cancelled', { side, cause: err });
  return new DavSyncError(
    'DAV_UNREACHABLE',
    `${side} DAV service unreachable at ${new URL(url).origin}: ${networkCode(err)}`,
    { side, cause: err },
  );
}

/** An HTTP answer that ends the request: 401 (the login), 5xx and 429 (the server), anything else unexpected. */
export function classifyHttpStatus(status: number, side: Side, what: string): DavSyncError {
  if (status === 401) {
    return new DavSyncError(
      'DAV_AUTH_FAILED',
      `${side} DAV server refused the login (401) on ${what}: update the password, then resume`,
      { side },
    );
  }
  return new DavSyncError('DAV_SERVER_ERROR', `${side} DAV server answered ${status} to ${what}`, { side });
}
