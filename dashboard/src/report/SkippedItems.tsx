import type { MailboxRow } from '../api/types';
import { useSession } from '../auth/session-context';
import { EmptyState } from '../components/EmptyState';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { Modal } from '../components/Modal';
import { formatBytes, formatDateTime } from '../format';
import { usePolling } from '../hooks/use-polling';

interface Props {
  batchId: string;
  mailbox: MailboxRow;
  onClose(): void;
}

/** The items one mailbox left behind (too large, refused by the destination), with why. */
export function SkippedItems({ batchId, mailbox, onClose }: Props) {
  const { api } = useSession();
  const items = usePolling(() => api.skippedItems(batchId, mailbox.id), [api, batchId, mailbox.id], { intervalMs: 0 });
  return (
    <Modal labelledBy="skipped-title" onClose={onClose}>
      <div className="details-head">
        <h2 id="skipped-title">Skipped items of {mailbox.emailAddress}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorMessage error={items.error} onRetry={() => void items.reload()} />
      {items.loading && <Loading what="skipped items" />}
      {items.data && items.data.length === 0 && <EmptyState title="No items were skipped for this mailbox." />}
      {items.data && items.data.length > 0 && (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Folder or collection</th>
                <th scope="col">Subject or name</th>
                <th scope="col">Date</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {items.data.map((item) => (
                <tr key={item.id}>
                  <td>
                    {item.folder}
                    {item.itemKind !== 'mail' && <span className="muted small"> ({item.itemKind})</span>}
                  </td>
                  <td>{item.subject || <span className="muted">(no subject)</span>}</td>
                  <td>{formatDateTime(item.internalDate)}</td>
                  <td className="num">{formatBytes(item.sizeBytes)}</td>
                  <td>{item.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Modal>
  );
}
