import type { Route } from '../hooks/use-route';
import { useSession } from '../auth/session-context';

interface Props {
  route: Route;
}

/** The top bar: product name, the three areas, who is signed in and with which role. */
export function Header({ route }: Props) {
  const { me, signOut } = useSession();
  const onEndpoints = route.page === 'endpoints';
  const onAudit = route.page === 'audit';
  return (
    <header className="app-header">
      <a className="brand" href="#/batches">
        mailferry
      </a>
      <nav aria-label="Main">
        <a href="#/batches" aria-current={!onEndpoints && !onAudit ? 'page' : undefined}>
          Migration batches
        </a>
        <a href="#/endpoints" aria-current={onEndpoints ? 'page' : undefined}>
          Migration endpoints
        </a>
        <a href="#/audit" aria-current={onAudit ? 'page' : undefined}>
          Audit trail
        </a>
      </nav>
      <div className="who">
        <span>
          {me.owner || me.name} <span className="role">({me.role})</span>
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
