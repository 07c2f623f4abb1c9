import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, CliError } from './client';

/**
 * `mailferry <group> <command> [arguments] [--options]`: the operator's CLI over the public API.
 * Base URL and token from --url/--token or MAILFERRY_URL/MAILFERRY_TOKEN. Exit codes: 0 done, 1 the API refused
 * (its error code is printed), 2 usage error, 3 the API could not be reached.
 */

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin?(): Promise<string>;
  fetch?: typeof fetch;
}

const USAGE = `usage: mailferry <command> [options]

  health | me | statistics
  batches list [--status S[,S]] [--sort name|status|createdAt|total|synced|finalized|failed|percentageSynced] [--order asc|desc] [--page N] [--page-size N]
  batches show <name|id>
  batches create --name NAME --source ENDPOINT --destination ENDPOINT --csv FILE [--auto-start] [--auto-complete]
                 [--start-after ISO] [--complete-after ISO] [--bad-item-limit N] [--large-item-limit N]
                 [--folder-include A,B] [--folder-exclude A,B]
  batches start|stop|resume|complete|sync-now|delete <name|id>
  batches add-mailboxes <name|id> --csv FILE
  batches mailboxes <name|id> [--status S] [--search TEXT] [--page N] [--page-size N] [--export FILE.csv]
  endpoints list | show <id|name> | test <id|name> | delete <id|name>
  endpoints create --name NAME --host HOST --port N --security none|starttls|tls [--provider P]
                   [--admin-user U (--admin-password-file F | --admin-password-stdin)] [--accept-untrusted-certs] [--skip-test]
  tokens list | create --name NAME --owner OWNER --role admin|viewer | revoke <id>

global options: --url URL (MAILFERRY_URL, default http://localhost:3000)  --token TOKEN (MAILFERRY_TOKEN)  --json
exit codes: 0 done, 1 the API refused, 2 usage error, 3 the API could not be reached
`;

const GLOBAL = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message, 2, 'USAGE');
  }
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new CliError(`missing ${flag}`, 2, 'USAGE');
  return value;
}

function positional(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (!v) throw new CliError(`missing ${what}`, 2, 'USAGE');
  return v;
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`${flag} must be a whole number`, 2, 'USAGE');
  return Number(value);
}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = [
    columns,
    ...rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c])))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return (
    cells
      .map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

async function readCsv(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      2,
      'USAGE',
    );
  }
}

const enc = encodeURIComponent;

