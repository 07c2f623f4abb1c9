/**
 * Errors of the IMAP sync engine. Every failure that leaves `imap/` is an {@link ImapSyncError} with a stable
 * `code` and a retry class:
 *
 * | code | class | meaning |
 * | --- | --- | --- |
 * | `AUTH_FAILED` | mailbox | the server refused the login (wrong password, disabled account, bad token) |
 * | `MAILBOX_NOT_FOUND` | mailbox | the account or a required folder does not exist |
 * | `BAD_ITEM_LIMIT_EXCEEDED` | mailbox | the destination refused more messages than the batch's BadItemLimit |
 * | `LARGE_ITEM_LIMIT_EXCEEDED` | mailbox | more messages over the size limit than the batch's LargeItemLimit |
 * | `TLS_FAILED` | mailbox | the TLS handshake or certificate check failed |
 * | `FOLDER_CREATE_FAILED` | mailbox | the destination refused to create a folder |
 * | `CONNECTION_FAILED` | transient | the server could not be reached (refused, DNS, timeout) |
 * | `CONNECTION_LOST` | transient | the connection dropped or the server said BYE during the sync |
 * | `THROTTLED` | transient | the server asked us to slow down |
 * | `SERVER_ERROR` | transient | the server failed a command in a way that may pass on retry |
 * | `PROTOCOL_ERROR` | transient | the server's response could not be understood |
 * | `MAILBOX_BUSY` | transient | another sync of the same mailbox is still running (a retry that overtook it) |
 * | `MAILBOX_LOCK_LOST` | transient | the mailbox lock's database connection dropped mid-sync, so the sync stopped |
 * | `CANCELLED` | cancelled | the sync was cancelled |
 *
 * "mailbox" errors fail the mailbox at once (retrying cannot help); "transient" errors are retried with backoff.
 * Messages never contain passwords or tokens.
 */
export type ImapErrorCode =
  | 'AUTH_FAILED'
  | 'MAILBOX_NOT_FOUND'
  | 'BAD_ITEM_LIMIT_EXCEEDED'
  | 'LARGE_ITEM_LIMIT_EXCEEDED'
  | 'TLS_FAILED'
  | 'FOLDER_CREATE_FAILED'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_LOST'
  | 'THROTTLED'
  | 'SERVER_ERROR'
  | 'PROTOCOL_ERROR'
  | 'MAILBOX_BUSY'
  | 'MAILBOX_LOCK_LOST'
  | 'CANCELLED';

export type RetryClass = 'mailbox' | 'transient' | 'cancelled';

const CLASS: Record<ImapErrorCode, RetryClass> = {
  AUTH_FAILED: 'mailbox',
  MAILBOX_NOT_FOUND: 'mailbox',
  BAD_ITEM_LIMIT_EXCEEDED: 'mailbox',
  LARGE_ITEM_LIMIT_EXCEEDED: 'mailbox',
  TLS_FAILED: 'mailbox',
  FOLDER_CREATE_FAILED: 'mailbox',
  CONNECTION_FAILED: 'transient',
  CONNECTION_LOST: 'transient',
  THROTTLED: 'transient',
  SERVER_ERROR: 'transient',
  PROTOCOL_ERROR: 'transient',
  MAILBOX_BUSY: 'transient',
  MAILBOX_LOCK_LOST: 'transient',
  CANCELLED: 'cancelled',
};

export type Side = 'source' | 'destination';

export class ImapSyncError extends Error {
  readonly code: ImapErrorCode;
  readonly retryClass: RetryClass;
  readonly side: Side | undefined;
  /** For THROTTLED: how long the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ImapErrorCode,
    message: string,
    opts: { side?: Side; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ImapSyncError';
    this.code = code;
    this.retryClass = CLASS[code];
    this.side = opts.side;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

interface ImapFlowLikeError {
  code?: string;
  message?: string;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  serverResponseCode?: string;
  responseText?: string;
  responseStatus?: string;
  throttleReset?: number;
  mailboxMissing?: boolean;
  /** The parsed tagged response (imapflow's raw `exec`), or its text once imapflow has enhanced the error. */
  response?: unknown;
}

