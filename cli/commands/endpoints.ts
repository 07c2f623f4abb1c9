import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError, type ApiClient } from '../client';
import { AUTH_METHODS } from '../../domain/endpoint-auth';
import { action, examples, readPassword, readUserFile, wholeNumber, type CliIo, type Context } from '../context';

const ENDPOINT_COLUMNS = ['name', 'host', 'port', 'security', 'adminUser', 'id'];
const ENDPOINT_DETAIL_COLUMNS = [
  'name',
  'host',
  'port',
  'security',
  'authMethod',
  'adminUser',
  'tenantId',
  'clientId',
  'maxConcurrentMigrations',
  'maxConcurrentIncrementalSyncs',
  'downloadLimits',
  'uploadLimits',
  'caldavUrl',
  'carddavUrl',
];

/** An endpoint's id from its id or (case-insensitive) name. */
export async function endpointId(api: ApiClient, ref: string): Promise<string> {
  const { items } = await api.request<{ items: { id: string; name: string }[] }>('GET', '/endpoints');
  const found = items.find((e) => e.id === ref) ?? items.find((e) => e.name.toLowerCase() === ref.toLowerCase());
  if (!found) throw new CliError(`no endpoint named or with id "${ref}" (ENDPOINT_NOT_FOUND)`, 1, 'ENDPOINT_NOT_FOUND');
  return found.id;
}

interface ConnectionOptions {
  name?: string;
  host?: string;
  port?: number;
  security?: string;
  provider?: string;
  adminUser?: string;
  adminPasswordFile?: string;
  adminPasswordStdin?: boolean;
  authMethod?: string;
  serviceAccountKeyFile?: string;
  tenantId?: string;
  clientId?: string;
  authorityHost?: string;
  clientSecretFile?: string;
  clientSecretStdin?: boolean;
  refreshTokenFile?: string;
  refreshTokenStdin?: boolean;
  /** create and test: a mailbox to log in as (with a token minted for it, or through the admin login). */
  testMailbox?: string;
  acceptUntrustedCerts?: boolean;
  maxConcurrentMigrations?: number;
  maxConcurrentIncrementalSyncs?: number;
  limit?: LimitSetting[];
  caldavUrl?: string;
  carddavUrl?: string;
  skipTest?: boolean;
}

/** `none` removes a DAV service; anything else goes to the API as it is (the API checks the URL). */
const urlOrNone = (v: string) => (v === 'none' ? null : v);

async function connectionBody(ctx: Context, o: ConnectionOptions) {
  const stdins = [o.adminPasswordStdin, o.clientSecretStdin, o.refreshTokenStdin].filter(Boolean).length;
  if (stdins > 1) throw new CliError('only one secret can come from standard input', 2, 'USAGE');
  const password = await readPassword(ctx, { file: o.adminPasswordFile, stdin: o.adminPasswordStdin });
  const clientSecret = await readPassword(ctx, { file: o.clientSecretFile, stdin: o.clientSecretStdin });
  const refreshToken = await readPassword(ctx, { file: o.refreshTokenFile, stdin: o.refreshTokenStdin });
  // Secrets come from files or standard input only, never the command line (shell history, `ps`).
  const serviceAccountKey = o.serviceAccountKeyFile ? await readUserFile(o.serviceAccountKeyFile) : undefined;
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.security !== undefined ? { security: o.security } : {}),
    ...(o.provider ? { provider: o.provider } : {}),
    ...(o.adminUser ? { adminUser: o.adminUser } : {}),
    ...(password ? { adminPassword: password } : {}),
    ...(o.authMethod ? { authMethod: o.authMethod } : {}),
    ...(serviceAccountKey ? { serviceAccountKey } : {}),
    ...(o.tenantId ? { tenantId: o.tenantId } : {}),
    ...(o.clientId ? { clientId: o.clientId } : {}),
    ...(o.authorityHost ? { authorityHost: o.authorityHost } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(refreshToken ? { refreshToken } : {}),
    ...(o.acceptUntrustedCerts ? { acceptUntrustedCerts: true } : {}),
    ...(o.maxConcurrentMigrations !== undefined ? { maxConcurrentMigrations: o.maxConcurrentMigrations } : {}),
    ...(o.maxConcurrentIncrementalSyncs !== undefined
      ? { maxConcurrentIncrementalSyncs: o.maxConcurrentIncrementalSyncs }
      : {}),
    ...(o.caldavUrl !== undefined ? { caldavUrl: urlOrNone(o.caldavUrl) } : {}),
    ...(o.carddavUrl !== undefined ? { carddavUrl: urlOrNone(o.carddavUrl) } : {}),
  };
}

