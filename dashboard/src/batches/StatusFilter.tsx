import { BATCH_STATUSES, STATUS_LABELS } from '../../../domain/batch-status';

interface Props {
  value: string;
  onChange(value: string): void;
}

export function StatusFilter({ value, onChange }: Props) {
  return (
    <div className="inline-field">
      <label htmlFor="status-filter">Status</label>
      <select id="status-filter" value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">All statuses</option>
        {BATCH_STATUSES.map((status) => (
          <option key={status} value={status}>
            {STATUS_LABELS[status]}
          </option>
        ))}
      </select>
    </div>
  );
}
