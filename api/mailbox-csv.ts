import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { type mailboxJson } from './contract/mailboxes';
import { CONTROL_CHARS, showInvisible, unsafeTextProblem } from './unsafe-text';

/**
 * The mailboxes (migration users) of a batch, from a CSV file or a JSON array. Validation is all or nothing:
 * every problem is collected with its line number (CSV) or item number (JSON), and the caller creates nothing
 * unless the list is empty.
 */

export const MAX_CSV_BYTES = 10 * 1024 * 1024;
export const MAX_MAILBOXES = 50_000;
/** At most this many problems are listed; `truncated` says there were more. */
export const MAX_REPORTED_PROBLEMS = 1000;

/** CSV columns (header names are case-insensitive); the last two are optional per-row overrides. */
export const CSV_COLUMNS = {
  emailaddress: 'EmailAddress',
  username: 'UserName',
  password: 'Password',
  destinationusername: 'DestinationUserName',
  destinationpassword: 'DestinationPassword',
} as const;
type ColumnKey = keyof typeof CSV_COLUMNS;
const REQUIRED: ColumnKey[] = ['emailaddress', 'username', 'password'];

/**
 * How a list is checked. `passwordOptional`: the source endpoint mints each mailbox's tokens (a Google service
 * account, Microsoft 365 app credentials), so Password may be left out or empty, as in Exchange's Google batches.
 */
export interface MailboxListOptions {
  passwordOptional?: boolean;
}

export interface MailboxInput {
  emailAddress: string;
  userName: string;
  password: string;
  destinationUserName?: string;
  destinationPassword?: string;
}

export interface RowProblem {
  /** CSV line (1 = header) or, for JSON, the 1-based item number. */
  line?: number;
  item?: number;
  column?: string;
  code: string;
  message: string;
}

export interface PositionedMailbox extends MailboxInput {
  line?: number;
  item?: number;
}

export type MailboxListResult =
  { ok: true; mailboxes: PositionedMailbox[] } | { ok: false; problems: RowProblem[]; truncated: boolean };

const PASSWORD_FORBIDDEN = /[\u0000\r\n]/;
const emailCheck = z.email();

function problem(at: { line?: number; item?: number }, code: string, message: string, column?: string): RowProblem {
  return { ...at, ...(column ? { column } : {}), code, message };
}