/**
 * The response code of a failed command (`NO [UNAVAILABLE] ...` → `UNAVAILABLE`). imapflow's own commands set
 * `serverResponseCode`; a command sent through its raw `exec` (our MULTIAPPEND) only carries the parsed response.
 */
function responseCodeOf(e: ImapFlowLikeError): string {
  if (e.serverResponseCode) return e.serverResponseCode;
  const response = e.response as { attributes?: Array<{ section?: Array<{ value?: unknown }> }> } | undefined;
  const code = typeof response === 'object' && response ? response.attributes?.[0]?.section?.[0]?.value : undefined;
  return typeof code === 'string' ? code.trim().toUpperCase() : '';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ETIMEOUT',
  'ProxyError',
  'EPROXY',
]);
const LOST_CODES = new Set([
  'NoConnection',
  'EConnectionClosed',
  'StateLogout',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
]);

/** Server response codes (RFC 5530) that mean "slow down" or "try later". */
const THROTTLE_RESPONSE = /\b(THROTTLED|INUSE|UNAVAILABLE)\b|too many|try again later|rate limit/i;

/** The server text of a failed command, without anything that could echo a credential. */
export function serverText(err: unknown): string {
  const e = (err ?? {}) as ImapFlowLikeError;
  const text = e.responseText || e.message || String(err);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Maps anything thrown by imapflow, sockets or TLS to an {@link ImapSyncError}. `connecting` tells whether the
 * error happened while opening the connection (CONNECTION_FAILED) or later (CONNECTION_LOST).
 */
export function classifyImapError(err: unknown, side: Side, connecting = false): ImapSyncError {
  if (err instanceof ImapSyncError) return err;
  const e = (err ?? {}) as ImapFlowLikeError;
  const code = e.code ?? '';
  const responseCode = responseCodeOf(e);
  const where = `${side} server`;
  if (e.authenticationFailed || responseCode === 'AUTHENTICATIONFAILED' || responseCode === 'AUTHORIZATIONFAILED') {
    return new ImapSyncError('AUTH_FAILED', `${where} refused the login: ${serverText(err)}`, { side, cause: err });
  }
  if (
    e.tlsFailed ||
    /certificate|self[- ]signed|SSL|TLS/i.test(code) ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('CERT_') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  ) {
    return new ImapSyncError('TLS_FAILED', `${where} TLS failed: ${serverText(err)}`, { side, cause: err });
  }
  if (
    code === 'ETHROTTLE' ||
    (e.responseStatus === 'NO' && THROTTLE_RESPONSE.test(`${responseCode} ${e.responseText ?? ''}`))
  ) {
    return new ImapSyncError('THROTTLED', `${where} is throttling: ${serverText(err)}`, {
      side,
      retryAfterMs: e.throttleReset,
      cause: err,
    });
  }
  if (e.mailboxMissing || responseCode === 'NONEXISTENT') {
    return new ImapSyncError('MAILBOX_NOT_FOUND', `${where}: folder does not exist: ${serverText(err)}`, {
      side,
      cause: err,
    });
  }
  if (NETWORK_CODES.has(code)) {
    return new ImapSyncError(
      connecting ? 'CONNECTION_FAILED' : 'CONNECTION_LOST',
      `${where} unreachable: ${code} ${serverText(err)}`,
      {
        side,
        cause: err,
      },
    );
  }
  if (LOST_CODES.has(code) || /closed|socket|BYE/i.test(e.message ?? '')) {
    return new ImapSyncError(
      connecting ? 'CONNECTION_FAILED' : 'CONNECTION_LOST',
      `${where} connection lost: ${serverText(err)}`,
      {
        side,
        cause: err,
      },
    );
  }
  if (code.startsWith('ParserError') || code === 'InvalidResponse' || code === 'UnexpectedTag') {
    return new ImapSyncError(
      'PROTOCOL_ERROR',
      `${where} sent a response that could not be parsed: ${serverText(err)}`,
      { side, cause: err },
    );
  }
  return new ImapSyncError('SERVER_ERROR', `${where} error: ${serverText(err)}`, { side, cause: err });
}
