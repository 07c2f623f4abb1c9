import type { Queryable } from './transaction';

/** What a batch shows of its endpoints. */
export interface EndpointRef {
  id: string;
  name: string;
  host: string;
}

export async function listEndpointRefs(db: Queryable, ids: string[]): Promise<EndpointRef[]> {
  const { rows } = await db.query<EndpointRef>('select id, name, host from endpoints where id = any($1::uuid[])', [
    ids,
  ]);
  return rows;
}

/** Which of these endpoint ids exist. */
export async function existingEndpointIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('select id from endpoints where id = any($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}
