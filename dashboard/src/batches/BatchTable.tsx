import type { BatchSummary } from '../api/types';
import { ProgressBar } from '../components/ProgressBar';
import { SortHeader, type SortOrder } from '../components/SortHeader';
import { StatusBadge } from '../components/StatusBadge';
import { formatCount } from '../format';
import { navigate, routeHref } from '../hooks/use-route';

interface Props {
  batches: BatchSummary[];
  selectedId: string | undefined;
  sort: string;
  order: SortOrder;
  onSort(column: string, order: SortOrder): void;
}

/** The seed's migration queue: Name, Status, Percentage synced, Total, Synced, Finalized, Failed. */
export function BatchTable({ batches, selectedId, sort, order, onSort }: Props) {
  const header = { sort, order, onSort };
  return (
    <div className="table-scroll">
      <table className="data-table batch-table">
        <caption className="visually-hidden">Migration batches; select a name to see its details</caption>
        <thead>
          <tr>
            <SortHeader column="name" label="Name" {...header} />
            <SortHeader column="status" label="Status" {...header} />
            <SortHeader column="percentageSynced" label="Percentage synced" numeric {...header} />
            <SortHeader column="total" label="Total" numeric {...header} />
            <SortHeader column="synced" label="Synced" numeric {...header} />
            <SortHeader column="finalized" label="Finalized" numeric {...header} />
            <SortHeader column="failed" label="Failed" numeric {...header} />
          </tr>
        </thead>
        <tbody>
          {batches.map((batch) => {
            const selected = batch.id === selectedId;
            return (
              <tr
                key={batch.id}
                className={selected ? 'selected' : undefined}
                data-batch-name={batch.name}
                onClick={() => navigate({ page: 'batches', batchId: batch.id })}
              >
                <th scope="row">
                  <a
                    href={routeHref({ page: 'batches', batchId: batch.id })}
                    aria-current={selected ? 'true' : undefined}
                  >
                    {batch.name}
                  </a>
                </th>
                <td>
                  <StatusBadge status={batch.status} label={batch.statusLabel} />
                </td>
                <td>
                  <ProgressBar value={batch.percentageSynced} label={`${batch.name} percentage synced`} />
                </td>
                <td className="num">{formatCount(batch.total)}</td>
                <td className="num">{formatCount(batch.synced)}</td>
                <td className="num">{formatCount(batch.finalized)}</td>
                <td className={`num${batch.failed ? ' bad' : ''}`}>{formatCount(batch.failed)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
