import { Option, type Command } from 'commander';
import { CliError, type ApiClient } from '../client';
import { action, commaList, enc, examples, readUserFile, wholeNumber, type CliIo, type Context } from '../context';
import { bytes, table, type Column } from '../output';
import { watchBatch } from '../watch';

/**
 * For admins who come from imapsync: `analyze` (imapsync's --justfoldersizes: `POST /analyze`) and `migrate` (one
 * mailbox, one command: endpoints found or created, a one-mailbox batch created, started and watched until it
 * settles). Mailboxes are named by URL, `imaps://USER@HOST[:PORT]`; passwords come from files or standard input,
 * never from the command line.
 */

const SECURITY = ['none', 'starttls', 'tls'] as const;
type Security = (typeof SECURITY)[number];
const PROVIDERS = ['generic', 'dovecot', 'gmail', 'm365'];

/** `imaps://` is implicit TLS (port 993); `imap://` is STARTTLS (143), or cleartext with `--…-security none`. */
const SCHEMES: Record<string, { security: Security; port: number }> = {
  'imaps:': { security: 'tls', port: 993 },
  'imap:': { security: 'starttls', port: 143 },
};

/** One side of a migration: a mailbox on a server. */
interface MailboxUrl {
  user: string;
  host: string;
  port: number;
  security: Security;
}

const SIDES = { source: 'source', dest: 'destination' } as const;
type SideFlag = keyof typeof SIDES;

/**
 * Parses `imaps://USER@HOST[:PORT]`. Not a commander argParser: commander would repeat the value in its error, and
 * a URL with a password must never be echoed.
 */
export function parseMailboxUrl(value: string, flag: SideFlag, security: Security | undefined): MailboxUrl {
  const usage = (why: string) => new CliError(`--${flag}: ${why}`, 2, 'USAGE');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage('not a URL: give imaps://USER@HOST[:PORT] or imap://USER@HOST[:PORT]');
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) throw usage(`the scheme must be imaps:// or imap://, not ${url.protocol}//`);
  if (url.password) {
    throw usage(
      `a password on the command line is refused (shell history, ps): give it with --${flag}-password-file FILE or on standard input`,
    );
  }
  if (!url.username) throw usage('name the mailbox: imaps://USER@HOST');
  if (!url.hostname) throw usage('name the server: imaps://USER@HOST');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw usage('give only imaps://USER@HOST[:PORT], without a path or query');
  }
  return {
    user: decodeURIComponent(url.username),
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : scheme.port,
    security: security ?? scheme.security,
  };
}

interface PairOptions {
  source: string;
  dest: string;
  sourcePasswordFile?: string;
  destPasswordFile?: string;
  sourceSecurity?: Security;
  destSecurity?: Security;
  sourceProvider?: string;
  destProvider?: string;
  acceptUntrustedCerts?: boolean;
  largeItemMaxBytes?: number;
  folderInclude?: string[];
  folderExclude?: string[];
}

interface MigrateOptions extends PairOptions {
  dryRun?: boolean;
  name?: string;
  email?: string;
  badItemLimit?: number;
  largeItemLimit?: number;
  interval: number;
}

interface Side {
  url: MailboxUrl;
  password: string;
  provider: string;
}

const stripNewline = (s: string) => s.replace(/\r?\n$/, '');

/**
 * Both passwords: from the files named, else from standard input, the source's first (one line each), or, on a
 * terminal, one prompt each without echo.
 */
async function passwords(ctx: Context, o: PairOptions, urls: Record<SideFlag, MailboxUrl>) {
  const found: Partial<Record<SideFlag, string>> = {};
  if (o.sourcePasswordFile) found.source = stripNewline(await readUserFile(o.sourcePasswordFile));
  if (o.destPasswordFile) found.dest = stripNewline(await readUserFile(o.destPasswordFile));
  const missing = (['source', 'dest'] as const).filter((s) => found[s] === undefined);
  const { io } = ctx;
  if (missing.length && io.promptSecret) {
    for (const s of missing) {
      found[s] = await io.promptSecret(`password of ${urls[s].user} on ${urls[s].host} (${SIDES[s]}): `);
    }
  } else if (missing.length) {
    if (!io.readStdin) throw new CliError('no standard input to read the passwords from', 2, 'USAGE');
    const lines = (await io.readStdin()).split(/\r?\n/);
    for (const [i, s] of missing.entries()) {
      const line = lines[i];
      if (!line) {
        throw new CliError(
          `no ${SIDES[s]} password: give --${s}-password-file FILE, or the passwords on standard input, one line each (${missing.map((m) => SIDES[m]).join(', then ')})`,
          2,
          'USAGE',
        );
      }
      found[s] = line;
    }
  }
  return found as Record<SideFlag, string>;
}

