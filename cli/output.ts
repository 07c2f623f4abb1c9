import picocolors from 'picocolors';

/**
 * How results are printed. `table` (the default) is aligned text, coloured only when stdout is a terminal and
 * NO_COLOR is unset; `json` is the API's answer as it came; `csv` is the table's rows (RFC 4180, no footer).
 */
export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorsFor(isTTY: boolean | undefined, env: Record<string, string | undefined>): Colors {
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  return picocolors.createColors(Boolean(isTTY) && !env.NO_COLOR && env.TERM !== 'dumb');
}

/** A column: the row's key and, when it differs, the heading. */
export type Column = string | { key: string; heading: string };

export interface Tabular {
  rows: Record<string, unknown>[];
  columns: Column[];
  /** A line after the table (e.g. "3 batch(es), page 1"); tables only, not CSV. */
  footer?: string;
}

/** One command's result: the raw answer for --json, and how a person reads it. */
export interface Result {
  json: unknown;
  /** Rows for the table and CSV views. */
  table?: Tabular;
  /** The table view when it is a sentence rather than rows (CSV then falls back to `csvRow`/`json`). */
  text?: string;
  /** For CSV of a sentence-shaped result: one row of these fields of `json`. */
  csvRow?: Record<string, unknown>;
}

const key = (c: Column) => (typeof c === 'string' ? c : c.key);
const heading = (c: Column) => (typeof c === 'string' ? c : c.heading);

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const STATUS_COLOURS: Record<string, keyof Colors> = {
  Synced: 'green',
  Completed: 'green',
  'Synced with errors': 'yellow',
  SyncedWithErrors: 'yellow',
  Failed: 'red',
  Stopped: 'yellow',
  Syncing: 'cyan',
  Starting: 'cyan',
  Completing: 'cyan',
  Queued: 'dim',
};

/** A status word in its colour (green settled, yellow attention, red failed, cyan running). */
export function colourStatus(c: Colors, status: string): string {
  const colour = STATUS_COLOURS[status];
  return colour ? (c[colour] as (s: string) => string)(status) : status;
}

/** Aligned columns, two spaces apart; bold headings and coloured statuses when `c` has colour. */
export function table(t: Tabular, c: Colors): string {
  const cells = t.rows.map((r) => t.columns.map((col) => cell(r[key(col)])));
  const heads = t.columns.map(heading);
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[], paint: (text: string, i: number) => string) =>
    row
      .map((text, i) => {
        const padded = i === row.length - 1 ? text : text.padEnd(widths[i]!);
        // Paint after padding so escape codes do not count as width; keep the padding unpainted.
        return paint(text, i) + padded.slice(text.length);
      })
      .join('  ')
      .trimEnd();
  const statusCol = t.columns.findIndex((col) => key(col) === 'status' || key(col) === 'statusLabel');
  return (
    [
      line(heads, (text) => c.bold(text)),
      ...cells.map((row) => line(row, (text, i) => (i === statusCol ? colourStatus(c, text) : text))),
    ].join('\n') +
    '\n' +
    (t.footer ? c.dim(t.footer) + '\n' : '')
  );
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csv(rows: Record<string, unknown>[], columns: Column[]): string {
  return [columns.map(heading), ...rows.map((r) => columns.map((col) => cell(r[key(col)])))]
    .map((row) => row.map(csvCell).join(','))
    .join('\r\n')
    .concat('\r\n');
}

/** The scalar top-level fields of an object, for CSV of a result that is not a list. */
function scalarFields(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object') return { value };
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(([, v]) => v === null || typeof v !== 'object'),
  );
}

export function render(result: Result, format: OutputFormat, c: Colors): string {
  if (format === 'json') return JSON.stringify(result.json, null, 2) + '\n';
  if (format === 'csv') {
    if (result.table) return csv(result.table.rows, result.table.columns);
    const row = result.csvRow ?? scalarFields(result.json);
    return csv([row], Object.keys(row));
  }
  if (result.text !== undefined) return result.text;
  if (result.table) return table(result.table, c);
  return JSON.stringify(result.json, null, 2) + '\n';
}

/** "Name   value" lines for one record (a batch's detail), headings dim when coloured. */
export function record(fields: [string, unknown][], c: Colors): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return (
    fields
      .map(([k, v]) => {
        const text = cell(v) || '-';
        return `${c.dim(k.padEnd(width))}  ${k === 'Status' ? colourStatus(c, text) : text}`;
      })
      .join('\n') + '\n'
  );
}

/** 1536 → "1.5 KB" (powers of 1024, as mail clients show sizes). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 10 ? 0 : 1)} ${units[u]}`;
}

/** 3725 s → "1h02m"; 65 → "1m05s"; 9 → "9s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