/** An endpoint's id from its id or (case-insensitive) name. */
async function endpointId(api: ApiClient, ref: string): Promise<string> {
  const { items } = await api.request<{ items: { id: string; name: string }[] }>('GET', '/endpoints');
  const found = items.find((e) => e.id === ref) ?? items.find((e) => e.name.toLowerCase() === ref.toLowerCase());
  if (!found) throw new CliError(`no endpoint named or with id "${ref}"`, 1, 'ENDPOINT_NOT_FOUND');
  return found.id;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a batch as the API returns it (shape: openapi.json)
function printBatch(io: CliIo, b: any): void {
  const lines: [string, unknown][] = [
    ['Name', b.name],
    ['Status', b.statusLabel],
    ['Type / direction', `${b.type} / ${b.direction}`],
    ['Requested', b.requested],
    ['Synced', `${b.synced} (${b.percentageSynced}%)`],
    ['Finalized', b.finalized],
    ['Failed', b.failed],
    ['Created by', b.createdBy],
    ['Created', b.createdAt],
    ['Started', b.startedAt],
    ['Initial sync', b.initialSyncAt],
    ['Last synced', b.lastSyncedAt],
    ['Complete after', b.completeAfter],
    ['Source', b.sourceEndpoint ? `${b.sourceEndpoint.name} (${b.sourceEndpoint.host})` : ''],
    ['Destination', b.destinationEndpoint ? `${b.destinationEndpoint.name} (${b.destinationEndpoint.host})` : ''],
    ['Allowed commands', (b.allowedCommands ?? []).join(', ')],
    ['Workflow', b.temporalUiUrl ?? b.workflowId],
  ];
  io.stdout(lines.map(([k, v]) => `${k.padEnd(17)} ${v ?? '-'}`).join('\n') + '\n');
}

const COMMAND_VERBS: Record<string, { method: string; path: (ref: string) => string }> = {
  start: { method: 'POST', path: (r) => `/batches/${enc(r)}/start` },
  stop: { method: 'POST', path: (r) => `/batches/${enc(r)}/stop` },
  resume: { method: 'POST', path: (r) => `/batches/${enc(r)}/resume` },
  complete: { method: 'POST', path: (r) => `/batches/${enc(r)}/complete` },
  'sync-now': { method: 'POST', path: (r) => `/batches/${enc(r)}/sync-now` },
  delete: { method: 'DELETE', path: (r) => `/batches/${enc(r)}` },
};

async function dispatch(argv: string[], io: CliIo): Promise<void> {
  const [group, command, ...rest] = argv;
  if (!group || group === 'help' || group === '--help' || group === '-h') {
    io.stdout(USAGE);
    return;
  }
  const singles = ['health', 'me', 'statistics'];
  const args = singles.includes(group) ? [command, ...rest].filter((x): x is string => x !== undefined) : rest;
  const client = (values: { url?: string; token?: string }) =>
    new ApiClient({
      baseUrl: values.url ?? io.env.MAILFERRY_URL ?? 'http://localhost:3000',
      token: values.token ?? io.env.MAILFERRY_TOKEN,
      fetch: io.fetch,
    });
  const out = (json: boolean | undefined, value: unknown, human: () => string) =>
    io.stdout(json ? JSON.stringify(value, null, 2) + '\n' : human());

  if (singles.includes(group)) {
    const { values } = parse(args, {});
    const api = client(values);
    if (group === 'health') {
      const res = await api.request('GET', '/health');
      out(
        values.json,
        res,
        () => `ok: PostgreSQL ${res.checks.postgres.latencyMs} ms, Temporal ${res.checks.temporal.latencyMs} ms\n`,
      );
    } else if (group === 'me') {
      const res = await api.request('GET', '/me');
      out(values.json, res, () => `${res.name} (${res.owner}), role ${res.role}\n`);
    } else {
      const res = await api.request('GET', '/statistics');
      out(values.json, res, () =>
        table([res], ['totalMailboxes', 'syncedMailboxes', 'finalizedMailboxes', 'failedMailboxes']),
      );
    }
    return;
  }

  if (group === 'batches') {
    if (command === 'list') {
      const { values } = parse(args, {
        status: { type: 'string' },
        sort: { type: 'string' },
        order: { type: 'string' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
      });
      const q = new URLSearchParams();
      if (values.status) q.set('status', values.status);
      if (values.sort) q.set('sort', values.sort);
      if (values.order) q.set('order', values.order);
      if (values.page) q.set('page', String(int(values.page, '--page')));
      if (values['page-size']) q.set('pageSize', String(int(values['page-size'], '--page-size')));
      const res = await client(values).request('GET', `/batches${q.size ? `?${q}` : ''}`);
      out(
        values.json,
        res,
        () =>
          table(
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- list rows as the API returns them
            res.items.map((b: any) => ({ ...b, status: b.statusLabel, '%': b.percentageSynced })),
            ['name', 'status', '%', 'total', 'synced', 'finalized', 'failed', 'createdAt'],
          ) + `${res.total} batch(es), page ${res.page}\n`,
      );
      return;
    }
    if (command === 'show') {
      const { values, positionals } = parse(args, {});
      const res = await client(values).request(
        'GET',
        `/batches/${enc(positional(positionals, 0, 'batch name or id'))}`,
      );
      if (values.json) out(true, res, () => '');
      else printBatch(io, res);
      return;
    }
    if (command === 'create') {
      const { values } = parse(args, {
        name: { type: 'string' },
        source: { type: 'string' },
        destination: { type: 'string' },
        csv: { type: 'string' },
        'auto-start': { type: 'boolean' },
        'auto-complete': { type: 'boolean' },
        'start-after': { type: 'string' },
        'complete-after': { type: 'string' },
        'bad-item-limit': { type: 'string' },
        'large-item-limit': { type: 'string' },
        'folder-include': { type: 'string' },
        'folder-exclude': { type: 'string' },
      });
      const name = required(values.name, '--name');
      const csv = await readCsv(required(values.csv, '--csv FILE'));
      const api = client(values);
      const body = {
        name,
        sourceEndpointId: await endpointId(api, required(values.source, '--source')),
        destinationEndpointId: await endpointId(api, required(values.destination, '--destination')),
        csv,
        ...(values['auto-start'] ? { autoStart: true } : {}),
        ...(values['auto-complete'] ? { autoComplete: true } : {}),
        ...(values['start-after'] ? { startAfter: values['start-after'] } : {}),
        ...(values['complete-after'] ? { completeAfter: values['complete-after'] } : {}),
        ...(values['bad-item-limit'] ? { badItemLimit: int(values['bad-item-limit'], '--bad-item-limit') } : {}),
        ...(values['large-item-limit']
          ? { largeItemLimit: int(values['large-item-limit'], '--large-item-limit') }
          : {}),
        ...(values['folder-include'] ? { folderInclude: list(values['folder-include']) } : {}),
        ...(values['folder-exclude'] ? { folderExclude: list(values['folder-exclude']) } : {}),
      };
      const res = await api.request('POST', '/batches', { json: body });
      out(
        values.json,
        res,
        () => `created batch "${res.name}" (${res.id}) with ${res.total} mailbox(es), status ${res.statusLabel}\n`,
      );
      return;
    }
    if (command && command in COMMAND_VERBS) {
      const { values, positionals } = parse(args, {});
      const verb = COMMAND_VERBS[command]!;
      const res = await client(values).request(verb.method, verb.path(positional(positionals, 0, 'batch name or id')));
      out(values.json, res, () =>
        res.outcome === 'alreadyApplied'
          ? `${command}: already in effect; batch "${res.batch.name}" is ${res.batch.statusLabel}\n`
          : `${command}: accepted; batch "${res.batch.name}" is ${res.batch.statusLabel}\n`,
      );
      return;
    }
    if (command === 'add-mailboxes') {
      const { values, positionals } = parse(args, { csv: { type: 'string' } });
      const ref = positional(positionals, 0, 'batch name or id');
      const csv = await readCsv(required(values.csv, '--csv FILE'));
      const res = await client(values).request('POST', `/batches/${enc(ref)}/mailboxes`, { json: { csv } });
      out(values.json, res, () => `added ${res.added} mailbox(es); the batch has ${res.total}\n`);
      return;
    }
    if (command === 'mailboxes') {
      const { values, positionals } = parse(args, {
        status: { type: 'string' },
        search: { type: 'string' },
        page: { type: 'string' },
        'page-size': { type: 'string' },
        export: { type: 'string' },
      });
      const ref = enc(positional(positionals, 0, 'batch name or id'));
      const api = client(values);
      if (values.export) {
        const text = await api.request<string>('GET', `/batches/${ref}/mailboxes.csv`, undefined, 'text');
        await writeFile(values.export, text);
        io.stdout(`wrote ${text.trim().split('\n').length - 1} mailbox(es) to ${values.export}\n`);
        return;
      }
      const q = new URLSearchParams();
      if (values.status) q.set('status', values.status);
      if (values.search) q.set('search', values.search);
      if (values.page) q.set('page', String(int(values.page, '--page')));
      if (values['page-size']) q.set('pageSize', String(int(values['page-size'], '--page-size')));
      const res = await api.request('GET', `/batches/${ref}/mailboxes${q.size ? `?${q}` : ''}`);
      out(
        values.json,
        res,
        () =>
          table(res.items, [
            'emailAddress',
            'status',
            'itemsSynced',
            'itemsSkipped',
            'bytesSynced',
            'lastSyncedAt',
            'lastError',
          ]) + `${res.total} mailbox(es), page ${res.page}\n`,
      );
      return;
    }
  }

  if (group === 'endpoints') {
    if (command === 'list') {
      const { values } = parse(args, {});
      const res = await client(values).request('GET', '/endpoints');
      out(values.json, res, () => table(res.items, ['name', 'host', 'port', 'security', 'adminUser', 'id']));
      return;
    }
    if (command === 'show' || command === 'test' || command === 'delete') {
      const { values, positionals } = parse(args, {});
      const api = client(values);
      const id = await endpointId(api, positional(positionals, 0, 'endpoint name or id'));
      if (command === 'show') {
        const res = await api.request('GET', `/endpoints/${id}`);
        out(values.json, res, () =>
          table(
            [res],
            [
              'name',
              'host',
              'port',
              'security',
              'adminUser',
              'maxConcurrentMigrations',
              'maxConcurrentIncrementalSyncs',
            ],
          ),
        );
      } else if (command === 'test') {
        const res = await api.request('POST', `/endpoints/${id}/test`);
        out(values.json, res, () => `${res.ok ? 'ok' : 'FAILED'}: ${res.message} (${res.code})\n`);
        if (!res.ok) throw new CliError(`connection test failed: ${res.message}`, 1, res.code);
      } else {
        await api.request('DELETE', `/endpoints/${id}`);
        io.stdout(`deleted endpoint ${id}\n`);
      }
      return;
    }
    if (command === 'create') {
      const { values } = parse(args, {
        name: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        security: { type: 'string' },
        provider: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password-file': { type: 'string' },
        'admin-password-stdin': { type: 'boolean' },
        'accept-untrusted-certs': { type: 'boolean' },
        'skip-test': { type: 'boolean' },
      });
      let adminPassword: string | undefined;
      if (values['admin-password-file'])
        adminPassword = (await readCsv(values['admin-password-file'])).replace(/\r?\n$/, '');
      else if (values['admin-password-stdin']) {
        if (!io.readStdin) throw new CliError('no standard input to read the password from', 2, 'USAGE');
        adminPassword = (await io.readStdin()).replace(/\r?\n$/, '');
      }
      const body = {
        name: required(values.name, '--name'),
        host: required(values.host, '--host'),
        port: int(required(values.port, '--port'), '--port'),
        security: required(values.security, '--security'),
        ...(values.provider ? { provider: values.provider } : {}),
        ...(values['admin-user'] ? { adminUser: values['admin-user'] } : {}),
        ...(adminPassword ? { adminPassword } : {}),
        ...(values['accept-untrusted-certs'] ? { acceptUntrustedCerts: true } : {}),
      };
      const res = await client(values).request('POST', `/endpoints${values['skip-test'] ? '?skipTest=true' : ''}`, {
        json: body,
      });
      out(values.json, res, () => `created endpoint "${res.name}" (${res.id})\n`);
      return;
    }
  }

  if (group === 'tokens') {
    if (command === 'list') {
      const { values } = parse(args, {});
      const res = await client(values).request('GET', '/tokens');
      out(values.json, res, () =>
        table(res.items, ['name', 'owner', 'role', 'createdAt', 'lastUsedAt', 'revokedAt', 'id']),
      );
      return;
    }
    if (command === 'create') {
      const { values } = parse(args, { name: { type: 'string' }, owner: { type: 'string' }, role: { type: 'string' } });
      const res = await client(values).request('POST', '/tokens', {
        json: {
          name: required(values.name, '--name'),
          owner: required(values.owner, '--owner'),
          role: required(values.role, '--role'),
        },
      });
      out(
        values.json,
        res,
        () => `created ${res.role} token "${res.name}" for ${res.owner}; it is shown only now:\n${res.token}\n`,
      );
      return;
    }
    if (command === 'revoke') {
      const { values, positionals } = parse(args, {});
      const res = await client(values).request('DELETE', `/tokens/${enc(positional(positionals, 0, 'token id'))}`);
      out(values.json, res, () => `revoked token "${res.name}"\n`);
      return;
    }
  }

  throw new CliError(`unknown command: ${[group, command].filter(Boolean).join(' ')}\n\n${USAGE}`, 2, 'USAGE');
}

/** Runs one CLI invocation; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    await dispatch(argv, io);
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`mailferry: ${err.message}\n`);
      const details = err.details as
        { problems?: { line?: number; item?: number; code: string; message: string }[] } | undefined;
      for (const p of details?.problems ?? []) {
        io.stderr(
          `  ${p.line !== undefined ? `line ${p.line}` : p.item !== undefined ? `item ${p.item}` : ''}: ${p.message} (${p.code})\n`,
        );
      }
      const allowed = (details as { allowedCommands?: string[] } | undefined)?.allowedCommands;
      if (allowed) io.stderr(`  allowed now: ${allowed.join(', ') || 'none'}\n`);
      return err.exitCode;
    }
    io.stderr(`mailferry: unexpected error: ${(err as Error).message}\n`);
    return 1;
  }
}
