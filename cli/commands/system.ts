import type { Command } from 'commander';
import { ApiClient, CliError } from '../client';
import { authHint, removeConfig, resolveTarget, writeConfig } from '../config';
import { action, examples, type CliIo } from '../context';

/** health, me, statistics, login, logout. */
export function registerSystem(program: Command, io: CliIo): void {
  examples(
    program
      .command('health')
      .description('Checks that the API, PostgreSQL and Temporal answer, and that a worker polls (no token needed)')
      .action(
        action(io, async (ctx) => {
          const res = await (await ctx.api()).request('GET', '/health');
          const workers = res.checks.workers;
          ctx.print({
            json: res,
            text:
              `ok: PostgreSQL ${res.checks.postgres.latencyMs} ms, Temporal ${res.checks.temporal.latencyMs} ms` +
              (workers ? `, workers ${workers.pollers}` : '') +
              '\n' +
              (workers && !workers.ok ? `warning: ${workers.message}\n` : ''),
            csvRow: {
              status: res.status ?? 'ok',
              postgresMs: res.checks.postgres.latencyMs,
              temporalMs: res.checks.temporal.latencyMs,
              workersOk: workers?.ok,
              workers: workers?.pollers,
            },
          });
        }),
      ),
    ['mailferry health', 'mailferry health --url https://mailferry.contoso.com'],
  );

  examples(
    program
      .command('me')
      .description('Shows whose token this is and its role')
      .action(
        action(io, async (ctx) => {
          const res = await (await ctx.api()).request('GET', '/me');
          ctx.print({ json: res, text: `${res.name} (${res.owner}), role ${res.role}\n` });
        }),
      ),
    ['mailferry me', 'mailferry me --json'],
  );

  examples(
    program
      .command('statistics')
      .description('Mailbox totals across all batches')
      .action(
        action(io, async (ctx) => {
          const res = await (await ctx.api()).request('GET', '/statistics');
          ctx.print({
            json: res,
            table: {
              rows: [res],
              columns: ['batches', 'totalMailboxes', 'syncedMailboxes', 'finalizedMailboxes', 'failedMailboxes'],
            },
          });
        }),
      ),
    ['mailferry statistics', 'mailferry statistics --output csv'],
  );

  examples(
    program
      .command('login')
      .description(
        'Checks a token against the API and saves URL and token to the config file (mode 0600); ' +
          'later commands use them',
      )
      .option('--token-stdin', 'read the token from standard input (keeps it out of the shell history)')
      .addHelpText(
        'after',
        '\nThe token is --token, --token-stdin, MAILFERRY_TOKEN or, on the machine that runs the product, the data\n' +
          "dir's initial-admin-token. The file is $XDG_CONFIG_HOME/mailferry/config.json (default ~/.config/...).\n",
      )
      .action(
        action<{ tokenStdin?: boolean }>(io, async (ctx, opts) => {
          let target = await resolveTarget(io.env, ctx.globals, { skipConfigToken: true });
          if (opts.tokenStdin) {
            if (!io.readStdin) throw new CliError('no standard input to read the token from', 2, 'USAGE');
            const token = (await io.readStdin()).trim();
            if (!token) throw new CliError('standard input held no token', 2, 'USAGE');
            target = { ...target, token, tokenSource: 'flag' };
          }
          if (!target.token) {
            throw new CliError('no token to log in with: give --token, --token-stdin or MAILFERRY_TOKEN', 2, 'USAGE');
          }
          const client = new ApiClient({
            baseUrl: target.url,
            token: target.token,
            fetch: io.fetch,
            authHint: authHint(target),
          });
          const me = await client.request('GET', '/me');
          const file = await writeConfig(io.env, { url: target.url, token: target.token });
          ctx.print({
            json: { url: target.url, name: me.name, owner: me.owner, role: me.role, configFile: file },
            text: `logged in to ${target.url} as ${me.name} (${me.owner}), role ${me.role}; saved to ${file}\n`,
          });
        }),
      ),
    [
      'mailferry login    # on the machine that runs npm start: saves the initial admin token',
      'mailferry login --url https://mailferry.contoso.com --token-stdin < token.txt',
    ],
  );

  examples(
    program
      .command('logout')
      .description('Removes the saved URL and token (the token itself stays valid: revoke it with tokens revoke)')
      .action(
        action(io, async (ctx) => {
          const file = await removeConfig(io.env);
          ctx.print({
            json: { removed: file ?? null },
            text: file ? `removed ${file}\n` : 'not logged in: no config file\n',
          });
        }),
      ),
    ['mailferry logout'],
  );
}
