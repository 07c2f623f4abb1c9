import { InvalidArgumentError, type Command } from 'commander';
import { MAILBOX_STATUSES } from '../../domain/batch-status';
import { CliError, type ApiClient } from '../client';
import { action, commaList, examples, query, readPassword, wholeNumber, type CliIo, type Context } from '../context';
import { bytes, record, type Colors } from '../output';
import { watchUser } from '../watch';
import { statusList } from './batches';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration user as the API returns it (openapi.json MigrationUser)
type User = any;

/**
 * Finds the migration user an admin names: a mailbox id, or an address (with --batch when the address is in
 * several batches).
 */
async function findUser(api: ApiClient, ref: string, batch: string | undefined): Promise<User> {
  if (/^\d+$/.test(ref)) return api.request('GET', `/mailboxes/${ref}`);
  const found = await api.request('GET', `/mailboxes${query({ email: ref, batch })}`);
  if (found.total === 0) {
    const where = batch ? ` in batch "${batch}"` : '';
    throw new CliError(`no mailbox ${ref}${where} (MAILBOX_NOT_FOUND)`, 1, 'MAILBOX_NOT_FOUND');
  }
  if (found.total > 1) {
    const batches = found.items.map((u: User) => `"${u.batch.name}"`).join(', ');
    throw new CliError(`${ref} is in several batches (${batches}): name one with --batch`, 2, 'USAGE');
  }
  return found.items[0];
}

/** A mailbox's own skip settings: "calendars out, tasks as the batch, contacts in". */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
const ownSkips = (o: any): string =>
  (
    [
      ['calendars', o.skipCalendar],
      ['tasks', o.skipTasks],
      ['contacts', o.skipContacts],
    ] as const
  )
    .map(([what, skip]) => `${what} ${skip === null ? 'as the batch' : skip ? 'out' : 'in'}`)
    .join(', ');

export function userRecord(u: User, c: Colors): string {
  const o = u.overrides;
  return record(
    [
      ['Email address', u.emailAddress],
      ['Batch', `${u.batch.name} (${u.batch.status})`],
      ['Status', u.status],
      ['Items synced', `${u.itemsSynced} of ${u.itemsTotal}`],
      ['By kind', `${u.mailItemsSynced} mail, ${u.calendarItemsSynced} calendar items, ${u.contactsSynced} contacts`],
      ['Items skipped', u.itemsSkipped],
      ['Size synced', bytes(u.bytesSynced)],
      ['Folders synced', `${u.foldersSynced} of ${u.foldersTotal}`],
      ['Current folder', u.currentFolder],
      ['Started', u.startedAt],
      ['Initial sync', u.initialSyncAt],
      ['Last synced', u.lastSyncedAt],
      ['Finalized', u.finalizedAt],
      ['Last error', u.lastError && `${u.lastError} (${u.lastErrorCode})`],
      ['Consistency', consistencyText(u.consistency)],
      ['Start after (own)', o.startAfter],
      ['Bad item limit (own)', o.badItemLimit],
      ['Large item limit (own)', o.largeItemLimit],
      ['Folder include (own)', o.folderInclude],
      ['Folder exclude (own)', o.folderExclude],
      ['Left out (own)', [o.skipCalendar, o.skipTasks, o.skipContacts].some((v) => v !== null) ? ownSkips(o) : null],
      ['Allowed commands', u.allowedCommands.join(', ')],
    ],
    c,
  );
}

/** A mailbox's last verification in a few words; its differences one per line below. */
function consistencyText(c: User['consistency']): string {
  if (!c) return 'not verified';
  const approved = c.approvedAt ? `, approved by ${c.approvedBy}` : '';
  const head = `${c.grade} (${c.differenceCount} difference(s), ${c.deep ? 'deep, ' : ''}verified ${c.verifiedAt}${approved})`;
  const lines = c.differences
    .slice(0, 20)
    .map(
      (d: User) =>
        `\n  ${d.type} in ${d.folder} (${d.side}): ${d.subject ?? d.messageId ?? ''}${d.detail ? ` - ${d.detail}` : ''}`,
    );
  return head + lines.join('');
}

