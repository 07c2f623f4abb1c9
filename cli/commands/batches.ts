import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BATCH_STATUSES, MAILBOX_STATUSES } from '../../domain/batch-status';
import { CliError, type ApiClient } from '../client';
import { action, commaList, enc, examples, query, readUserFile, wholeNumber, type CliIo } from '../context';
import { record, type Colors } from '../output';
import { endpointId } from './endpoints';
import { watchBatch } from '../watch';

const SORTS = ['name', 'status', 'createdAt', 'total', 'synced', 'finalized', 'failed', 'percentageSynced'];

/** Statuses as a comma-separated list, each checked against `allowed` (a usage error otherwise). */
export function statusList(allowed: readonly string[]) {
  return (value: string) => {
    const list = commaList(value);
    const bad = list.find((s) => !allowed.includes(s));
    if (bad !== undefined) {
      throw new InvalidArgumentError(`"${bad}" is not one of ${allowed.join(', ')}`);
    }
    return list;
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a batch as the API returns it (shape: openapi.json)
export function batchRecord(b: any, c: Colors): string {
  return record(
    [
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
      ['Start after', b.startAfter],
      ['Complete after', b.completeAfter],
      ['Auto complete', b.autoComplete ? 'yes' : 'no'],
      ['Bad item limit', b.badItemLimit],
      ['Large item limit', b.largeItemLimit],
      ['Folder include', b.folderInclude],
      ['Folder exclude', b.folderExclude],
      ['Left out', leftOut(b) || 'nothing'],
      [
        'Items synced',
        b.items
          ? `${b.items.synced}: ${b.items.mail} mail, ${b.items.calendar} calendar, ${b.items.contacts} contacts`
          : '',
      ],
      ['Source', b.sourceEndpoint ? `${b.sourceEndpoint.name} (${b.sourceEndpoint.host})` : ''],
      ['Destination', b.destinationEndpoint ? `${b.destinationEndpoint.name} (${b.destinationEndpoint.host})` : ''],
      ['Next sync', b.nextIncrementalSyncAt],
      [
        'Reports',
        b.skipReports || !b.notificationEmails?.length
          ? 'off'
          : `to ${b.notificationEmails.join(', ')}; every ${b.reportInterval} and when Synced/Completed/Failed`,
      ],
      ['Last report', b.lastReportAt],
      ['Report error', b.lastReportError],
      ['Last error', b.lastError],
      ['Consistency', b.grades ? gradeSummary(b.grades) : null],
      ['Verifying', b.verification ? `${b.verification.finished} mailbox(es) done` : null],
      ['Allowed commands', (b.allowedCommands ?? []).join(', ')],
      ['Workflow', b.temporalUiUrl ?? b.workflowId],
    ],
    c,
  );
}

/** Mailboxes per grade of their last verification: `Perfect 3, Good 1, Investigate 0, Poor 0, unverified 2`. */
export const gradeSummary = (grades: Record<string, number>) =>
  Object.entries(grades)
    .map(([grade, n]) => `${grade} ${n}`)
    .join(', ');

/** What a batch (or a mailbox's overrides) leaves out of the calendars and contacts: "calendars, tasks". */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
export const leftOut = (s: any): string =>
  [s.skipCalendar && 'calendars', s.skipTasks && 'tasks', s.skipContacts && 'contacts'].filter(Boolean).join(', ');

/** The batch fields a CSV row of `show` carries. */
const BATCH_CSV_FIELDS = [
  'id',
  'name',
  'status',
  'requested',
  'synced',
  'finalized',
  'failed',
  'percentageSynced',
  'createdBy',
  'createdAt',
  'startedAt',
  'initialSyncAt',
  'lastSyncedAt',
  'completeAfter',
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
const batchCsvRow = (b: any) => Object.fromEntries(BATCH_CSV_FIELDS.map((k) => [k, b[k]]));

const COMMANDS = [
  ['start', 'POST', 'start', 'Starts a Created, Stopped or Failed batch (Start-MigrationBatch)'],
  ['stop', 'POST', 'stop', 'Stops (pauses) a Queued, Syncing or Synced batch (Stop-MigrationBatch)'],
  ['resume', 'POST', 'resume', 'Restarts a Stopped or Failed batch and retries its failed mailboxes'],
  ['complete', 'POST', 'complete', 'Final incremental sync of every mailbox, then Completed (Complete-MigrationBatch)'],
  ['sync-now', 'POST', 'sync-now', 'Runs the incremental sync of a Synced batch now'],
  ['delete', 'DELETE', '', 'Removes the batch and its data (Remove-MigrationBatch)'],
] as const;

interface CreateOptions {
  name: string;
  source: string;
  destination: string;
  csv: string;
  autoStart?: boolean;
  autoComplete?: boolean;
  startAfter?: string;
  completeAfter?: string;
  badItemLimit?: number;
  largeItemLimit?: number;
  folderInclude?: string[];
  folderExclude?: string[];
  notificationEmails?: string[];
  reportInterval?: string;
  skipReports?: boolean;
  skipCalendar?: boolean;
  skipContacts?: boolean;
  skipTasks?: boolean;
}

interface EditOptions {
  source?: string;
  destination?: string;
  startAfter?: string;
  completeAfter?: string;
  autoComplete?: boolean;
  badItemLimit?: number;
  largeItemLimit?: number;
  folderInclude?: string[];
  folderExclude?: string[];
  notificationEmails?: string[];
  reportInterval?: string;
  skipReports?: boolean;
  skipCalendar?: boolean;
  skipContacts?: boolean;
  skipTasks?: boolean;
}

/** What create and edit leave out of the calendars and contacts, as the API names it. */
const skipSettings = (o: { skipCalendar?: boolean; skipContacts?: boolean; skipTasks?: boolean }) => ({
  ...(o.skipCalendar !== undefined ? { skipCalendar: o.skipCalendar } : {}),
  ...(o.skipContacts !== undefined ? { skipContacts: o.skipContacts } : {}),
  ...(o.skipTasks !== undefined ? { skipTasks: o.skipTasks } : {}),
});

/** The e-mailed report settings of create and edit, as the API names them. */
const reportSettings = (o: { notificationEmails?: string[]; reportInterval?: string; skipReports?: boolean }) => ({
  ...(o.notificationEmails !== undefined ? { notificationEmails: o.notificationEmails } : {}),
  ...(o.reportInterval !== undefined ? { reportInterval: o.reportInterval } : {}),
  ...(o.skipReports !== undefined ? { skipReports: o.skipReports } : {}),
});

/** `none` clears a time; anything else goes to the API as it is (the API checks ISO 8601). */
const timeOrNone = (v: string | undefined) => (v === undefined ? undefined : v === 'none' ? null : v);

async function endpointIds(api: ApiClient, opts: { source?: string; destination?: string }) {
  return {
    ...(opts.source ? { sourceEndpointId: await endpointId(api, opts.source) } : {}),
    ...(opts.destination ? { destinationEndpointId: await endpointId(api, opts.destination) } : {}),
  };
}

export function registerBatches(program: Command, io: CliIo): void {
  const batches = examples(
    program
      .command('batches')
      .description('Migration batches: create, start, watch, complete (the *-MigrationBatch cmdlets)'),
    ['mailferry batches list', 'mailferry batches watch "Finance wave 1"'],
  );

  examples(
    batches
      .command('list')
      .description('Lists batches with their counts (Get-MigrationBatch)')
      .option(
        '--status <statuses>',
        `only these statuses, comma-separated (${BATCH_STATUSES.join(', ')})`,
        statusList(BATCH_STATUSES),
      )
      .option('--search <text>', 'part of the name')
      .addOption(new Option('--sort <column>', 'sort column').choices(SORTS))
      .addOption(new Option('--order <order>', 'sort order').choices(['asc', 'desc']))
      .option('--page <n>', 'page number', wholeNumber)
      .option('--page-size <n>', 'batches per page (at most 500)', wholeNumber)
      .action(
        action<{
          status?: string[];
          search?: string;
          sort?: string;
          order?: string;
          page?: number;
          pageSize?: number;
        }>(io, async (ctx, o) => {
          const res = await (
            await ctx.api()
          ).request(
            'GET',
            `/batches${query({ status: o.status, search: o.search, sort: o.sort, order: o.order, page: o.page, pageSize: o.pageSize })}`,
          );
          ctx.print({
            json: res,
            table: {
              // eslint-disable-next-line @typescript-eslint/no-explicit-any -- list rows as the API returns them
              rows: res.items.map((b: any) => ({ ...b, status: b.statusLabel, '%': b.percentageSynced })),
              columns: ['name', 'status', '%', 'total', 'synced', 'finalized', 'failed', 'createdAt'],
              footer: `${res.total} batch(es), page ${res.page}`,
            },
          });
        }),
      ),
    [
      'mailferry batches list',
      'mailferry batches list --status Synced,SyncedWithErrors --sort percentageSynced',
      'mailferry batches list --output csv > batches.csv',
    ],
  );

  examples(
    batches
      .command('show')
      .argument('<batch>', 'batch name or id')
      .description('Every statistic of one batch (Get-MigrationBatch -Identity)')
      .action(
        action(io, async (ctx, _o, ref) => {
          const res = await (await ctx.api()).request('GET', `/batches/${enc(ref!)}`);
          ctx.print({ json: res, text: batchRecord(res, ctx.colors), csvRow: batchCsvRow(res) });
        }),
      ),
    ['mailferry batches show "Finance wave 1"', 'mailferry batches show "Finance wave 1" --json'],
  );

  examples(
    batches
      .command('create')
      .description('Creates a batch from a CSV of mailboxes, all or nothing (New-MigrationBatch)')
      .requiredOption('--name <name>', 'batch name (letters, digits, space . _ -)')
      .requiredOption('--source <endpoint>', 'source endpoint name or id')
      .requiredOption('--destination <endpoint>', 'destination endpoint name or id')
      .requiredOption(
        '--csv <file>',
        'CSV with EmailAddress,UserName,Password[,DestinationUserName,DestinationPassword]',
      )
      .option('--auto-start', 'start the batch at once')
      .option('--auto-complete', 'complete the batch as soon as it is synced')
      .option('--start-after <time>', 'ISO 8601 time before which the batch waits (Queued)')
      .option('--complete-after <time>', 'ISO 8601 time at which the synced batch is completed')
      .option('--bad-item-limit <n>', 'bad items a mailbox may skip', wholeNumber)
      .option('--large-item-limit <n>', 'large items a mailbox may skip', wholeNumber)
      .option('--folder-include <folders>', 'only these folders, comma-separated', commaList)
      .option('--folder-exclude <folders>', 'skip these folders, comma-separated', commaList)
      .option('--notification-emails <addresses>', 'who gets the e-mailed reports, comma-separated', commaList)
      .option('--report-interval <duration>', 'time between summary reports while syncing (default 24h)')
      .option('--skip-reports', 'send no e-mailed reports')
      .option('--skip-calendar', "leave the mailboxes' calendars (events) out")
      .option('--skip-contacts', "leave the mailboxes' address books out")
      .option('--skip-tasks', "leave the mailboxes' tasks out")
      .addHelpText(
        'after',
        '\nThe CSV is checked as a whole: every problem is listed with its line, and nothing is created.\n',
      )
      .action(
        action<CreateOptions>(io, async (ctx, o) => {
          const csv = await readUserFile(o.csv);
          const api = await ctx.api();
          const body = {
            name: o.name,
            sourceEndpointId: await endpointId(api, o.source),
            destinationEndpointId: await endpointId(api, o.destination),
            csv,
            ...(o.autoStart ? { autoStart: true } : {}),
            ...(o.autoComplete ? { autoComplete: true } : {}),
            ...(o.startAfter ? { startAfter: o.startAfter } : {}),
            ...(o.completeAfter ? { completeAfter: o.completeAfter } : {}),
            ...(o.badItemLimit !== undefined ? { badItemLimit: o.badItemLimit } : {}),
            ...(o.largeItemLimit !== undefined ? { largeItemLimit: o.largeItemLimit } : {}),
            ...(o.folderInclude ? { folderInclude: o.folderInclude } : {}),
            ...(o.folderExclude ? { folderExclude: o.folderExclude } : {}),
            ...reportSettings(o),
            ...skipSettings(o),
          };
          const res = await api.request('POST', '/batches', { json: body });
          ctx.print({
            json: res,
            text: `created batch "${res.name}" (${res.id}) with ${res.total} mailbox(es), status ${res.statusLabel}\n`,
            csvRow: batchCsvRow(res),
          });
        }),
      ),
    [
      'mailferry batches create --name "Finance wave 1" --source "Old Dovecot" --destination "M365" --csv wave1.csv',
      'mailferry batches create --name wave2 --source old --destination new --csv wave2.csv --auto-start --folder-exclude Junk,Trash',
      'mailferry batches create --name wave3 --source old --destination new --csv wave2.csv --notification-emails ops@contoso.com,it@contoso.com',
      'mailferry batches create --name wave4 --source old --destination new --csv wave2.csv --skip-calendar --skip-tasks',
    ],
  );

  examples(
    batches
      .command('edit')
      .argument('<batch>', 'batch name or id')
      .description("Changes a batch's settings (Set-MigrationBatch)")
      .option('--source <endpoint>', 'source endpoint name or id')
      .option('--destination <endpoint>', 'destination endpoint name or id')
      .option('--start-after <time>', 'ISO 8601 time, or none')
      .option('--complete-after <time>', 'ISO 8601 time at which the synced batch is completed, or none')
      .option('--auto-complete', 'complete the batch as soon as it is synced')
      .option('--no-auto-complete', 'wait for --complete-after or a complete command')
      .option('--bad-item-limit <n>', 'bad items a mailbox may skip', wholeNumber)
      .option('--large-item-limit <n>', 'large items a mailbox may skip', wholeNumber)
      .option('--folder-include <folders>', 'only these folders, comma-separated ("" for all)', commaList)
      .option('--folder-exclude <folders>', 'skip these folders, comma-separated ("" for none)', commaList)
      .option('--notification-emails <addresses>', 'who gets the reports, comma-separated ("" for nobody)', commaList)
      .option('--report-interval <duration>', 'time between summary reports while syncing, such as 24h or 7d')
      .option('--skip-reports', 'send no e-mailed reports')
      .option('--no-skip-reports', 'send the e-mailed reports again')
      .option('--skip-calendar', 'leave calendars (events) out of the next passes')
      .option('--no-skip-calendar', 'copy the calendars again')
      .option('--skip-contacts', 'leave address books out of the next passes')
      .option('--no-skip-contacts', 'copy the address books again')
      .option('--skip-tasks', 'leave tasks out of the next passes')
      .option('--no-skip-tasks', 'copy the tasks again')
      .action(
        action<EditOptions>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const body = {
            ...(await endpointIds(api, o)),
            ...(o.startAfter !== undefined ? { startAfter: timeOrNone(o.startAfter) } : {}),
            ...(o.completeAfter !== undefined ? { completeAfter: timeOrNone(o.completeAfter) } : {}),
            ...(o.autoComplete !== undefined ? { autoComplete: o.autoComplete } : {}),
            ...(o.badItemLimit !== undefined ? { badItemLimit: o.badItemLimit } : {}),
            ...(o.largeItemLimit !== undefined ? { largeItemLimit: o.largeItemLimit } : {}),
            ...(o.folderInclude !== undefined ? { folderInclude: o.folderInclude } : {}),
            ...(o.folderExclude !== undefined ? { folderExclude: o.folderExclude } : {}),
            ...reportSettings(o),
            ...skipSettings(o),
          };
          if (Object.keys(body).length === 0) {
            throw new CliError('nothing to change: give at least one option (see --help)', 2, 'USAGE');
          }
          const res = await api.request('PATCH', `/batches/${enc(ref!)}`, { json: body });
          ctx.print({
            json: res,
            text: `edit: accepted; batch "${res.batch.name}" is ${res.batch.statusLabel}\n`,
            csvRow: { command: res.command, outcome: res.outcome, ...batchCsvRow(res.batch) },
          });
        }),
      ),
    [
      'mailferry batches edit "Finance wave 1" --complete-after 2026-12-31T18:00:00Z',
      'mailferry batches edit "Finance wave 1" --bad-item-limit 20 --folder-exclude Junk',
      'mailferry batches edit "Finance wave 1" --notification-emails ops@contoso.com --report-interval 7d',
    ],
  );

  for (const [verb, method, path, description] of COMMANDS) {
    examples(
      batches
        .command(verb)
        .argument('<batch>', 'batch name or id')
        .description(description)
        .action(
          action(io, async (ctx, _o, ref) => {
            const res = await (await ctx.api()).request(method, `/batches/${enc(ref!)}${path ? `/${path}` : ''}`);
            ctx.print({
              json: res,
              text:
                res.outcome === 'alreadyApplied'
                  ? `${verb}: already in effect; batch "${res.batch.name}" is ${res.batch.statusLabel}\n`
                  : `${verb}: accepted; batch "${res.batch.name}" is ${res.batch.statusLabel}\n`,
              csvRow: { command: res.command, outcome: res.outcome, ...batchCsvRow(res.batch) },
            });
          }),
        ),
      [`mailferry batches ${verb} "Finance wave 1"`],
    );
  }

  examples(
    batches
      .command('verify')
      .argument('<batch>', 'batch name or id')
      .description(
        'Compares every synced mailbox on both servers (read-only) and grades it Perfect, Good, Investigate or Poor',
      )
      .option('--deep', 'compare full contents too, not only Message-ID, size, date and flags (slower)')
      .option('--watch', 'wait until every mailbox is verified and show the grades')
      .option('--interval <seconds>', 'seconds between polls with --watch', wholeNumber, 2)
      .addHelpText(
        'after',
        '\nThe batch stays as it is (Synced, Stopped, Completed) while its mailboxes are verified. With --watch the\n' +
          'exit code is 1 when a mailbox is graded Investigate or Poor: Complete then waits until its differences are\n' +
          'approved (users approve). The differences of each mailbox: batches mailboxes --json, or users show.\n',
      )
      .action(
        action<{ deep?: boolean; watch?: boolean; interval: number }>(io, async (ctx, o, ref) => {
          const api = await ctx.api();
          const res = await api.request('POST', `/batches/${enc(ref!)}/verify`, { json: o.deep ? { deep: true } : {} });
          const kind = o.deep ? 'deep verification' : 'verification';
          if (!o.watch) {
            ctx.print({
              json: res,
              text: `verify: accepted; batch "${res.batch.name}" is under ${kind} (batches show for the grades)\n`,
              csvRow: { command: res.command, outcome: res.outcome, ...batchCsvRow(res.batch) },
            });
            return;
          }
          const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
          let batch = res.batch;
          while (batch.verification) {
            await sleep(Math.max(1, o.interval) * 1000);
            batch = await api.request('GET', `/batches/${enc(res.batch.id)}`);
          }
          ctx.print({
            json: batch,
            text: `verified batch "${batch.name}": ${gradeSummary(batch.grades)}\n`,
            csvRow: { ...batchCsvRow(batch), ...batch.grades },
          });
          const doubtful = batch.grades.Investigate + batch.grades.Poor;
          if (doubtful > 0) {
            throw new CliError(
              `${doubtful} mailbox(es) graded Investigate or Poor: review their differences, then users approve`,
              1,
              'CONSISTENCY_NOT_APPROVED',
            );
          }
        }),
      ),
    ['mailferry batches verify "Finance wave 1" --watch', 'mailferry batches verify "Finance wave 1" --deep'],
  );

  examples(
    batches
      .command('add-mailboxes')
      .argument('<batch>', 'batch name or id')
      .description('Adds mailboxes from a CSV (synced from the next start or resume)')
      .requiredOption('--csv <file>', 'CSV with the same columns as batches create')
      .action(
        action<{ csv: string }>(io, async (ctx, o, ref) => {
          const csv = await readUserFile(o.csv);
          const res = await (await ctx.api()).request('POST', `/batches/${enc(ref!)}/mailboxes`, { json: { csv } });
          ctx.print({ json: res, text: `added ${res.added} mailbox(es); the batch has ${res.total}\n` });
        }),
      ),
    ['mailferry batches add-mailboxes "Finance wave 1" --csv late-joiners.csv'],
  );

  examples(
    batches
      .command('mailboxes')
      .argument('<batch>', 'batch name or id')
      .description("The batch's migration users report (Get-MigrationUser, Get-MigrationUserStatistics)")
      .option(
        '--status <statuses>',
        `only these statuses, comma-separated (${MAILBOX_STATUSES.join(', ')})`,
        statusList(MAILBOX_STATUSES),
      )
      .option('--search <text>', 'part of the email address')
      .option('--page <n>', 'page number', wholeNumber)
      .option('--page-size <n>', 'mailboxes per page (at most 500)', wholeNumber)
      .option('--export <file>', 'write the whole report as CSV to this file')
      .action(
        action<{ status?: string[]; search?: string; page?: number; pageSize?: number; export?: string }>(
          io,
          async (ctx, o, ref) => {
            const api = await ctx.api();
            if (o.export) {
              const text = await api.request<string>(
                'GET',
                `/batches/${enc(ref!)}/mailboxes.csv${query({ status: o.status, search: o.search })}`,
                undefined,
                'text',
              );
              await writeFile(o.export, text);
              io.stdout(`wrote ${text.trim().split('\n').length - 1} mailbox(es) to ${o.export}\n`);
              return;
            }
            const res = await api.request(
              'GET',
              `/batches/${enc(ref!)}/mailboxes${query({ status: o.status, search: o.search, page: o.page, pageSize: o.pageSize })}`,
            );
            ctx.print({
              json: res,
              table: {
                rows: res.items,
                columns: [
                  'emailAddress',
                  'status',
                  'itemsSynced',
                  'itemsSkipped',
                  'bytesSynced',
                  'lastSyncedAt',
                  'lastError',
                  // Of itemsSynced, by kind; last, as in the API's CSV, so scripts reading the columns before go on.
                  'mailItemsSynced',
                  'calendarItemsSynced',
                  'contactsSynced',
                ],
                footer: `${res.total} mailbox(es), page ${res.page}`,
              },
            });
          },
        ),
      ),
    [
      'mailferry batches mailboxes "Finance wave 1" --status Failed',
      'mailferry batches mailboxes "Finance wave 1" --export report.csv',
      'mailferry batches mailboxes "Finance wave 1" --output csv',
    ],
  );

  examples(
    batches
      .command('skipped-items')
      .argument('<batch>', 'batch name or id')
      .argument('<mailbox>', 'the mailbox: its email address, or its id from batches mailboxes --json')
      .description('Items a mailbox left behind: too large, refused by the destination')
      .option('--page <n>', 'page number', wholeNumber)
      .option('--page-size <n>', 'items per page (at most 500)', wholeNumber)
      .action(
        action<{ page?: number; pageSize?: number }>(io, async (ctx, o, ref, mailbox) => {
          const api = await ctx.api();
          let mailboxId = mailbox!;
          if (!/^\d+$/.test(mailboxId)) {
            const found = await api.request('GET', `/batches/${enc(ref!)}/mailboxes${query({ search: mailboxId })}`);
            const match = found.items.find(
              (m: { emailAddress: string }) => m.emailAddress.toLowerCase() === mailboxId.toLowerCase(),
            );
            if (!match)
              throw new CliError(
                `no mailbox ${mailboxId} in batch "${ref}" (MAILBOX_NOT_FOUND)`,
                1,
                'MAILBOX_NOT_FOUND',
              );
            mailboxId = match.id;
          }
          const res = await api.request(
            'GET',
            `/batches/${enc(ref!)}/mailboxes/${enc(mailboxId)}/skipped-items${query({ page: o.page, pageSize: o.pageSize })}`,
          );
          ctx.print({
            json: res,
            table: {
              rows: res.items,
              columns: ['folder', 'subject', 'sizeBytes', 'reason', 'internalDate'],
              footer: `${res.total} skipped item(s), page ${res.page}`,
            },
          });
        }),
      ),
    ['mailferry batches skipped-items "Finance wave 1" alice@contoso.com'],
  );

  examples(
    batches
      .command('watch')
      .argument('<batch>', 'batch name or id')
      .description('Live progress until the batch settles')
      .option('--interval <seconds>', 'seconds between polls', wholeNumber, 2)
      .addHelpText(
        'after',
        '\nShows the batch totals and one line per running mailbox (items, bytes, rate, ETA): progress bars on a\n' +
          'terminal, one line per poll otherwise. Ends when the batch settles. Exit code 0 at Synced or Completed;\n' +
          '1 at Synced with errors, Failed or Stopped, or when the batch is removed.\n',
      )
      .action(
        action<{ interval: number }>(io, async (ctx, o, ref) => {
          const end = await watchBatch(ctx, ref!, { intervalMs: Math.max(1, o.interval) * 1000 });
          if (!end.ok) throw new CliError(end.message, 1, 'BATCH_NOT_SYNCED');
        }),
      ),
    ['mailferry batches watch "Finance wave 1"', 'mailferry batches start wave2 && mailferry batches watch wave2'],
  );
}
