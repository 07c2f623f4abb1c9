import type { Endpoint } from '../api/types';
import { routeHref } from '../hooks/use-route';

interface Props {
  endpoints: Endpoint[];
  selectedId: string | undefined;
}

const SECURITY: Record<string, string> = { tls: 'TLS', starttls: 'STARTTLS', none: 'None' };

export function EndpointTable({ endpoints, selectedId }: Props) {
  return (
    <div className="table-scroll">
      <table className="data-table">
        <caption className="visually-hidden">Migration endpoints; select a name to see and edit its settings</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Server</th>
            <th scope="col">Encryption</th>
            <th scope="col">Admin user</th>
            <th scope="col" className="num">
              Max migrations
            </th>
            <th scope="col" className="num">
              Max incremental
            </th>
          </tr>
        </thead>
        <tbody>
          {endpoints.map((endpoint) => (
            <tr
              key={endpoint.id}
              className={endpoint.id === selectedId ? 'selected' : undefined}
              data-endpoint-name={endpoint.name}
            >
              <th scope="row">
                <a
                  href={routeHref({ page: 'endpoints', endpointId: endpoint.id })}
                  aria-current={endpoint.id === selectedId ? 'true' : undefined}
                >
                  {endpoint.name}
                </a>
              </th>
              <td>
                {endpoint.host}:{endpoint.port}
              </td>
              <td>{SECURITY[endpoint.security] ?? endpoint.security}</td>
              <td>{endpoint.adminUser ?? <span className="muted">none</span>}</td>
              <td className="num">{endpoint.maxConcurrentMigrations}</td>
              <td className="num">{endpoint.maxConcurrentIncrementalSyncs}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
