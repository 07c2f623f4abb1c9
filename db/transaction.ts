import type { Pool, PoolClient } from 'pg';

/** Something that runs a statement: the pool, or a client inside a transaction. */
export type Queryable = Pool | PoolClient;

/**
 * Runs `fn` in one transaction on one pooled client: committed when it resolves, rolled back when it throws
 * (the error is rethrown). `fn` must only run statements on `client`: holding a pooled connection while waiting
 * for anything else (IMAP, Temporal, another connection) is how a pool deadlocks.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
