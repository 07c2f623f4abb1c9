import { useState } from 'react';
import { ApiError } from '../api/api-error';
import { useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { usePolling } from '../hooks/use-polling';
import { navigate } from '../hooks/use-route';
import { EndpointDetails } from './EndpointDetails';
import { EndpointForm } from './EndpointForm';
import { EndpointTable } from './EndpointTable';

interface Props {
  selectedId: string | undefined;
}

type Mode = 'view' | 'create' | 'edit';

/** Migration endpoints: the IMAP servers batches copy from and to. */
export function EndpointsPage({ selectedId }: Props) {
  const { api, canMutate } = useSession();
  const [mode, setMode] = useState<Mode>('view');
  const [notice, setNotice] = useState<string | undefined>();
  const list = usePolling(() => api.listEndpoints(), [api], { intervalMs: 10_000 });
  const selected = usePolling(
    () => (selectedId ? api.getEndpoint(selectedId) : Promise.resolve(undefined)),
    [api, selectedId],
    { intervalMs: 5_000 },
  );
  const gone = selected.error instanceof ApiError && selected.error.status === 404;

  return (
    <div className="endpoints-page">
      <div className="page-head">
        <h1>Migration endpoints</h1>
        {canMutate && mode !== 'create' && (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setNotice(undefined);
              setMode('create');
            }}
          >
            New endpoint
          </button>
        )}
      </div>
      <div aria-live="polite">{notice && <p className="message message-ok">{notice}</p>}</div>
      <div className="split">
        <section className="list-pane" aria-label="Endpoint list">
          <ErrorMessage error={list.error} title="Endpoints" onRetry={() => void list.reload()} />
          {list.loading && !list.data && <Loading what="endpoints" />}
          {list.data && list.data.length === 0 && (
            <EmptyState title="No migration endpoints yet.">
              {canMutate && <p>Create one for the source IMAP server and one for the destination.</p>}
            </EmptyState>
          )}
          {list.data && list.data.length > 0 && <EndpointTable endpoints={list.data} selectedId={selectedId} />}
        </section>
        <aside className="details-pane" aria-label="Selected endpoint">
          {mode === 'create' && (
            <EndpointForm
              onCancel={() => setMode('view')}
              onSaved={(endpoint) => {
                setMode('view');
                setNotice(`Endpoint ${endpoint.name} created.`);
                void list.reload();
                navigate({ page: 'endpoints', endpointId: endpoint.id });
              }}
            />
          )}
          {mode === 'edit' && selected.data && (
            <EndpointForm
              key={selected.data.id}
              endpoint={selected.data}
              onCancel={() => setMode('view')}
              onSaved={(endpoint) => {
                setMode('view');
                setNotice(`Endpoint ${endpoint.name} saved.`);
                void list.reload();
                void selected.reload();
              }}
            />
          )}
          {mode === 'view' && !selectedId && <EmptyState title="Select an endpoint to see its settings." />}
          {mode === 'view' && selectedId && gone && <EmptyState title="This endpoint no longer exists." />}
          {mode === 'view' && selectedId && !gone && <ErrorMessage error={selected.error} title="Endpoint" />}
          {mode === 'view' && selectedId && selected.loading && !selected.data && <Loading what="the endpoint" />}
          {mode === 'view' && selected.data && (
            <EndpointDetails
              endpoint={selected.data}
              onEdit={() => {
                setNotice(undefined);
                setMode('edit');
              }}
              onDeleted={() => {
                setNotice(`Endpoint ${selected.data?.name ?? ''} deleted.`);
                void list.reload();
                navigate({ page: 'endpoints' });
              }}
            />
          )}
        </aside>
      </div>
    </div>
  );
}