/** Checks one mailbox's values; returns the cleaned mailbox or the problems. */
function checkMailbox(
  raw: Partial<Record<ColumnKey, string>>,
  at: { line?: number; item?: number },
  problems: RowProblem[],
  options: MailboxListOptions,
): PositionedMailbox | undefined {
  const before = problems.length;
  const email = (raw.emailaddress ?? '').trim();
  const user = (raw.username ?? '').trim();
  const pass = raw.password ?? '';
  if (!email) problems.push(problem(at, 'MISSING_VALUE', 'EmailAddress is empty', 'EmailAddress'));
  else if (email.length > 254)
    problems.push(problem(at, 'VALUE_TOO_LONG', 'EmailAddress is longer than 254 characters', 'EmailAddress'));
  else if (CONTROL_CHARS.test(email) || !emailCheck.safeParse(email).success) {
    const unsafe = unsafeTextProblem(email);
    problems.push(
      problem(
        at,
        'INVALID_EMAIL',
        unsafe ? `EmailAddress contains ${unsafe}` : 'EmailAddress is not a valid email address',
        'EmailAddress',
      ),
    );
  }
  if (!user) problems.push(problem(at, 'MISSING_VALUE', 'UserName is empty', 'UserName'));
  else if (user.length > 256)
    problems.push(problem(at, 'VALUE_TOO_LONG', 'UserName is longer than 256 characters', 'UserName'));
  else {
    const unsafe = unsafeTextProblem(user);
    if (unsafe) problems.push(problem(at, 'CONTROL_CHARACTERS', `UserName contains ${unsafe}`, 'UserName'));
  }
  if (!pass) {
    if (!options.passwordOptional) problems.push(problem(at, 'MISSING_VALUE', 'Password is empty', 'Password'));
  } else if (pass.length > 1024)
    problems.push(problem(at, 'VALUE_TOO_LONG', 'Password is longer than 1024 characters', 'Password'));
  else if (PASSWORD_FORBIDDEN.test(pass)) {
    problems.push(problem(at, 'CONTROL_CHARACTERS', 'Password contains a NUL or a line break', 'Password'));
  }
  const destUser = raw.destinationusername?.trim() || undefined;
  const destPass = raw.destinationpassword || undefined;
  if (destUser !== undefined) {
    if (destUser.length > 256)
      problems.push(
        problem(at, 'VALUE_TOO_LONG', 'DestinationUserName is longer than 256 characters', 'DestinationUserName'),
      );
    else {
      const unsafe = unsafeTextProblem(destUser);
      if (unsafe) {
        problems.push(
          problem(at, 'CONTROL_CHARACTERS', `DestinationUserName contains ${unsafe}`, 'DestinationUserName'),
        );
      }
    }
  }
  if (destPass !== undefined) {
    if (destPass.length > 1024)
      problems.push(
        problem(at, 'VALUE_TOO_LONG', 'DestinationPassword is longer than 1024 characters', 'DestinationPassword'),
      );
    else if (PASSWORD_FORBIDDEN.test(destPass)) {
      problems.push(
        problem(at, 'CONTROL_CHARACTERS', 'DestinationPassword contains a NUL or a line break', 'DestinationPassword'),
      );
    }
  }
  if (destPass !== undefined && destUser === undefined) {
    problems.push(
      problem(
        at,
        'MISSING_VALUE',
        'DestinationPassword is set but DestinationUserName is empty',
        'DestinationUserName',
      ),
    );
  }
  if (problems.length > before) return undefined;
  return {
    ...at,
    emailAddress: email,
    userName: user,
    password: pass,
    ...(destUser !== undefined ? { destinationUserName: destUser } : {}),
    ...(destPass !== undefined ? { destinationPassword: destPass } : {}),
  };
}

function finish(mailboxes: PositionedMailbox[], problems: RowProblem[]): MailboxListResult {
  // Duplicates within the list (addresses compare case-insensitively).
  const seen = new Map<string, PositionedMailbox>();
  for (const m of mailboxes) {
    const key = m.emailAddress.toLowerCase();
    const first = seen.get(key);
    if (first) {
      const where = first.line !== undefined ? `line ${first.line}` : `item ${first.item}`;
      problems.push(
        problem(
          { line: m.line, item: m.item },
          'DUPLICATE_ROW',
          `${m.emailAddress} is already listed on ${where}`,
          'EmailAddress',
        ),
      );
    } else {
      seen.set(key, m);
    }
  }
  if (problems.length > 0) return failed(problems);
  return { ok: true, mailboxes };
}

export function failed(problems: RowProblem[]): MailboxListResult & { ok: false } {
  const sorted = [...problems].sort((a, b) => (a.line ?? a.item ?? 0) - (b.line ?? b.item ?? 0));
  return {
    ok: false,
    problems: sorted.slice(0, MAX_REPORTED_PROBLEMS),
    truncated: sorted.length > MAX_REPORTED_PROBLEMS,
  };
}

