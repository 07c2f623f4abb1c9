import { useState } from 'react';
import { errorText } from '../api/api-error';
import type { MailboxRow } from '../api/types';
import { useSession } from '../auth/session-context';
import { commandErrorText } from '../batches/command-error';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { NoticeArea, type Notice } from '../components/NoticeArea';
import { Pager } from '../components/Pager';
import { StatusBadge } from '../components/StatusBadge';
import { timeZoneName } from '../format';
import { useDebounced } from '../hooks/use-debounced';
import { usePolling } from '../hooks/use-polling';
import { routeHref } from '../hooks/use-route';
import { DownloadCsvButton } from './DownloadCsvButton';
import { StatusFilter } from '../components/StatusFilter';
import { MAILBOX_STATUSES } from '../../../domain/batch-status';
import {
  ACTION_LABELS,
  CONFIRMATIONS,
  isConfirmed,
  rowCommands,
  type ConfirmedCommand,
  type RowAction,
  type SendMailboxAction,
} from './mailbox-actions';
import { MailboxActions } from './MailboxActions';
import { MailboxTable } from './MailboxTable';
import { MoveMailboxDialog } from './MoveMailboxDialog';
import { SetMailboxDialog } from './SetMailboxDialog';
import { SetPasswordDialog } from './SetPasswordDialog';
import { SkippedItems } from './SkippedItems';

const MAILBOX_STATUS_OPTIONS = MAILBOX_STATUSES.map((status) => ({ value: status, label: status }));

const PAGE_SIZES = [25, 50, 100, 250];

interface Props {
  batchId: string;
}

/**
 * The seed's "View details": the migration users status report of one batch, paged on the server. Admins get each
 * row's per-mailbox commands that the status table allows now (from the batch's status and the row's).
 */
export function MailboxReportPage({ batchId }: Props) {
  const { api, canMutate } = useSession();
  const [status, setStatus] = useState('');
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [skippedOf, setSkippedOf] = useState<MailboxRow | undefined>();
  const [pending, setPending] = useState<{ row: MailboxRow; command: RowAction } | undefined>();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | undefined>();
  const query = useDebounced(search.trim(), 300);

  const batch = usePolling(() => api.getBatch(batchId), [api, batchId]);
  const rows = usePolling(
    () => api.mailboxes(batchId, { status: status || undefined, search: query || undefined, page, pageSize }),
    [api, batchId, status, query, page, pageSize],
    { keepPrevious: true },
  );

  const name = batch.data?.name ?? '';

  /** Sends a row's commands; refreshes the rows and the batch once one is accepted. */
  const sendFor =
    (row: MailboxRow): SendMailboxAction =>
    async (action, done) => {
      setBusy(true);
      setNotice(undefined);
      try {
        await api.mailboxCommand(row.id, action);
        setNotice({ text: done });
        void rows.reload();
        void batch.reload();
        return undefined;
      } catch (error) {
        return commandErrorText(error) ?? errorText(error);
      } finally {
        setBusy(false);
      }
    };

  async function confirmed(row: MailboxRow, command: ConfirmedCommand) {
    setPending(undefined);
    const problem = await sendFor(row)({ command }, `${ACTION_LABELS[command]} requested for ${row.emailAddress}.`);
    if (problem) setNotice({ text: problem, error: true });
  }

  const close = () => setPending(undefined);
  const confirm = pending && isConfirmed(pending.command) ? CONFIRMATIONS[pending.command] : undefined;
  return (
    <div className="report-page">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <a href={routeHref({ page: 'batches', batchId })}>← Back to {name || 'the batch'}</a>
      </nav>
      <div className="page-head">
        <h1>Migration users{name ? `: ${name}` : ''}</h1>
        {batch.data && <StatusBadge status={batch.data.status} label={batch.data.statusLabel} />}
      </div>
      <ErrorMessage error={batch.error} title="Batch" />
      <NoticeArea notice={notice} onDismiss={() => setNotice(undefined)} />

      <div className="list-toolbar" role="search">
        <div className="inline-field">
          <label htmlFor="mailbox-search">Search</label>
          <input
            id="mailbox-search"
            type="search"
            placeholder="Email address"
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
              setPage(1);
            }}
          />
        </div>
        <StatusFilter
          id="mailbox-status"
          options={MAILBOX_STATUS_OPTIONS}
          value={status}
          onChange={(value) => {
            setStatus(value);
            setPage(1);
          }}
        />
        <div className="inline-field">
          <label htmlFor="page-size">Rows per page</label>
          <select
            id="page-size"
            value={pageSize}
            onChange={(event) => {
              setPageSize(Number(event.target.value));
              setPage(1);
            }}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </div>
        <DownloadCsvButton batchId={batchId} batchName={name || batchId} status={status} search={search.trim()} />
      </div>

      <ErrorMessage error={rows.error} title="Migration users" onRetry={() => void rows.reload()} />
      {rows.loading && !rows.data && <Loading what="migration users" />}
      {rows.data && rows.data.items.length === 0 && (
        <EmptyState title={query || status ? 'No migration users match.' : 'This batch has no migration users.'} />
      )}
      {rows.data && rows.data.items.length > 0 && (
        <section className="list-pane" aria-label="Migration users" aria-busy={rows.loading}>
          <MailboxTable
            rows={rows.data.items}
            onShowSkipped={setSkippedOf}
            actions={
              canMutate
                ? (row) => (
                    <MailboxActions
                      row={row}
                      commands={rowCommands(batch.data?.status, row.status)}
                      busy={busy}
                      onChoose={(command) => setPending({ row, command })}
                    />
                  )
                : undefined
            }
          />
          <Pager page={page} pageSize={pageSize} total={rows.data.total} label="Migration users" onPage={setPage} />
          <p className="muted small">
            Times are in your time zone, {timeZoneName()}. The list refreshes every few seconds.
          </p>
        </section>
      )}
      {skippedOf && <SkippedItems batchId={batchId} mailbox={skippedOf} onClose={() => setSkippedOf(undefined)} />}
      <ConfirmDialog
        open={Boolean(confirm)}
        title={confirm?.title ?? ''}
        message={pending && confirm ? confirm.message(pending.row.emailAddress) : ''}
        confirmLabel={confirm?.button ?? 'OK'}
        danger={confirm?.danger}
        onCancel={close}
        onConfirm={() => pending && isConfirmed(pending.command) && void confirmed(pending.row, pending.command)}
      />
      {pending?.command === 'move' && (
        <MoveMailboxDialog batchId={batchId} mailbox={pending.row} onSend={sendFor(pending.row)} onClose={close} />
      )}
      {pending?.command === 'set' && (
        <SetMailboxDialog mailbox={pending.row} onSend={sendFor(pending.row)} onClose={close} />
      )}
      {pending?.command === 'set-password' && (
        <SetPasswordDialog
          mailbox={pending.row}
          canResume={rowCommands(batch.data?.status, pending.row.status).includes('resume')}
          onSend={sendFor(pending.row)}
          onClose={close}
        />
      )}
    </div>
  );
}
