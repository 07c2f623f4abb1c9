import type { Endpoint } from '../api/types';
import { describedBy, Field } from '../components/Field';

interface Props {
  id: string;
  label: string;
  value: string;
  endpoints: Endpoint[];
  error?: string;
  disabled?: boolean;
  onChange(id: string): void;
}

export function EndpointSelect({ id, label, value, endpoints, error, disabled, onChange }: Props) {
  return (
    <Field id={id} label={label} error={error}>
      <select
        id={id}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, undefined, error)}
      >
        <option value="">Choose an endpoint…</option>
        {endpoints.map((endpoint) => (
          <option key={endpoint.id} value={endpoint.id}>
            {endpoint.name} ({endpoint.host}:{endpoint.port})
          </option>
        ))}
      </select>
    </Field>
  );
}