const LIMIT_NAMES = ['messagesPerSecond', 'bytesPerSecond', 'bytesPerDay', 'mailboxBytesPerDay'] as const;
type Direction = 'download' | 'upload';
/** An endpoint's rate limit overrides as the API holds them: a figure, null for none, absent for the default. */
type RateLimits = Partial<Record<Direction, Partial<Record<(typeof LIMIT_NAMES)[number], number | null>>>>;
interface LimitSetting {
  direction: Direction;
  name: (typeof LIMIT_NAMES)[number];
  /** undefined: back to the provider's default. */
  value: number | null | undefined;
}

/** Parses one `--limit upload.bytesPerSecond=5000000` (or `=none`, `=default`); repeatable. */
function limitSetting(spec: string, previous: LimitSetting[] = []): LimitSetting[] {
  const m = /^(upload|download)\.(\w+)=(.+)$/.exec(spec);
  const name = LIMIT_NAMES.find((n) => n === m?.[2]);
  const raw = m?.[3];
  const value = raw === 'none' ? null : raw === 'default' ? undefined : Number(raw);
  if (!m || !name || (typeof value === 'number' && !(value > 0))) {
    throw new InvalidArgumentError(`must be upload|download.<${LIMIT_NAMES.join('|')}>=<positive number|none|default>`);
  }
  return [...previous, { direction: m[1] as Direction, name, value }];
}

function withLimits(current: RateLimits, settings: LimitSetting[]): RateLimits {
  const next: RateLimits = { download: { ...current.download }, upload: { ...current.upload } };
  for (const { direction, name, value } of settings) {
    if (value === undefined) delete next[direction]![name];
    else next[direction]![name] = value;
  }
  return next;
}

/** One direction's limits in effect, for a table cell: `bytesPerSecond=5000000 mailboxBytesPerDay=500000000`. */
const limitsText = (l: Record<string, number | null>) =>
  Object.entries(l)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || 'none';

const limitOption = (cmd: Command) =>
  cmd.option(
    '--limit <direction.name=value>',
    `a rate limit over all batches, repeatable: download (as a source) or upload (as a destination) . ${LIMIT_NAMES.join(', ')}; a positive number, none, or default (the provider's published limit)`,
    limitSetting,
  );

const testMailboxOf = (o: ConnectionOptions) => (o.testMailbox ? { testMailbox: { userName: o.testMailbox } } : {});

/** The connection options shared by create, edit and test. */
function connectionOptions(cmd: Command, required: boolean): Command {
  const opt = (flags: string, description: string) => {
    const o = new Option(flags, description);
    if (required) o.makeOptionMandatory();
    return o;
  };
  return cmd
    .addOption(opt('--host <host>', 'IMAP host name or address'))
    .addOption(opt('--port <port>', 'IMAP port').argParser(wholeNumber))
    .addOption(opt('--security <mode>', 'transport security').choices(['none', 'starttls', 'tls']))
    .addOption(new Option('--provider <provider>', 'server kind').choices(['generic', 'dovecot', 'gmail', 'm365']))
    .option('--admin-user <user>', 'admin (master) login that acts for each mailbox')
    .option('--admin-password-file <file>', "the admin login's password, from a file")
    .option('--admin-password-stdin', "the admin login's password, from standard input")
    .addOption(new Option('--auth-method <method>', 'how mailboxes log in').choices(AUTH_METHODS))
    .option(
      '--service-account-key-file <file>',
      'google-service-account: the key JSON of a service account with domain-wide delegation',
    )
    .option('--tenant-id <tenant>', 'm365-*: the directory (tenant) id or domain')
    .option('--client-id <id>', 'm365-*: the application (client) id')
    .option('--authority-host <url>', 'm365-*: the authority host (default https://login.microsoftonline.com)')
    .option('--client-secret-file <file>', 'm365-client-credentials: the client secret, from a file')
    .option('--client-secret-stdin', 'm365-client-credentials: the client secret, from standard input')
    .option('--refresh-token-file <file>', 'm365-refresh-token: the refresh token, from a file')
    .option('--refresh-token-stdin', 'm365-refresh-token: the refresh token, from standard input')
    .option('--accept-untrusted-certs', 'accept self-signed or otherwise untrusted certificates')
    .option('--max-concurrent-migrations <n>', 'initial syncs at once over all batches', wholeNumber)
    .option('--max-concurrent-incremental-syncs <n>', 'incremental syncs at once over all batches', wholeNumber)
    .option('--caldav-url <url>', 'CalDAV service for calendars: a host (discovery) or a URL; none for none')
    .option('--carddav-url <url>', 'CardDAV service for address books: a host (discovery) or a URL; none for none');
}

