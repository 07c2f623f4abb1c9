import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** What a data-layer operation runs its statements on: the pool, or one connection inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * Runs `fn` in one transaction on a connection of the pool: committed when it returns, rolled back when it throws.
 * The connection is held only for `fn`'s own statements.
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
