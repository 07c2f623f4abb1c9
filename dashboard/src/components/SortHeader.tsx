export type SortOrder = 'asc' | 'desc';

interface Props {
  column: string;
  label: string;
  sort: string;
  order: SortOrder;
  onSort(column: string, order: SortOrder): void;
  numeric?: boolean;
}

/** A column header that sorts the table; `aria-sort` tells assistive technology the current order. */
export function SortHeader({ column, label, sort, order, onSort, numeric }: Props) {
  const active = sort === column;
  const next: SortOrder = active && order === 'asc' ? 'desc' : active ? 'asc' : numeric ? 'desc' : 'asc';
  return (
    <th
      scope="col"
      className={numeric ? 'num' : undefined}
      aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button type="button" className="sort-button" onClick={() => onSort(column, next)}>
        {label}
        <span aria-hidden="true" className="sort-arrow">
          {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}
