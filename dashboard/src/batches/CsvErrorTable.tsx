import type { CsvLineError } from '../api/types';
import { maskCsvLine } from './mask-csv-line';

interface Props {
  id: string;
  errors: CsvLineError[];
  /** The CSV's lines; `lines[n - 1]` is line n as the API counts (the header is line 1). */
  lines: string[];
}

const SHOWN = 200;

/** The API's CSV problems, each next to the line it is about (passwords masked). */
export function CsvErrorTable({ id, errors, lines }: Props) {
  const sorted = [...errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return (
    <div id={id} className="csv-errors" role="alert">
      <p>
        <strong>
          The CSV has {errors.length} problem{errors.length === 1 ? '' : 's'}; nothing was created.
        </strong>{' '}
        Fix the lines below and submit again.
      </p>
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Content</th>
            <th scope="col">Problem</th>
          </tr>
        </thead>
        <tbody>
          {sorted.slice(0, SHOWN).map((error, index) => (
            <tr key={`${error.line}-${index}`} data-csv-line={error.line}>
              <th scope="row" className="num">
                {error.line ?? '—'}
              </th>
              <td>
                <code className="csv-line">{error.line ? maskCsvLine(lines[error.line - 1] ?? '', lines[0]) : ''}</code>
              </td>
              <td>
                {error.column ? <strong>{error.column}: </strong> : null}
                {error.message}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length > SHOWN && <p className="muted">…and {sorted.length - SHOWN} more.</p>}
    </div>
  );
}
