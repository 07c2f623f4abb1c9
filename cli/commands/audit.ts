import { Option, type Command } from 'commander';
import { action, examples, query, wholeNumber, type CliIo } from '../context';

interface AuditOptions {
  batch?: string;
  actor?: string;
  command?: string;
  outcome?: string;
  since?: string;
  until?: string;
  page?: number;
  pageSize?: number;
}

/** audit: the audit log (Search-AdminAuditLog). */
export function registerAudit(program: Command, io: CliIo): void {
  examples(
    program
      .command('audit')
      .description('The audit log: who gave which command to which batch, newest first (Search-AdminAuditLog)')
      .option('--batch <batch>', 'batch name or id (also of a removed batch)')
      .option('--actor <owner>', 'who gave the command (a token owner, or "policy")')
      .option('--command <command>', 'create, addMailboxes, start, stop, resume, complete, syncNow, edit, remove')
      .addOption(new Option('--outcome <outcome>', 'accepted or rejected').choices(['accepted', 'rejected']))
      .option('--since <time>', 'entries at or after this ISO 8601 time (with a time zone)')
      .option('--until <time>', 'entries before this ISO 8601 time (with a time zone)')
      .option('--page <n>', 'page number', wholeNumber)
      .option('--page-size <n>', 'entries per page (at most 500)', wholeNumber)
      .action(
        action<AuditOptions>(io, async (ctx, o) => {
          const res = await (
            await ctx.api()
          ).request(
            'GET',
            `/audit${query({
              batch: o.batch,
              actor: o.actor,
              command: o.command,
              outcome: o.outcome,
              since: o.since,
              until: o.until,
              page: o.page,
              pageSize: o.pageSize,
            })}`,
          );
          ctx.print({
            json: res,
            table: {
              rows: res.items,
              columns: ['at', { key: 'batchName', heading: 'batch' }, 'actor', 'command', 'outcome', 'detail'],
              footer: `${res.total} entr${res.total === 1 ? 'y' : 'ies'}, page ${res.page}`,
            },
          });
        }),
      ),
    [
      'mailferry audit',
      'mailferry audit --batch "Finance wave 1"',
      'mailferry audit --actor alice@contoso.com --outcome rejected',
      'mailferry audit --command remove --since 2026-12-01T00:00:00Z --output csv > removals.csv',
    ],
  );
}
