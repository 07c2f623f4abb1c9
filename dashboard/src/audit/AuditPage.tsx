import { useState } from 'react';
import { useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { Pager } from '../components/Pager';
import { formatDateTime, timeZoneName } from '../format';
import { useDebounced } from '../hooks/use-debounced';
import { usePolling } from '../hooks/use-polling';
import { routeHref } from '../hooks/use-route';
import { BATCH_COMMANDS } from '../../../domain/batch-status';

const PAGE_SIZE = 50;
/** The commands the audit log records: the batch commands, and creation, which the API records itself. */
const COMMANDS = ['create', ...BATCH_COMMANDS];

interface Props {
  /** A batch id or name to filter by (from #/audit/<batch>). */
  batch?: string;
}

/** A `datetime-local` value (the browser's time zone) as the ISO 8601 instant the API expects. */
function instant(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** The audit trail: who gave which command to which batch, and whether it was accepted; filtered and paged. */
export function AuditPage({ batch: initialBatch }: Props) {
  const { api } = useSession();
  const [batch, setBatch] = useState(initialBatch ?? '');
  const [actor, setActor] = useState('');
  const [command, setCommand] = useState('');
  const [outcome, setOutcome] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [page, setPage] = useState(1);
  const typed = useDebounced({ batch: batch.trim(), actor: actor.trim() });

  const query = {
    batch: typed.batch || undefined,
    actor: typed.actor || undefined,
    command: command || undefined,
    outcome: (outcome || undefined) as 'accepted' | 'rejected' | undefined,
    since: instant(since),
    until: instant(until),
    page,
    pageSize: PAGE_SIZE,
  };
  const entries = usePolling(() => api.audit(query), [api, JSON.stringify(query)], { keepPrevious: true });
  const filtered = Object.values({ ...query, page: undefined, pageSize: undefined }).some(Boolean);
  const change = (set: (value: string) => void) => (value: string) => {
    set(value);
    setPage(1);
  };

  return (
    <div className="audit-page">
      <div className="page-head">
        <h1>Audit trail</h1>
        <p className="muted small">Every command given to a batch, accepted or rejected, and who gave it.</p>
      </div>
      <form className="list-toolbar audit-filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <TextFilter id="audit-batch" label="Batch" value={batch} onChange={change(setBatch)} hint="Name or id" />
        <TextFilter id="audit-actor" label="Actor" value={actor} onChange={change(setActor)} hint="Token owner" />
        <div className="inline-field">
          <label htmlFor="audit-command">Command</label>
          <select id="audit-command" value={command} onChange={(event) => change(setCommand)(event.target.value)}>
            <option value="">All</option>
            {COMMANDS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="inline-field">
          <label htmlFor="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={outcome} onChange={(event) => change(setOutcome)(event.target.value)}>
            <option value="">All</option>
            <option value="accepted">Accepted</option>
            <option value="rejected">Rejected</option>
          </select>
        </div>
        <div className="inline-field">
          <label htmlFor="audit-since">From</label>
          <input
            id="audit-since"
            type="datetime-local"
            value={since}
            onChange={(event) => change(setSince)(event.target.value)}
          />
        </div>
        <div className="inline-field">
          <label htmlFor="audit-until">Until</label>
          <input
            id="audit-until"
            type="datetime-local"
            value={until}
            onChange={(event) => change(setUntil)(event.target.value)}
          />
        </div>
      </form>

      <ErrorMessage error={entries.error} title="Audit trail" onRetry={() => void entries.reload()} />
      {entries.loading && !entries.data && <Loading what="the audit trail" />}
      {entries.data && entries.data.items.length === 0 && (
        <EmptyState title={filtered ? 'No audit entries match.' : 'No commands have been given yet.'} />
      )}
      {entries.data && entries.data.items.length > 0 && (
        <section className="list-pane" aria-label="Audit entries" aria-busy={entries.loading}>
          <div className="table-scroll">
            <table className="data-table audit-table">
              <caption className="visually-hidden">Audit entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Batch</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Command</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((entry) => (
                  <tr key={entry.id} data-audit-id={entry.id}>
                    <td>{formatDateTime(entry.at)}</td>
                    <td>
                      {/* Entries keep their batch after it is removed; its page then says it is gone. */}
                      {entry.batchId ? (
                        <a href={routeHref({ page: 'batches', batchId: entry.batchId })}>
                          {entry.batchName ?? entry.batchId}
                        </a>
                      ) : (
                        (entry.batchName ?? '—')
                      )}
                    </td>
                    <td>{entry.actor}</td>
                    <td>
                      <code>{entry.command}</code>
                    </td>
                    <td className={entry.outcome === 'rejected' ? 'outcome-rejected' : undefined}>
                      {entry.outcome === 'rejected' ? 'Rejected' : 'Accepted'}
                    </td>
                    <td className="audit-detail">{detailText(entry.detail)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} pageSize={PAGE_SIZE} total={entries.data.total} label="Audit entries" onPage={setPage} />
          <p className="muted small">Times are in your time zone, {timeZoneName()}.</p>
        </section>
      )}
    </div>
  );
}

function TextFilter(props: { id: string; label: string; hint: string; value: string; onChange(value: string): void }) {
  return (
    <div className="inline-field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="search"
        placeholder={props.hint}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  );
}

/** The entry's details (a refusal's reason, an edit's changes) as `key: value` pairs on one line. */
function detailText(detail: Record<string, unknown>): string {
  const parts = Object.entries(detail).map(
    ([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return parts.length > 0 ? parts.join(' · ') : '—';
}
