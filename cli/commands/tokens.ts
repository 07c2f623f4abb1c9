import { Option, type Command } from 'commander';
import { action, enc, examples, type CliIo } from '../context';

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
              columns: ['name', 'owner', 'role', 'createdAt', 'lastUsedAt', 'revokedAt', 'id'],
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
      .action(
        action<{ name: string; owner: string; role: string }>(io, async (ctx, o) => {
          const res = await (
            await ctx.api()
          ).request('POST', '/tokens', {
            json: { name: o.name, owner: o.owner, role: o.role },
          });
          ctx.print({
            json: res,
            text: `created ${res.role} token "${res.name}" for ${res.owner}; it is shown only now:\n${res.token}\n`,
            csvRow: { id: res.id, name: res.name, owner: res.owner, role: res.role, token: res.token },
          });
        }),
      ),
    [
      'mailferry tokens create --name alice --owner alice@contoso.com --role admin',
      'mailferry tokens create --name ci --owner ci@contoso.com --role viewer --json',
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
