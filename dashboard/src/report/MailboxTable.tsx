import type { ReactNode } from 'react';
import type { MailboxRow } from '../api/types';
import { StatusBadge } from '../components/StatusBadge';
import { formatBytes, formatCount, formatDateTime } from '../format';

interface Props {
  rows: MailboxRow[];
  onShowSkipped(row: MailboxRow): void;
  /** A row's command buttons; without it (a viewer) the table has no Actions column. */
  actions?: (row: MailboxRow) => ReactNode;
}

/**
 * One line per migration user: status, items synced (and by kind, once calendars or contacts are copied) and
 * skipped, size, last sync, error, and its actions.
 */
export function MailboxTable({ rows, onShowSkipped, actions }: Props) {
  return (
    <div className="table-scroll">
      <table className="data-table mailbox-table">
        <caption className="visually-hidden">Migration users</caption>
        <thead>
          <tr>
            <th scope="col">Email address</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Items synced
            </th>
            <th scope="col" className="num">
              Items skipped
            </th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">Last synced</th>
            <th scope="col">Error</th>
            <th scope="col">Consistency</th>
            {actions && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-mailbox={row.emailAddress}>
              <th scope="row">
                {row.emailAddress}
                {row.status === 'Syncing' && row.currentFolder ? (
                  <div className="muted small">{row.currentFolder}</div>
                ) : null}
              </th>
              <td>
                <StatusBadge status={row.status} />
              </td>
              <td className="num">
                {formatCount(row.itemsSynced)}
                {row.itemsTotal ? <span className="muted"> / {formatCount(row.itemsTotal)}</span> : null}
                {row.calendarItemsSynced || row.contactsSynced ? (
                  <div className="muted small" data-kinds>
                    {formatCount(row.mailItemsSynced)} mail · {formatCount(row.calendarItemsSynced)} calendar ·{' '}
                    {formatCount(row.contactsSynced)} contacts
                  </div>
                ) : null}
              </td>
              <td className="num">
                {row.itemsSkipped > 0 ? (
                  <button type="button" className="link-button" onClick={() => onShowSkipped(row)}>
                    {formatCount(row.itemsSkipped)}
                    <span className="visually-hidden"> skipped items of {row.emailAddress}: show</span>
                  </button>
                ) : (
                  formatCount(row.itemsSkipped)
                )}
              </td>
              <td className="num">{formatBytes(row.bytesSynced)}</td>
              <td>{formatDateTime(row.lastSyncedAt)}</td>
              <td className="error-cell">{row.lastError ?? ''}</td>
              <td>
                <Consistency row={row} />
              </td>
              {actions && <td>{actions(row)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The grade of a row's last verification, with how many differences it found (the first few named in a tooltip)
 * and whether they are approved; "Not verified" before the first.
 */
function Consistency({ row }: { row: MailboxRow }) {
  const c = row.consistency;
  if (!c) return <span className="muted">Not verified</span>;
  const named = c.differences
    .slice(0, 10)
    .map((d) => `${d.type} in ${d.folder}: ${d.subject ?? d.messageId ?? ''}${d.detail ? ` (${d.detail})` : ''}`)
    .join('\n');
  return (
    <span title={named || undefined} data-grade={c.grade}>
      <span className={`grade grade-${c.grade.toLowerCase()}`}>{c.grade}</span>
      {c.differenceCount > 0 && <span className="muted small"> · {formatCount(c.differenceCount)} differences</span>}
      {c.approvedAt && <span className="muted small"> · approved</span>}
    </span>
  );
}
