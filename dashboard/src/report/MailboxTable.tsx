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
              {actions && <td>{actions(row)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
