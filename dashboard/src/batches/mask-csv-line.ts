/** Splits one CSV line into fields (double-quote aware; enough for showing a line, not for parsing a file). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

const SECRET_COLUMN = /password|secret|token/i;

/** The line as shown next to its error, with password-like columns (per the header) masked. */
export function maskCsvLine(line: string, header: string | undefined): string {
  if (!header) return line;
  const secretColumns = splitCsvLine(header.replace(/^\uFEFF/, ''))
    .map((name, index) => (SECRET_COLUMN.test(name) ? index : -1))
    .filter((index) => index >= 0);
  if (secretColumns.length === 0 || line === header) return line;
  const fields = splitCsvLine(line);
  for (const index of secretColumns) if (fields[index]) fields[index] = '••••••';
  return fields.join(',');
}
