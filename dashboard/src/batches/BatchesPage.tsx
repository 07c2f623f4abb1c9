import { useCallback, useState } from 'react';
import { ApiError } from '../api/api-error';
import { useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { NoticeArea, type Notice } from '../components/NoticeArea';
import { Pager } from '../components/Pager';
import type { SortOrder } from '../components/SortHeader';
import { formatTime } from '../format';
import { usePolling } from '../hooks/use-polling';
import { navigate } from '../hooks/use-route';
import { BatchDetails } from './BatchDetails';
import { BatchTable } from './BatchTable';
import { CommandBar } from './CommandBar';
import { OverallStatistics } from './OverallStatistics';
import { StatusFilter } from '../components/StatusFilter';
import { BATCH_STATUSES, STATUS_LABELS } from '../../../domain/batch-status';

const BATCH_STATUS_OPTIONS = BATCH_STATUSES.map((status) => ({ value: status, label: STATUS_LABELS[status] }));

const PAGE_SIZE = 25;

interface Props {
  selectedId: string | undefined;
}

/** The migration dashboard: overall statistics, the batch list, the command bar and the selected batch's details. */
export function BatchesPage({ selectedId }: Props) {
  const { api, canMutate } = useSession();
  const [status, setStatus] = useState('');
  const [sort, setSort] = useState('createdAt');
  const [order, setOrder] = useState<SortOrder>('desc');
  const [page, setPage] = useState(1);
  const [refreshKey, setRefreshKey] = useState(0);
  const [notice, setNotice] = useState<Notice | undefined>();

  const statistics = usePolling(() => api.statistics(), [api], { refreshKey });
  const list = usePolling(
    () => api.listBatches({ status: status || undefined, sort, order, page, pageSize: PAGE_SIZE }),
    [api, status, sort, order, page],
    { refreshKey, keepPrevious: true },
  );
  const detail = usePolling(
    () => (selectedId ? api.getBatch(selectedId) : Promise.resolve(undefined)),
    [api, selectedId],
    { refreshKey },
  );
  const progress = usePolling(
    () => (selectedId ? api.progress(selectedId) : Promise.resolve(undefined)),
    [api, selectedId],
    { refreshKey },
  );

  const refresh = useCallback(() => setRefreshKey((key) => key + 1), []);
  const selectedRow = list.data?.items.find((batch) => batch.id === selectedId);
  const selected = detail.data ?? selectedRow;
  const refreshing = list.loading || statistics.loading;
  const detailGone = detail.error instanceof ApiError && detail.error.status === 404;

  return (
    <div className="batches-page">
      <div className="page-head">
        <h1>Migration batches</h1>
        <p className="muted small" aria-live="off">
          {list.updatedAt ? `Updated ${formatTime(list.updatedAt)} · refreshes every few seconds` : ''}
        </p>
      </div>
      <OverallStatistics statistics={statistics.data} />
      <ErrorMessage error={statistics.error} title="Overall statistics" />

      <CommandBar
        batch={selected}
        refreshing={refreshing}
        onRefresh={refresh}
        onDone={(text, removed) => {
          setNotice({ text });
          if (removed) navigate({ page: 'batches' });
          refresh();
        }}
        onError={(text) => setNotice({ text, error: true })}
      />
      <NoticeArea notice={notice} onDismiss={() => setNotice(undefined)} />

      <div className="split">
        <section className="list-pane" aria-labelledby="list-title" aria-busy={list.loading}>
          <div className="list-toolbar">
            <h2 id="list-title">Migration queue</h2>
            <StatusFilter
              id="status-filter"
              options={BATCH_STATUS_OPTIONS}
              value={status}
              onChange={(value) => {
                setStatus(value);
                setPage(1);
              }}
            />
          </div>
          <ErrorMessage error={list.error} title="Batches" onRetry={refresh} />
          {list.loading && !list.data && <Loading what="batches" />}
          {list.data && list.data.items.length === 0 && (
            <EmptyState title={status ? 'No batches have this status.' : 'No migration batches yet.'}>
              {canMutate && !status && (
                <p>
                  Add a <a href="#/endpoints">migration endpoint</a> for the source and destination servers, then create
                  a <a href="#/batches/new">new migration batch</a> from a CSV file.
                </p>
              )}
            </EmptyState>
          )}
          {list.data && list.data.items.length > 0 && (
            <>
              <BatchTable
                batches={list.data.items}
                selectedId={selectedId}
                sort={sort}
                order={order}
                onSort={(column, nextOrder) => {
                  setSort(column);
                  setOrder(nextOrder);
                  setPage(1);
                }}
              />
              {list.data.total > PAGE_SIZE && (
                <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} label="Batches" onPage={setPage} />
              )}
            </>
          )}
        </section>

        <aside className="details-pane" aria-label="Selected batch">
          {!selectedId && <EmptyState title="Select a batch to see its statistics." />}
          {selectedId && detailGone && <EmptyState title="This batch no longer exists." />}
          {selectedId && !detailGone && <ErrorMessage error={detail.error} title="Batch details" onRetry={refresh} />}
          {selectedId && detail.loading && !detail.data && <Loading what="batch details" />}
          {selectedId && detail.data && <BatchDetails batch={detail.data} progress={progress.data} />}
        </aside>
      </div>
    </div>
  );
}
