import type { Queryable } from './transaction';

/** The cheapest statement that proves the database answers (the health check). */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('select 1');
}