async function sidesOf(ctx: Context, o: PairOptions): Promise<Record<SideFlag, Side>> {
  const urls = {
    source: parseMailboxUrl(o.source, 'source', o.sourceSecurity),
    dest: parseMailboxUrl(o.dest, 'dest', o.destSecurity),
  };
  const pw = await passwords(ctx, o, urls);
  return {
    source: { url: urls.source, password: pw.source, provider: o.sourceProvider ?? 'generic' },
    dest: { url: urls.dest, password: pw.dest, provider: o.destProvider ?? 'generic' },
  };
}

const where = (u: MailboxUrl) => `${u.user}@${u.host}:${u.port} (${u.security})`;

function connection(side: Side, o: PairOptions) {
  return {
    host: side.url.host,
    port: side.url.port,
    security: side.url.security,
    provider: side.provider,
    ...(o.acceptUntrustedCerts ? { acceptUntrustedCerts: true } : {}),
  };
}

/** The analysis's columns in CSV: every number raw (bytes as bytes). */
const CSV_COLUMNS: Column[] = [
  'sourceFolder',
  'role',
  'action',
  'destinationFolder',
  'destinationExists',
  'sourceMessages',
  'sourceBytes',
  'destinationMessages',
  'destinationBytes',
  'largeMessages',
  'largeBytes',
  'oversizeMessages',
  'oversizeBytes',
];