/** Parses and validates CSV text (a UTF-8 BOM is ignored). */
export function parseMailboxCsv(text: string, options: MailboxListOptions = {}): MailboxListResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_CSV_BYTES) {
    return failed([problem({ line: 1 }, 'CSV_TOO_LARGE', `the CSV is larger than ${MAX_CSV_BYTES} bytes`)]);
  }
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '')
    return failed([problem({ line: 1 }, 'CSV_EMPTY', 'the CSV is empty; it needs a header line and at least one row')]);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(body, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    return failed([
      problem(
        { line: typeof e.lines === 'number' ? e.lines : 1 },
        'CSV_MALFORMED',
        `the CSV cannot be parsed: ${(e.message ?? 'syntax error').slice(0, 200)}`,
      ),
    ]);
  }
  // csv-parse reports the line a record ends on; a quoted field with line breaks starts it earlier.
  const startLine = (r: { record: string[]; info: { lines: number } }) =>
    r.info.lines - r.record.reduce((n, field) => n + (field.match(/\r\n|\r|\n/g)?.length ?? 0), 0);

  const [header, ...rows] = records;
  if (!header) return failed([problem({ line: 1 }, 'CSV_EMPTY', 'the CSV is empty')]);
  const problems: RowProblem[] = [];
  const headerLine = startLine(header);
  const columns: (ColumnKey | undefined)[] = [];
  const seenColumns = new Set<ColumnKey>();
  for (const rawName of header.record) {
    const name = rawName.trim();
    const key = name.toLowerCase() as ColumnKey;
    if (!(key in CSV_COLUMNS)) {
      problems.push(
        problem(
          { line: headerLine },
          'CSV_UNKNOWN_COLUMN',
          `unknown column "${showInvisible(name.slice(0, 100))}"; expected ${Object.values(CSV_COLUMNS).join(', ')}`,
          showInvisible(name.slice(0, 100)),
        ),
      );
      columns.push(undefined);
    } else if (seenColumns.has(key)) {
      problems.push(
        problem(
          { line: headerLine },
          'CSV_DUPLICATE_COLUMN',
          `column ${CSV_COLUMNS[key]} appears twice`,
          CSV_COLUMNS[key],
        ),
      );
      columns.push(undefined);
    } else {
      seenColumns.add(key);
      columns.push(key);
    }
  }
  for (const key of REQUIRED) {
    if (key === 'password' && options.passwordOptional) continue;
    if (!seenColumns.has(key)) {
      problems.push(
        problem(
          { line: headerLine },
          'CSV_MISSING_COLUMN',
          `the header lacks the ${CSV_COLUMNS[key]} column`,
          CSV_COLUMNS[key],
        ),
      );
    }
  }
  if (problems.length > 0) return failed(problems);
  if (rows.length === 0)
    return failed([problem({ line: headerLine }, 'CSV_EMPTY', 'the CSV has a header but no mailbox rows')]);
  if (rows.length > MAX_MAILBOXES) {
    return failed([
      problem(
        { line: startLine(rows[MAX_MAILBOXES]!) },
        'TOO_MANY_ROWS',
        `a batch holds at most ${MAX_MAILBOXES} mailboxes; the CSV has ${rows.length} rows`,
      ),
    ]);
  }
  const mailboxes: PositionedMailbox[] = [];
  for (const row of rows) {
    const line = startLine(row);
    if (row.record.length !== header.record.length) {
      problems.push(
        problem(
          { line },
          'CSV_FIELD_COUNT',
          `the row has ${row.record.length} fields; the header has ${header.record.length}`,
        ),
      );
      continue;
    }
    const raw: Partial<Record<ColumnKey, string>> = {};
    row.record.forEach((value, i) => {
      const key = columns[i];
      if (key) raw[key] = value;
    });
    const mailbox = checkMailbox(raw, { line }, problems, options);
    if (mailbox) mailboxes.push(mailbox);
  }
  return finish(mailboxes, problems);
}

export function validateMailboxList(
  items: z.infer<typeof mailboxJson>[],
  options: MailboxListOptions = {},
): MailboxListResult {
  if (items.length === 0) return failed([problem({ item: 0 }, 'EMPTY_LIST', 'the mailbox list is empty')]);
  if (items.length > MAX_MAILBOXES) {
    return failed([
      problem({ item: MAX_MAILBOXES + 1 }, 'TOO_MANY_ROWS', `a batch holds at most ${MAX_MAILBOXES} mailboxes`),
    ]);
  }
  const problems: RowProblem[] = [];
  const mailboxes: PositionedMailbox[] = [];
  items.forEach((item, i) => {
    const mailbox = checkMailbox(
      {
        emailaddress: item.emailAddress,
        username: item.userName,
        password: item.password,
        destinationusername: item.destinationUserName,
        destinationpassword: item.destinationPassword,
      },
      { item: i + 1 },
      problems,
      options,
    );
    if (mailbox) mailboxes.push(mailbox);
  });
  return finish(mailboxes, problems);
}
