import type { MailboxErrorCodeFrom } from '../domain/mailbox-errors';

/**
 * What went wrong talking to PostgreSQL, as a stable code an operator can search for: the `db` rows of the
 * product's table of error codes (domain/mailbox-errors.ts), all transient: the database or the network will come
 * back, and the caller (Temporal's retry, the API's client) should try again. Anything else (a constraint, bad
 * SQL) is not a database *availability* problem: null.
 */
export type DatabaseErrorCode = MailboxErrorCodeFrom<'db'>;

export interface ClassifiedDatabaseError {
  code: DatabaseErrorCode;
  message: string;
}

/** SQLSTATEs of an unavailable server: admin shutdown, crash shutdown, cannot connect now, too many clients. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001']);
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

export function classifyDatabaseError(err: unknown): ClassifiedDatabaseError | null {
  if (!err || typeof err !== 'object') return null;
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (/timeout exceeded when trying to connect|connection timeout/i.test(text)) {
    return { code: 'DB_POOL_TIMEOUT', message: `PostgreSQL: no connection available in time (${text})` };
  }
  if (code === '57014' || text === 'Query read timeout') {
    return { code: 'DB_STATEMENT_TIMEOUT', message: `PostgreSQL: a statement took too long (${text})` };
  }
  if (code === '55P03') return { code: 'DB_LOCK_TIMEOUT', message: `PostgreSQL: a lock wait took too long (${text})` };
  if (
    (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || SOCKET_ERRORS.has(code))) ||
    /^Connection terminated/.test(text)
  ) {
    return { code: 'DB_UNAVAILABLE', message: `PostgreSQL not reachable (${text || String(code)})` };
  }
  return null;
}
