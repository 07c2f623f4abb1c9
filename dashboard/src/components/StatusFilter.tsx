interface Props {
  id: string;
  value: string;
  /** Status ids in display order, with the words shown for each. */
  options: readonly { value: string; label: string }[];
  onChange(value: string): void;
}

/** A "Status" select with an "All statuses" choice, for the batch list and the users report. */
export function StatusFilter({ id, value, options, onChange }: Props) {
  return (
    <div className="inline-field">
      <label htmlFor={id}>Status</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">All statuses</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
