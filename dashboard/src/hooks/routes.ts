/** The page's screens; the location hash holds them so Back and bookmarks work without server routes. */
export type Route =
  | { page: 'batches'; batchId?: string }
  | { page: 'new-batch' }
  | { page: 'edit-batch'; batchId: string }
  | { page: 'report'; batchId: string }
  | { page: 'endpoints'; endpointId?: string }
  /** The audit trail, filtered to one batch (id or name) when given. */
  | { page: 'audit'; batch?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (first === 'audit') return second ? { page: 'audit', batch: second } : { page: 'audit' };
  if (first === 'endpoints') return second ? { page: 'endpoints', endpointId: second } : { page: 'endpoints' };
  if (first === 'batches' && second === 'new') return { page: 'new-batch' };
  if (first === 'batches' && second && third === 'edit') return { page: 'edit-batch', batchId: second };
  if (first === 'batches' && second && third === 'users') return { page: 'report', batchId: second };
  if (first === 'batches' && second) return { page: 'batches', batchId: second };
  return { page: 'batches' };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'batches':
      return route.batchId ? `#/batches/${encodeURIComponent(route.batchId)}` : '#/batches';
    case 'new-batch':
      return '#/batches/new';
    case 'edit-batch':
      return `#/batches/${encodeURIComponent(route.batchId)}/edit`;
    case 'report':
      return `#/batches/${encodeURIComponent(route.batchId)}/users`;
    case 'endpoints':
      return route.endpointId ? `#/endpoints/${encodeURIComponent(route.endpointId)}` : '#/endpoints';
    case 'audit':
      return route.batch ? `#/audit/${encodeURIComponent(route.batch)}` : '#/audit';
  }
}
