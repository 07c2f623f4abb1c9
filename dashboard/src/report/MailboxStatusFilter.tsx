import { MAILBOX_STATUSES } from '../../../domain/batch-status';

interface Props {
  value: string;
  onChange(value: string): void;
}

export function MailboxStatusFilter({ value, onChange }: Props) {
  return (
    <div className="inline-field">
      <label htmlFor="mailbox-status">Status</label>
      <select id="mailbox-status" value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">All statuses</option>
        {MAILBOX_STATUSES.map((status) => (
          <option key={status} value={status}>
            {status}
          </option>
        ))}
      </select>
    </div>
  );
}