const TABLE_COLUMNS: Column[] = [
  { key: 'folder', heading: 'Source folder' },
  { key: 'destination', heading: 'Destination folder' },
  { key: 'messages', heading: 'Messages' },
  { key: 'size', heading: 'Size' },
  { key: 'destinationMessages', heading: 'On destination' },
  { key: 'destinationSize', heading: 'Size there' },
  { key: 'skipped', heading: 'Would skip' },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON (shape: openapi.json MailboxAnalysis)
type Json = any;

function skippedCell(count: number, size: number, why: string): string {
  return count ? `${count} ${why} (${bytes(size)})` : '';
}

/** The analysis as a person reads it: both sides, one row per folder, the totals, and what the limits skip. */
function analysisText(ctx: Context, a: Json): string {
  const rows = a.folders.map((f: Json) => ({
    folder: f.sourceFolder,
    destination:
      f.action === 'sync' ? `${f.destinationFolder}${f.destinationExists ? '' : ' (new)'}` : `- (${f.action})`,
    messages: f.sourceMessages,
    size: bytes(f.sourceBytes),
    destinationMessages: f.action === 'sync' ? f.destinationMessages : '',
    destinationSize: f.action === 'sync' ? bytes(f.destinationBytes) : '',
    skipped:
      f.action === 'sync'
        ? [
            skippedCell(f.largeMessages, f.largeBytes, 'large'),
            skippedCell(f.oversizeMessages, f.oversizeBytes, 'over dest limit'),
          ]
            .filter(Boolean)
            .join(', ')
        : skippedCell(f.sourceMessages, f.sourceBytes, f.action) || `0 ${f.action}`,
  }));
  const t = a.totals;
  rows.push({
    folder: `Total (${t.folders} folders)`,
    destination: `${t.foldersToSync} to sync`,
    messages: t.sourceMessages,
    size: bytes(t.sourceBytes),
    destinationMessages: t.destinationMessages,
    destinationSize: bytes(t.destinationBytes),
    skipped: '',
  });
  const side = (s: Json) => `${s.userName}@${s.host}:${s.port} (${s.security})`;
  const limit =
    a.destinationMaxMessageBytes === null
      ? ''
      : `; the destination takes at most ${bytes(a.destinationMaxMessageBytes)}`;
  const summary = [
    `would skip: ${t.largeMessages} large item(s) over ${bytes(a.largeItemMaxBytes)} (${bytes(t.largeBytes)})`,
    ...(t.oversizeMessages ? [`${t.oversizeMessages} over the destination's limit (${bytes(t.oversizeBytes)})`] : []),
    `${t.excludedFolders} folder(s) left out (${t.excludedMessages} messages, ${bytes(t.excludedBytes)})`,
  ].join('; ');
  return (
    `source ${side(a.source)} -> destination ${side(a.destination)}${limit}\n` +
    table({ rows, columns: TABLE_COLUMNS }, ctx.colors) +
    `${summary}\nnothing was changed on either server\n`
  );
}

async function analyze(ctx: Context, o: PairOptions): Promise<void> {
  const sides = await sidesOf(ctx, o);
  const api = await ctx.api();
  const res = await api.request('POST', '/analyze', {
    json: {
      source: {
        endpoint: connection(sides.source, o),
        userName: sides.source.url.user,
        password: sides.source.password,
      },
      destination: {
        endpoint: connection(sides.dest, o),
        userName: sides.dest.url.user,
        password: sides.dest.password,
      },
      ...(o.largeItemMaxBytes !== undefined ? { largeItemMaxBytes: o.largeItemMaxBytes } : {}),
      ...(o.folderInclude ? { folderInclude: o.folderInclude } : {}),
      ...(o.folderExclude ? { folderExclude: o.folderExclude } : {}),
    },
  });
  ctx.print({ json: res, text: analysisText(ctx, res), table: { rows: res.folders, columns: CSV_COLUMNS } });
}

/** The saved endpoint with this host, port and security, or a new one (its connection tested by the API). */
async function endpointFor(api: ApiClient, side: Side, o: PairOptions): Promise<{ id: string; name: string }> {
  const { items } = await api.request<{ items: Json[] }>('GET', '/endpoints');
  const u = side.url;
  const found = items.find(
    (e) => e.host.toLowerCase() === u.host.toLowerCase() && e.port === u.port && e.security === u.security,
  );
  if (found) return found;
  return api.request('POST', '/endpoints', {
    json: { name: `${u.host}:${u.port} ${u.security}`, ...connection(side, o) },
  });
}

/** Logs in as the mailbox (`POST /endpoints/{id}/test`): a wrong password fails here, before a batch exists. */
async function checkLogin(api: ApiClient, endpoint: { id: string }, side: Side, flag: SideFlag): Promise<void> {
  const res = await api.request('POST', `/endpoints/${enc(endpoint.id)}/test`, {
    json: { testMailbox: { userName: side.url.user, password: side.password } },
  });
  if (!res.ok) throw new CliError(`${SIDES[flag]} ${where(side.url)}: ${res.message} (${res.code})`, 1, res.code);
}

/** A batch name the API takes (letters, digits, spaces, `._-`; 64 at most): `migrate alice_example.com 20261201-1012`. */
function defaultName(side: Side): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const who = `${side.url.user}_${side.url.host}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return `migrate ${who}`.slice(0, 64 - stamp.length - 1) + ` ${stamp}`;
}

/** The report's address of the mailbox: `--email`, else the first user name that is an address, else USER@SOURCEHOST. */
function emailOf(o: MigrateOptions, sides: Record<SideFlag, Side>): string {
  const { source, dest } = sides;
  const email =
    o.email ??
    [source.url.user, dest.url.user, `${source.url.user}@${source.url.host}`].find((u) =>
      /^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(u),
    );
  if (!email) throw new CliError('no user name is an email address: give the address with --email', 2, 'USAGE');
  return email;
}

async function migrate(ctx: Context, o: MigrateOptions): Promise<void> {
  if (o.dryRun) return analyze(ctx, o);
  const sides = await sidesOf(ctx, o);
  const email = emailOf(o, sides);
  const api = await ctx.api();
  const source = await endpointFor(api, sides.source, o);
  const destination = await endpointFor(api, sides.dest, o);
  await checkLogin(api, source, sides.source, 'source');
  await checkLogin(api, destination, sides.dest, 'dest');
  // LargeItemMaxBytes is a setting of an edit, not of a creation: then the batch is started after it.
  const startNow = o.largeItemMaxBytes === undefined;
  const batch = await api.request('POST', '/batches', {
    json: {
      name: o.name ?? defaultName(sides.source),
      sourceEndpointId: source.id,
      destinationEndpointId: destination.id,
      mailboxes: [
        {
          emailAddress: email,
          userName: sides.source.url.user,
          password: sides.source.password,
          destinationUserName: sides.dest.url.user,
          destinationPassword: sides.dest.password,
        },
      ],
      autoStart: startNow,
      ...(o.badItemLimit !== undefined ? { badItemLimit: o.badItemLimit } : {}),
      ...(o.largeItemLimit !== undefined ? { largeItemLimit: o.largeItemLimit } : {}),
      ...(o.folderInclude ? { folderInclude: o.folderInclude } : {}),
      ...(o.folderExclude ? { folderExclude: o.folderExclude } : {}),
    },
  });
  if (!startNow) {
    await api.request('PATCH', `/batches/${enc(batch.id)}`, { json: { largeItemMaxBytes: o.largeItemMaxBytes } });
    await api.request('POST', `/batches/${enc(batch.id)}/start`);
  }
  if (ctx.format !== 'json') {
    ctx.io.stdout(
      `migrating ${where(sides.source.url)} -> ${where(sides.dest.url)} in batch "${batch.name}" (${source.name} -> ${destination.name})\n`,
    );
  }
  const end = await watchBatch(ctx, batch.id, { intervalMs: Math.max(1, o.interval) * 1000, started: true });
  if (end.ok) return;
  const report = await api.request('GET', `/batches/${enc(batch.id)}/mailboxes`);
  const mailbox = report.items[0];
  const why = mailbox?.lastError ? `: ${mailbox.lastError}` : '';
  const code = mailbox?.lastErrorCode ?? 'BATCH_NOT_SYNCED';
  throw new CliError(`${end.message}${why} (${code})`, 1, code);
}

/** The options analyze and migrate share. */
function pairOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--source <url>', 'source mailbox: imaps://USER@HOST[:PORT] (TLS, 993) or imap://… (STARTTLS, 143)')
    .requiredOption('--dest <url>', 'destination mailbox, the same form')
    .option('--source-password-file <file>', "the source mailbox's password, from a file (else standard input)")
    .option('--dest-password-file <file>', "the destination mailbox's password, from a file (else standard input)")
    .addOption(new Option('--source-security <mode>', 'override the scheme: none is cleartext').choices(SECURITY))
    .addOption(new Option('--dest-security <mode>', 'override the scheme: none is cleartext').choices(SECURITY))
    .addOption(new Option('--source-provider <provider>', 'source server kind').choices(PROVIDERS))
    .addOption(new Option('--dest-provider <provider>', 'destination server kind').choices(PROVIDERS))
    .option('--accept-untrusted-certs', 'accept self-signed or otherwise untrusted certificates')
    .option('--large-item-max-bytes <n>', 'messages larger than this are skipped (default 150 MiB)', wholeNumber)
    .option('--folder-include <a,b>', 'only these folders (patterns)', commaList)
    .option('--folder-exclude <a,b>', 'not these folders (patterns)', commaList);
}

const PASSWORD_HELP = `
Passwords are never taken from the command line: --source-password-file and --dest-password-file, else standard
input, one line each (the source's first), or, on a terminal, one prompt each. imaps:// is TLS (port 993),
imap:// is STARTTLS (port 143); --source-security none / --dest-security none for a cleartext server.
`;

export function registerMigrate(program: Command, io: CliIo): void {
  examples(
    pairOptions(
      program
        .command('analyze')
        .description(
          "Logs in to both sides of one mailbox and prints, per folder, where the sync would put it, messages and sizes on both sides, and what the limits would skip; changes nothing (imapsync's --justfoldersizes)",
        ),
    )
      .addHelpText('after', PASSWORD_HELP)
      .action(action<PairOptions>(io, async (ctx, o) => analyze(ctx, o))),
    [
      'mailferry analyze --source imaps://alice@imap.old.example --dest imaps://alice@contoso.com@outlook.office365.com --source-password-file ./pw --dest-password-file ./new-pw',
      'printf "%s\\n" "$NEW_PW" | mailferry analyze --source imaps://alice@imap.old.example --source-password-file ./pw --dest imaps://alice@imap.new.example --output csv',
    ],
  );

  examples(
    pairOptions(
      program
        .command('migrate')
        .description(
          'Migrates one mailbox: finds or creates both endpoints, creates a one-mailbox batch, starts it and watches it until it settles (imapsync-style)',
        ),
    )
      .option('--dry-run', 'analyze only (the same as mailferry analyze)')
      .option('--name <name>', 'batch name (default: migrate USER_HOST YYYYMMDD-HHMMSS)')
      .option(
        '--email <address>',
        "the mailbox's email address (default: a user name that is one, else USER@SOURCE-HOST)",
      )
      .option('--bad-item-limit <n>', 'messages the destination may refuse before the mailbox fails', wholeNumber)
      .option('--large-item-limit <n>', 'large messages allowed to be skipped before the mailbox fails', wholeNumber)
      .option('--interval <seconds>', 'seconds between polls', wholeNumber, 2)
      .addHelpText(
        'after',
        `${PASSWORD_HELP}Exit code 0 when the batch is Synced; 1 when it ends Synced with errors, Failed or Stopped, or a login fails.\n`,
      )
      .action(action<MigrateOptions>(io, async (ctx, o) => migrate(ctx, o))),
    [
      'mailferry migrate --source imaps://alice@imap.old.example --dest imaps://alice@imap.new.example --source-password-file ./pw --dest-password-file ./new-pw',
      'mailferry migrate --dry-run --source imaps://alice@imap.old.example --dest imaps://alice@imap.new.example --source-password-file ./pw --dest-password-file ./new-pw',
      'printf "%s\\n%s\\n" "$OLD_PW" "$NEW_PW" | mailferry migrate --source imap://bob@10.0.0.5 --source-security none --dest imaps://bob@imap.new.example --email bob@contoso.com --name "bob move"',
    ],
  );
}
