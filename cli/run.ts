import { CommanderError } from 'commander';
import { CliError } from './client';
import type { CliIo } from './context';
import { buildProgram } from './program';

/**
 * `mailferry <command> [arguments] [options]`: the operator's CLI over the public API (cli/program.ts has the
 * commands, cli/config.ts where URL and token come from). Exit codes: 0 done, 1 the API refused (its error code
 * is printed) or a watched batch did not sync, 2 usage error, 3 the API could not be reached.
 */

export type { CliIo } from './context';

function printCliError(io: CliIo, err: CliError): void {
  if (err.message) io.stderr(`mailferry: ${err.message}\n`);
  const details = err.details as
    | {
        problems?: { line?: number; item?: number; code: string; message: string }[];
        allowedCommands?: string[];
        issues?: { path?: string | (string | number)[]; message: string }[];
      }
    | undefined;
  for (const p of details?.problems ?? []) {
    io.stderr(
      `  ${p.line !== undefined ? `line ${p.line}` : p.item !== undefined ? `item ${p.item}` : ''}: ${p.message} (${p.code})\n`,
    );
  }
  for (const i of details?.issues ?? []) {
    const where = Array.isArray(i.path) ? i.path.join('.') : i.path;
    io.stderr(`  ${where || '(body)'}: ${i.message}\n`);
  }
  if (details?.allowedCommands) io.stderr(`  allowed now: ${details.allowedCommands.join(', ') || 'none'}\n`);
  if (err.hint) io.stderr(`  ${err.hint}\n`);
}

/** Runs one CLI invocation; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv.length === 0 ? ['--help'] : argv, { from: 'user' });
    return 0;
  } catch (err) {
    // Help and --version end with exit code 0; every other commander error is a usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      printCliError(io, err);
      return err.exitCode;
    }
    io.stderr(`mailferry: unexpected error: ${(err as Error).message}\n`);
    return 1;
  }
}
