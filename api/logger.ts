import type { Logger } from './deps';

/**
 * A JSON-lines logger for the API process (one object per line on stdout/stderr). Callers never pass secrets;
 * fields named like one are masked anyway, as a last line of defence.
 */
const SECRET_FIELD = /pass(word)?|secret|token|authorization/i;

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const safe: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {}))
    safe[k] = SECRET_FIELD.test(k) && k !== 'tokenId' ? '[redacted]' : v;
  return JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...safe }) + '\n';
}

export function createJsonLogger(
  options: { component?: string; write?: (text: string, level: string) => void } = {},
): Logger {
  const write =
    options.write ??
    ((text: string, level: string) => (level === 'error' ? process.stderr : process.stdout).write(text));
  const base = options.component ? { component: options.component } : {};
  return {
    info: (m, f) => write(line('info', m, { ...base, ...f }), 'info'),
    warn: (m, f) => write(line('warn', m, { ...base, ...f }), 'warn'),
    error: (m, f) => write(line('error', m, { ...base, ...f }), 'error'),
  };
}
