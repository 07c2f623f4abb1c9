import { Argument, Command, Option } from 'commander';
import { registerAudit } from './commands/audit';
import { registerBatches } from './commands/batches';
import { registerEndpoints } from './commands/endpoints';
import { registerMigrate } from './commands/migrate';
import { registerSystem } from './commands/system';
import { registerTokens } from './commands/tokens';
import { registerUsers } from './commands/users';
import { bashCompletion, zshCompletion } from './completion';
import { examples, type CliIo } from './context';
import { OUTPUT_FORMATS } from './output';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- JSON beside the sources, read once
const { version } = require('../package.json') as { version: string };

const EXIT_CODES = `
Exit codes: 0 done, 1 the API refused (its error code is printed) or a watched batch did not sync,
2 usage error, 3 the API could not be reached.

URL: --url, MAILFERRY_URL, the saved login, else http://HOST:PORT of this machine (127.0.0.1:8080).
Token: --token, MAILFERRY_TOKEN, the saved login (mailferry login), else, on the machine that runs the
product, $MAILFERRY_DATA_DIR/initial-admin-token.`;

/**
 * The command tree. Global options (--url, --token, --json, --output, --no-color) are the program's, and
 * commander finds them before or after the command's name.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('mailferry')
    .description("mailferry's admin CLI over the API: migration batches, endpoints, tokens and the audit log")
    .version(version, '-V, --version')
    .option('--url <url>', 'API base URL (MAILFERRY_URL; default http://127.0.0.1:8080, from PORT/HOST)')
    .option('--token <token>', 'API token (MAILFERRY_TOKEN; else the saved login or the local initial admin token)')
    .option('--json', 'print the API answer as JSON (same as --output json)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS))
    .option('--no-color', 'no colour, even on a terminal (NO_COLOR does the same)')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'mailferry: ')),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', EXIT_CODES);

  registerSystem(program, io);
  registerBatches(program, io);
  registerUsers(program, io);
  registerEndpoints(program, io);
  registerTokens(program, io);
  registerAudit(program, io);
  registerMigrate(program, io);

  examples(
    program
      .command('completion')
      .description('Prints a shell completion script')
      .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
      .action((shell: string) => io.stdout(shell === 'bash' ? bashCompletion(program) : zshCompletion(program))),
    ['source <(mailferry completion bash)', 'mailferry completion zsh > "${fpath[1]}/_mailferry"'],
  );

  examples(program, [
    'mailferry login',
    'mailferry batches list',
    'mailferry batches create --name "Finance wave 1" --source "Old Dovecot" --destination M365 --csv wave1.csv --auto-start',
    'mailferry batches watch "Finance wave 1"',
    'mailferry batches mailboxes "Finance wave 1" --status Failed --output csv',
    'mailferry users show alice@contoso.com',
  ]);
  return program;
}