export function registerEndpoints(program: Command, io: CliIo): void {
  const endpoints = examples(
    program.command('endpoints').description('IMAP migration endpoints (the *-MigrationEndpoint cmdlets)'),
    ['mailferry endpoints list', 'mailferry endpoints test "Old Dovecot"'],
  );

  examples(
    endpoints
      .command('list')
      .description('Lists endpoints (Get-MigrationEndpoint)')
      .action(
        action(io, async (ctx) => {
          const res = await (await ctx.api()).request('GET', '/endpoints');
          ctx.print({ json: res, table: { rows: res.items, columns: ENDPOINT_COLUMNS } });
        }),
      ),
    ['mailferry endpoints list', 'mailferry endpoints list --output csv'],
  );

  examples(
    endpoints
      .command('show')
      .argument('<endpoint>', 'endpoint name or id')
      .description('One endpoint (Get-MigrationEndpoint -Identity)')
      .action(
        action(io, async (ctx, _o, ref) => {
          const api = await ctx.api();
          const res = await api.request('GET', `/endpoints/${await endpointId(api, ref!)}`);
          const row = {
            ...res,
            downloadLimits: limitsText(res.effectiveRateLimits.download),
            uploadLimits: limitsText(res.effectiveRateLimits.upload),
          };
          ctx.print({ json: res, table: { rows: [row], columns: ENDPOINT_DETAIL_COLUMNS } });
        }),
      ),
    ['mailferry endpoints show "Old Dovecot"'],
  );

  examples(
    connectionOptions(
      limitOption(
        endpoints
          .command('create')
          .description('Creates an endpoint after a connection test (New-MigrationEndpoint)')
          .requiredOption('--name <name>', 'endpoint name'),
      ),
      true,
    )
      .option('--skip-test', 'save without testing the connection')
      .option('--test-mailbox <address>', 'log in as this mailbox during the test')
      .action(
        action<ConnectionOptions>(io, async (ctx, o) => {
          const body = {
            ...(await connectionBody(ctx, o)),
            ...testMailboxOf(o),
            ...(o.limit ? { rateLimits: withLimits({}, o.limit) } : {}),
          };
          const res = await (
            await ctx.api()
          ).request('POST', `/endpoints${o.skipTest ? '?skipTest=true' : ''}`, {
            json: body,
          });
          ctx.print({
            json: res,
            text: `created endpoint "${res.name}" (${res.id})\n`,
            csvRow: { id: res.id, name: res.name },
          });
        }),
      ),
    [
      'mailferry endpoints create --name "Old Dovecot" --host imap.old.example --port 993 --security tls --admin-user migrator --admin-password-file ./pw',
      'printf %s "$PW" | mailferry endpoints create --name M365 --host outlook.office365.com --port 993 --security tls --provider m365 --admin-user migrator@contoso.com --admin-password-stdin',
      'mailferry endpoints create --name "Old server" --host imap.old.example --port 993 --security tls --caldav-url https://dav.old.example --carddav-url https://dav.old.example',
      'mailferry endpoints create --name Workspace --host imap.gmail.com --port 993 --security tls --provider gmail --auth-method google-service-account --service-account-key-file ./key.json --test-mailbox ann@contoso.com',
      'printf %s "$SECRET" | mailferry endpoints create --name Exchange --host outlook.office365.com --port 993 --security tls --provider m365 --auth-method m365-client-credentials --tenant-id contoso.com --client-id 00000000-0000-0000-0000-000000000000 --client-secret-stdin',
    ],
  );

  examples(
    connectionOptions(
      limitOption(
        endpoints
          .command('edit')
          .argument('<endpoint>', 'endpoint name or id')
          .description('Changes an endpoint; a connection setting change is tested first (Set-MigrationEndpoint)')
          .option('--name <name>', 'new name'),
      ),
      false,
    )
      .option('--skip-test', 'save without testing the connection')
      .action(
        action<ConnectionOptions>(io, async (ctx, o, ref) => {
          const body: Record<string, unknown> = await connectionBody(ctx, o);
          if (Object.keys(body).length === 0 && !o.limit) {
            throw new CliError('nothing to change: give at least one option (see --help)', 2, 'USAGE');
          }
          const api = await ctx.api();
          const id = await endpointId(api, ref!);
          if (o.limit) {
            const current = await api.request<{ rateLimits: RateLimits }>('GET', `/endpoints/${id}`);
            body.rateLimits = withLimits(current.rateLimits, o.limit);
          }
          const res = await api.request('PATCH', `/endpoints/${id}${o.skipTest ? '?skipTest=true' : ''}`, {
            json: body,
          });
          ctx.print({
            json: res,
            text: `updated endpoint "${res.name}" (${res.id})\n`,
            csvRow: { id: res.id, name: res.name },
          });
        }),
      ),
    [
      'mailferry endpoints edit "Old Dovecot" --max-concurrent-migrations 20',
      'mailferry endpoints edit "Old Dovecot" --admin-password-file ./new-pw',
      'mailferry endpoints edit Gmail --limit upload.bytesPerSecond=2000000 --limit upload.mailboxBytesPerDay=default',
    ],
  );

  examples(
    connectionOptions(
      endpoints
        .command('test')
        .argument('[endpoint]', 'a saved endpoint, by name or id; leave out to test --host/--port/--security')
        .description(
          'Tests a connection: a saved endpoint, or settings not saved yet (Test-MigrationServerAvailability)',
        ),
      false,
    )
      .option('--test-mailbox <address>', 'log in as this mailbox')
      .action(
        action<ConnectionOptions>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          let res;
          if (ref) {
            res = await api.request('POST', `/endpoints/${await endpointId(api, ref)}/test`, {
              json: testMailboxOf(o),
            });
          } else {
            if (o.host === undefined || o.port === undefined || o.security === undefined) {
              throw new CliError('give an endpoint, or --host, --port and --security to test', 2, 'USAGE');
            }
            res = await api.request('POST', '/endpoints/test', {
              json: { ...(await connectionBody(ctx, o)), ...testMailboxOf(o) },
            });
          }
          ctx.print({ json: res, text: `${res.ok ? 'ok' : 'FAILED'}: ${res.message} (${res.code})\n` });
          if (!res.ok) throw new CliError(`connection test failed: ${res.message}`, 1, res.code);
        }),
      ),
    [
      'mailferry endpoints test "Old Dovecot"',
      'mailferry endpoints test --host imap.new.example --port 143 --security starttls',
    ],
  );

  examples(
    endpoints
      .command('delete')
      .argument('<endpoint>', 'endpoint name or id')
      .description('Deletes an endpoint no batch uses (Remove-MigrationEndpoint)')
      .action(
        action(io, async (ctx, _o, ref) => {
          const api = await ctx.api();
          const id = await endpointId(api, ref!);
          await api.request('DELETE', `/endpoints/${id}`);
          ctx.print({ json: { deleted: id }, text: `deleted endpoint ${id}\n` });
        }),
      ),
    ['mailferry endpoints delete "Old Dovecot"'],
  );
}
