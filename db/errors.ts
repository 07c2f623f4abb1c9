/**
 * What went wrong talking to PostgreSQL, as a stable code an operator can search for. Every one of these is
 * transient: the database or the network will come back, and the caller (Temporal's retry, the API's client)
 * should try again. Anything else (a constraint, bad SQL) is not a database *availability* problem: null.
 *
 * | code | meaning |
 * | --- | --- |
 * | DB_POOL_TIMEOUT | no connection of the pool became free, or a new one did not open, within the pool's bound |
 * | DB_STATEMENT_TIMEOUT | a statement ran longer than `statement_timeout` (or its answer never came back) |
 * | DB_LOCK_TIMEOUT | a statement waited longer than `lock_timeout` for a lock |
 * | DB_UNAVAILABLE | the server refused or dropped the connection (down, restarting, too many connections) |
 */
export type DatabaseErrorCode = 'DB_POOL_TIMEOUT' | 'DB_STATEMENT_TIMEOUT' | 'DB_LOCK_TIMEOUT' | 'DB_UNAVAILABLE';

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
