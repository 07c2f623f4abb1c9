import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient, CliError } from './client';
import { authHint, resolveTarget, type Target } from './config';
import { colorsFor, render, type Colors, type OutputFormat, type Result } from './output';

/** What the entry point hands the CLI: the environment and the terminal. Tests pass their own. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin?(): Promise<string>;
  /** Asks for a secret without echoing it; set only when standard input is a terminal. */
  promptSecret?(question: string): Promise<string>;
  fetch?: typeof fetch;
  /** True when stdout is a terminal: colour and live progress bars. */
  isTTY?: boolean;
  /** The terminal stream for live redrawing (`batches watch`); only used when `isTTY`. */
  stdoutStream?: NodeJS.WriteStream;
  /** Sleep between polls (`batches watch`); tests shorten it. */
  sleep?(ms: number): Promise<void>;
}

/** The options every command takes, before or after its name. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  output?: OutputFormat;
  color?: boolean;
}

/** One command's view of the invocation: options, output and the API. */
export interface Context {
  io: CliIo;
  globals: GlobalOptions;
  format: OutputFormat;
  colors: Colors;
  target(): Promise<Target>;
  api(): Promise<ApiClient>;
  print(result: Result): void;
}

export function makeContext(cmd: Command, io: CliIo): Context {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const format: OutputFormat = globals.json ? 'json' : (globals.output ?? 'table');
  const colors = colorsFor(io.isTTY && globals.color !== false, io.env);
  let target: Promise<Target> | undefined;
  const ctx: Context = {
    io,
    globals,
    format,
    colors,
    target: () => (target ??= resolveTarget(io.env, globals)),
    async api() {
      const t = await ctx.target();
      return new ApiClient({ baseUrl: t.url, token: t.token, fetch: io.fetch, authHint: authHint(t) });
    },
    print: (result) => io.stdout(render(result, format, colors)),
  };
  return ctx;
}

/**
 * An action for commander: `(ctx, options, ...arguments)`. Commander passes the arguments, then the options,
 * then the command.
 */
export function action<O>(io: CliIo, fn: (ctx: Context, opts: O, ...args: string[]) => Promise<void>) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params[params.length - 1] as Command;
    const args = params.slice(0, -2) as string[];
    await fn(makeContext(cmd, io), cmd.opts() as O, ...args);
  };
}

/** Adds "Examples:" to a command's help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** Parses a whole number option (`--page 2`); commander reports a bad value as a usage error. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** Parses `A,B` into `['A', 'B']`. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A file the user named (CSV, password file); a missing one is a usage error (exit 2). */
export async function readUserFile(file: string): Promise<string> {
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

export const enc = encodeURIComponent;

/** `?a=1&b=2` from the defined values, or ''. */
export function query(values: Record<string, string | number | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  return q.size ? `?${q}` : '';
}

/**
 * A password from a file or stdin (without its final line break), else from a prompt without echo when there is a
 * terminal and a `question`; never from the command line.
 */
export async function readPassword(
  ctx: Context,
  from: { file?: string; stdin?: boolean },
  question?: string,
): Promise<string | undefined> {
  if (from.file) return (await readUserFile(from.file)).replace(/\r?\n$/, '');
  if (from.stdin) {
    if (!ctx.io.readStdin) throw new CliError('no standard input to read the password from', 2, 'USAGE');
    return (await ctx.io.readStdin()).replace(/\r?\n$/, '');
  }
  if (question && ctx.io.promptSecret) return ctx.io.promptSecret(question);
  return undefined;
}