const USER_CSV_FIELDS = ['id', 'emailAddress', 'status', 'itemsSynced', 'itemsSkipped', 'bytesSynced', 'lastError'];
const userCsvRow = (u: User) => ({
  ...Object.fromEntries(USER_CSV_FIELDS.map((k) => [k, u[k]])),
  batch: u.batch.name,
});

/** `none` puts a setting back to the batch's value. */
const orNone =
  <T>(parse: (v: string) => T) =>
  (value: string): T | null =>
    value === 'none' ? null : parse(value);

const COMMANDS = [
  ['stop', 'Stops this mailbox only; the rest of the batch goes on (Stop-MigrationUser)'],
  ['start', 'Syncs this mailbox now: retries a failed one, resyncs a synced one (Start-MigrationUser)'],
  ['resume', 'Resumes a stopped or failed mailbox now'],
  ['remove', 'Removes the mailbox from its batch; mail already copied stays (Remove-MigrationUser)'],
] as const;

interface SetOptions {
  batch?: string;
  startAfter?: string | null;
  badItemLimit?: number | null;
  largeItemLimit?: number | null;
  folderInclude?: string[] | null;
  folderExclude?: string[] | null;
  skipCalendar?: boolean | null;
  skipContacts?: boolean | null;
  skipTasks?: boolean | null;
}

/** yes, no, or none (the batch's value) for a mailbox's skip settings. */
const yesNoOrNone = (value: string): boolean | null => {
  if (value === 'yes' || value === 'no') return value === 'yes';
  if (value === 'none') return null;
  throw new InvalidArgumentError('give yes, no or none');
};

