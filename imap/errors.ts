import { MAILBOX_ERROR_CODES, type MailboxErrorCodeFrom, type RetryClass } from '../domain/mailbox-errors';

/**
 * Errors of the IMAP sync engine. Every failure that leaves `imap/` is an {@link ImapSyncError} with a stable
 * `code` and a retry class, both from the product's one table of mailbox error codes (domain/mailbox-errors.ts,
 * the rows from `imap`). Messages never contain passwords or tokens.
 */
export type ImapErrorCode = MailboxErrorCodeFrom<'imap'>;

export type { RetryClass };

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
    this.retryClass = MAILBOX_ERROR_CODES[code].retry;
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
    return new ImapSyncError(
      'AUTH_FAILED',
      `${where} refused the login: ${serverText(err)} (credentials rejected: update the password, then resume)`,
      { side, cause: err },
    );
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
