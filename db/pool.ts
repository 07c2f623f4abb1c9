import { Pool, type PoolConfig } from 'pg';

/** Who uses a pool: each process role gets its own, so a busy worker can never starve the API (or back). */
export type PoolRole = 'api' | 'worker' | 'migrate';

/**
 * Bounds on every PostgreSQL wait, so a stuck or unreachable database surfaces as a retryable error with a code
 * (see `classifyDatabaseError`), never as a silent hang.
 */
export interface PoolLimits {
  /** Connections in the pool. */
  size: number;
  /** Waiting for a free connection, or for a new one to open. Default 10 s. */
  connectTimeoutMs?: number;
  /** One statement, on the server (`statement_timeout`). Default 30 s. */
  statementTimeoutMs?: number;
  /** Waiting for a row or table lock, on the server (`lock_timeout`). Default 10 s. */
  lockTimeoutMs?: number;
}

/** The session settings every mailferry connection runs with (also the dedicated lock connection's). */
export function boundedConnectionConfig(
  connectionString: string,
  role: PoolRole | 'locks',
  limits: Omit<PoolLimits, 'size'> = {},
): PoolConfig {
  const statementTimeoutMs = limits.statementTimeoutMs ?? 30_000;
  return {
    connectionString,
    application_name: `mailferry-${role}`,
    connectionTimeoutMillis: limits.connectTimeoutMs ?? 10_000,
    statement_timeout: statementTimeoutMs,
    lock_timeout: limits.lockTimeoutMs ?? 10_000,
    // A transaction left open by a crashed request cannot hold its locks for long.
    idle_in_transaction_session_timeout: 60_000,
    // The client gives up a little after the server would have cancelled: a lost connection cannot hang a query.
    query_timeout: statementTimeoutMs + 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/**
 * Connections a pool keeps open when idle (the others close after 10 s): a pass that begins after a quiet day (the
 * 24-hour sync, a sync-now) would otherwise open a connection for each of its first queries, about 10 ms apiece
 * with password authentication, in line with the command.
 */
const IDLE_CONNECTIONS_KEPT = 2;

/** A pool for one role, with every wait bounded. Errors of idle clients are dropped: the pool replaces them. */
export function createPool(connectionString: string, role: PoolRole, limits: PoolLimits): Pool {
  const pool = new Pool({
    ...boundedConnectionConfig(connectionString, role, limits),
    max: limits.size,
    min: Math.min(limits.size, IDLE_CONNECTIONS_KEPT),
  });
  pool.on('error', () => undefined);
  return pool;
}