export function registerUsers(program: Command, io: CliIo): void {
  const users = examples(
    program
      .command('users')
      .description(
        'Migration users, one mailbox at a time: find, stop, start, move, set (the *-MigrationUser cmdlets)',
      ),
    ['mailferry users show alice@contoso.com', 'mailferry users stop alice@contoso.com'],
  );

  /** The commands that name one user: `<user>` and `--batch`. */
  const userCommand = (name: string, description: string) =>
    users
      .command(name)
      .argument('<user>', 'the mailbox: its email address, or its id')
      .option('--batch <batch>', 'the batch (name or id), when the address is in several')
      .description(description);

  const printResult = (ctx: Context, res: User, verb: string) =>
    ctx.print({
      json: res,
      text: res.user
        ? `${verb}: accepted; ${res.user.emailAddress} is ${res.user.status} in batch "${res.user.batch.name}"\n`
        : `${verb}: accepted; the mailbox has left its batch\n`,
      ...(res.user ? { csvRow: { command: verb, ...userCsvRow(res.user) } } : {}),
    });

  examples(
    users
      .command('list')
      .description('Lists migration users (Get-MigrationUser): of one batch, or one address across batches')
      .option('--batch <batch>', 'only this batch (name or id)')
      .option('--email <address>', 'only this address')
      .option(
        '--status <statuses>',
        `only these statuses, comma-separated (${MAILBOX_STATUSES.join(', ')})`,
        statusList(MAILBOX_STATUSES),
      )
      .option('--page <n>', 'page number', wholeNumber)
      .option('--page-size <n>', 'users per page (at most 500)', wholeNumber)
      .action(
        action<{ batch?: string; email?: string; status?: string[]; page?: number; pageSize?: number }>(
          io,
          async (ctx, o) => {
            const res = await (
              await ctx.api()
            ).request(
              'GET',
              `/mailboxes${query({ batch: o.batch, email: o.email, status: o.status, page: o.page, pageSize: o.pageSize })}`,
            );
            ctx.print({
              json: res,
              table: {
                rows: res.items.map((u: User) => ({ ...u, batch: u.batch.name })),
                columns: ['emailAddress', 'batch', 'status', 'itemsSynced', 'itemsSkipped', 'bytesSynced', 'lastError'],
                footer: `${res.total} user(s), page ${res.page}`,
              },
            });
          },
        ),
      ),
    [
      'mailferry users list --batch "Finance wave 1"',
      'mailferry users list --batch wave1 --status Failed --output csv',
    ],
  );

  examples(
    userCommand('show', 'One migration user with its statistics (Get-MigrationUserStatistics)')
      .option('--include-skipped-items', 'list the items it left behind (-IncludeSkippedItems)')
      .action(
        action<{ batch?: string; includeSkippedItems?: boolean }>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const found = await findUser(api, ref!, o.batch);
          const user = await api.request(
            'GET',
            `/mailboxes/${found.id}${query({ includeSkippedItems: o.includeSkippedItems ? 'true' : undefined })}`,
          );
          const skipped = user.skippedItems
            ? `\nSkipped items (${user.skippedItems.total}):\n` +
              user.skippedItems.items
                .map((i: User) => `  ${i.folder}  ${i.subject ?? ''}  ${bytes(i.sizeBytes)}  ${i.reason}\n`)
                .join('')
            : '';
          ctx.print({ json: user, text: userRecord(user, ctx.colors) + skipped, csvRow: userCsvRow(user) });
        }),
      ),
    ['mailferry users show alice@contoso.com', 'mailferry users show alice@contoso.com --include-skipped-items'],
  );

  for (const [verb, description] of COMMANDS) {
    examples(
      userCommand(verb, description).action(
        action<{ batch?: string }>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const user = await findUser(api, ref!, o.batch);
          printResult(ctx, await api.request('POST', `/mailboxes/${user.id}/${verb}`), verb);
        }),
      ),
      [`mailferry users ${verb} alice@contoso.com`, `mailferry users ${verb} alice@contoso.com --batch wave1`],
    );
  }

  examples(
    userCommand('verify', 'Compares this mailbox on both servers (read-only) and grades it; see it with users show')
      .option('--deep', 'compare full contents too (slower)')
      .action(
        action<{ batch?: string; deep?: boolean }>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const user = await findUser(api, ref!, o.batch);
          const body = o.deep ? { deep: true } : {};
          printResult(ctx, await api.request('POST', `/mailboxes/${user.id}/verify`, { json: body }), 'verify');
        }),
      ),
    ['mailferry users verify alice@contoso.com', 'mailferry users verify alice@contoso.com --deep'],
  );

  examples(
    userCommand(
      'approve',
      "Approves the differences of the mailbox's last verification, so Complete goes ahead (approveSkippedItems)",
    ).action(
      action<{ batch?: string }>(io, async (ctx, o, ref) => {
        const api = await ctx.api();
        const user = await findUser(api, ref!, o.batch);
        const res = await api.request('POST', `/mailboxes/${user.id}/approve-skipped-items`);
        ctx.print({
          json: res,
          text: `approve: accepted; the ${res.user?.consistency?.grade ?? ''} differences of ${user.emailAddress} are approved\n`,
          ...(res.user ? { csvRow: { command: 'approve', ...userCsvRow(res.user) } } : {}),
        });
      }),
    ),
    ['mailferry users approve bob@contoso.com'],
  );

  examples(
    userCommand('move', 'Moves the mailbox to another batch with the same endpoints; nothing is copied twice')
      .requiredOption('--to <batch>', 'the batch to move it to (name or id)')
      .action(
        action<{ batch?: string; to: string }>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const user = await findUser(api, ref!, o.batch);
          const res = await api.request('POST', `/mailboxes/${user.id}/move`, { json: { targetBatch: o.to } });
          printResult(ctx, res, 'move');
        }),
      ),
    ['mailferry users move alice@contoso.com --to "Finance wave 2"'],
  );

  examples(
    userCommand('set', "Settings of this mailbox that win over its batch's (Set-MigrationUser); none: the batch's")
      .option('--start-after <time>', 'ISO 8601 time before which the mailbox is not synced, or none', orNone(String))
      .option('--bad-item-limit <n>', 'bad items it may skip, or none', orNone(wholeNumber))
      .option('--large-item-limit <n>', 'large items it may skip, or none', orNone(wholeNumber))
      .option('--folder-include <folders>', 'only these folders, comma-separated, or none', orNone(commaList))
      .option('--folder-exclude <folders>', 'skip these folders, comma-separated, or none', orNone(commaList))
      .option(
        '--skip-calendar <yes|no|none>',
        'leave its calendars out (yes), in (no), or as the batch says',
        yesNoOrNone,
      )
      .option('--skip-contacts <yes|no|none>', 'leave its address books out, in, or as the batch says', yesNoOrNone)
      .option('--skip-tasks <yes|no|none>', 'leave its tasks out, in, or as the batch says', yesNoOrNone)
      .action(
        action<SetOptions>(io, async (ctx, o, ref) => {
          const { batch, ...overrides } = o;
          if (Object.keys(overrides).length === 0) {
            throw new CliError('nothing to change: give at least one option (see --help)', 2, 'USAGE');
          }
          const api = await ctx.api();
          const user = await findUser(api, ref!, batch);
          printResult(ctx, await api.request('POST', `/mailboxes/${user.id}/set`, { json: overrides }), 'set');
        }),
      ),
    [
      'mailferry users set alice@contoso.com --large-item-limit 5 --folder-exclude Junk,Trash',
      'mailferry users set alice@contoso.com --start-after 2026-12-24T18:00:00Z',
      'mailferry users set alice@contoso.com --bad-item-limit none',
      'mailferry users set alice@contoso.com --skip-calendar yes --skip-contacts none',
    ],
  );

  examples(
    userCommand('set-password', "A new password for the mailbox's login, when it changed on the server (AUTH_FAILED)")
      .option('--destination', "the destination login's password (default: the source's)")
      .option('--password-file <file>', 'read the password from this file')
      .option('--password-stdin', 'read the password from standard input')
      .option('--resume', 'resume the mailbox at once')
      .addHelpText(
        'after',
        '\nWithout --password-file or --password-stdin, it asks on the terminal (no echo), else reads standard input.\n',
      )
      .action(
        action<{
          batch?: string;
          destination?: boolean;
          passwordFile?: string;
          passwordStdin?: boolean;
          resume?: boolean;
        }>(io, async (ctx, o, ref) => {
          const side = o.destination ? 'destination' : 'source';
          // Without a file: the terminal asks (no echo); without a terminal, standard input is read.
          const password = await readPassword(
            ctx,
            { file: o.passwordFile, stdin: o.passwordStdin || !ctx.io.promptSecret },
            `new ${side} password of ${ref}: `,
          );
          if (!password) throw new CliError('give the password with --password-file or --password-stdin', 2, 'USAGE');
          const api = await ctx.api();
          const user = await findUser(api, ref!, o.batch);
          const res = await api.request('POST', `/mailboxes/${user.id}/set-password`, {
            json: { side, password, resume: Boolean(o.resume) },
          });
          printResult(ctx, res, res.resumed ? 'set-password and resume' : 'set-password');
        }),
      ),
    [
      'mailferry users set-password alice@contoso.com --resume',
      'mailferry users set-password alice@contoso.com --password-file new-password.txt --resume',
      'mailferry users set-password alice@contoso.com --destination --password-stdin < pw.txt',
    ],
  );

  examples(
    userCommand('watch', 'Live progress of one mailbox until it settles')
      .option('--interval <seconds>', 'seconds between polls', wholeNumber, 2)
      .addHelpText(
        'after',
        '\nExit code 0 when the mailbox is Synced or Completed; 1 when it is Failed or Stopped, or leaves its batch.\n',
      )
      .action(
        action<{ batch?: string; interval: number }>(io, async (ctx, o, ref) => {
          const user = await findUser(await ctx.api(), ref!, o.batch);
          const end = await watchUser(ctx, user.id, { intervalMs: Math.max(1, o.interval) * 1000 });
          if (!end.ok) throw new CliError(end.message, 1, 'MAILBOX_NOT_SYNCED');
        }),
      ),
    ['mailferry users start alice@contoso.com && mailferry users watch alice@contoso.com'],
  );
}
