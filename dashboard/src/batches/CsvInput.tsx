import { useId, useState, type ChangeEvent } from 'react';
import type { CsvLineError } from '../api/types';
import { CsvErrorTable } from './CsvErrorTable';

interface Props {
  value: string;
  fileName: string | undefined;
  errors: CsvLineError[];
  onChange(text: string, fileName?: string): void;
}

const MAX_BYTES = 10 * 1024 * 1024;

/**
 * The batch's CSV (IMAP columns EmailAddress, UserName, Password): upload a file or paste it, then fix the lines
 * the API reported, right here, and submit again.
 */
export function CsvInput({ value, fileName, errors, onChange }: Props) {
  const id = useId();
  const [readError, setReadError] = useState<string | undefined>();

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setReadError(`${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; a batch CSV may be at most 10 MB.`);
      return;
    }
    setReadError(undefined);
    onChange(await file.text(), file.name);
    // Let the same (corrected) file be chosen again.
    event.target.value = '';
  }

  const lines = value ? value.split(/\r\n|\n|\r/).filter((line, i, all) => line !== '' || i < all.length - 1) : [];
  const rows = Math.max(0, lines.length - 1);

  return (
    <fieldset className="csv-input">
      <legend>Migration users (CSV)</legend>
      <div className="field">
        <label htmlFor={`${id}-file`}>CSV file</label>
        <input
          id={`${id}-file`}
          type="file"
          accept=".csv,text/csv,text/plain"
          onChange={onFile}
          aria-describedby={`${id}-hint`}
        />
        <small id={`${id}-hint`} className="hint">
          Columns EmailAddress, UserName, Password (header names in any case), one mailbox per line; at most 50,000 rows
          and 10 MB.
        </small>
      </div>
      {readError && (
        <p className="field-error" role="alert">
          {readError}
        </p>
      )}
      <p className="hint" aria-live="polite">
        {value
          ? `${fileName ?? 'Pasted CSV'}: ${rows.toLocaleString()} mailbox row${rows === 1 ? '' : 's'} after the header.`
          : 'No CSV chosen yet.'}
      </p>
      <details className="csv-paste">
        <summary>Or paste the CSV</summary>
        <div className="field">
          <label htmlFor={`${id}-text`}>CSV content</label>
          <textarea
            id={`${id}-text`}
            className="mono"
            rows={8}
            spellCheck={false}
            autoComplete="off"
            value={value}
            onChange={(event) => onChange(event.target.value, undefined)}
            aria-invalid={errors.length > 0 || undefined}
            aria-describedby={errors.length ? `${id}-errors` : undefined}
            placeholder={'EmailAddress,UserName,Password\nanna@example.com,anna,secret'}
          />
        </div>
      </details>
      {errors.length > 0 && <CsvErrorTable id={`${id}-errors`} errors={errors} lines={lines} />}
    </fieldset>
  );
}
