import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, enc, examples, type CliIo } from '../context';

const UNIT_MS = { h: 3_600_000, d: 86_400_000 } as const;

/** `--expires`: an ISO 8601 time, or a duration from now (`90d`, `12h`), as the ISO time the API takes. */
function expiryTime(value: string): string {
  const duration = /^(\d{1,5})([hd])$/.exec(value);
  if (duration) return new Date(Date.now() + Number(duration[1]) * UNIT_MS[duration[2] as 'h' | 'd']).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new InvalidArgumentError('give a duration such as 90d or 12h, or an ISO 8601 time with a zone');
}

export function registerTokens(program: Command, io: CliIo): void {
  const tokens = examples(program.command('tokens').description('API tokens (admin only)'), ['mailferry tokens list']);

  examples(
    tokens
      .command('list')
      .description('Lists tokens, never their values')
      .action(
        action(io, async (ctx) => {
          const res = await (await ctx.api()).request('GET', '/tokens');
          ctx.print({
            json: res,
            table: {
              rows: res.items,
              columns: ['name', 'owner', 'role', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt', 'id'],
            },
          });
        }),
      ),
    ['mailferry tokens list'],
  );

  examples(
    tokens
      .command('create')
      .description('Creates a token; its value is printed once, now')
      .requiredOption('--name <name>', 'token name')
      .requiredOption('--owner <owner>', 'who uses it (recorded as "Created by" and in the audit log)')
      .addOption(
        new Option('--role <role>', 'admin may do everything, viewer may only read')
          .choices(['admin', 'viewer'])
          .makeOptionMandatory(),
      )
      .option('--expires <when>', 'stop accepting it after a duration (90d, 12h) or at an ISO 8601 time', expiryTime)
      .action(
        action<{ name: string; owner: string; role: string; expires?: string }>(io, async (ctx, o) => {
          const res = await (
            await ctx.api()
          ).request('POST', '/tokens', {
            json: { name: o.name, owner: o.owner, role: o.role, ...(o.expires ? { expiresAt: o.expires } : {}) },
          });
          const until = res.expiresAt ? `, valid until ${res.expiresAt}` : '';
          ctx.print({
            json: res,
            text: `created ${res.role} token "${res.name}" for ${res.owner}${until}; it is shown only now:\n${res.token}\n`,
            csvRow: {
              id: res.id,
              name: res.name,
              owner: res.owner,
              role: res.role,
              expiresAt: res.expiresAt,
              token: res.token,
            },
          });
        }),
      ),
    [
      'mailferry tokens create --name alice --owner alice@contoso.com --role admin',
      'mailferry tokens create --name ci --owner ci@contoso.com --role viewer --expires 90d --json',
    ],
  );

  examples(
    tokens
      .command('revoke')
      .argument('<id>', 'token id (from tokens list)')
      .description('Revokes a token at once')
      .action(
        action(io, async (ctx, _o, id) => {
          const res = await (await ctx.api()).request('DELETE', `/tokens/${enc(id!)}`);
          ctx.print({ json: res, text: `revoked token "${res.name}"\n` });
        }),
      ),
    ['mailferry tokens revoke <id>   # the id from tokens list'],
  );
}
