import type { ImapFlowOptions } from 'imapflow';
import type { LogFields, Logger } from '../observability/logger';

type ImapflowLogger = Exclude<ImapFlowOptions['logger'], false | undefined>;

/** What stands in for a client line that could carry a credential. */
export const HIDDEN = '(* value hidden *)';

/** A tagged command other than a login: `A12 UID FETCH 1:* (FLAGS)`. */
const HARMLESS_COMMAND = /^[A-Za-z0-9.]+ (?!LOGIN\b|AUTHENTICATE\b)[A-Za-z]/i;
const LOGIN_COMMAND = /^([A-Za-z0-9.]+ (?:LOGIN|AUTHENTICATE))\b( [A-Za-z0-9-]+)?/i;
/** imapflow's own placeholders for literals and hidden values, `(* 2048B continuation *)`. */
const PLACEHOLDER = /^\(\* [^*]* \*\)$/;

/**
 * What a client line may show in a log. imapflow masks the values it marks sensitive (the LOGIN password, the
 * SASL-IR payload, the AUTH=LOGIN password, the PLAIN response's password), but it logs the rest of an
 * authentication exchange (the AUTH=LOGIN user name, the PLAIN response with the authorization identity, the
 * SASL abort) as written. This guard does not rely on that: it lets through only ordinary tagged commands, IDLE's
 * DONE and imapflow's placeholders; a LOGIN or AUTHENTICATE keeps its tag, command and mechanism and loses its
 * arguments, and every other client line (the continuation answers of a login) is hidden whole.
 */
export function safeClientLine(line: string): string {
  const login = LOGIN_COMMAND.exec(line);
  if (login) {
    const mechanism = /AUTHENTICATE$/i.test(login[1]!) ? (login[2] ?? '') : '';
    return `${login[1]}${mechanism} ${HIDDEN}`;
  }
  if (HARMLESS_COMMAND.test(line) || PLACEHOLDER.test(line) || line === 'DONE') return line;
  return HIDDEN;
}

/**
 * imapflow's logger (`logger` option) on top of ours: every entry at debug (imapflow's own levels, error
 * included, describe protocol events the engine classifies and reports itself), with the connection's id and
 * the client lines passed through {@link safeClientLine}. Raw socket data (`logRaw`) is never asked for; its
 * `data` field is dropped should it appear.
 */
export function imapflowLogger(logger: Logger): ImapflowLogger {
  const write = (imapLevel: string) => (entry: unknown) => {
    if (!logger.isLevelEnabled('debug')) return;
    const { msg, src, err, data: _raw, ...rest } = (entry ?? {}) as LogFields;
    const text = typeof msg === 'string' ? msg : '';
    const fields: LogFields = { ...rest, imapLevel };
    if (src !== undefined) fields.src = src;
    if (err instanceof Error) {
      fields.error = err.message;
      if ((err as { code?: unknown }).code !== undefined) fields.code = (err as { code?: unknown }).code;
    }
    logger.debug(src === 'c' ? safeClientLine(text) : text || 'imapflow', fields);
  };
  const adapter: ImapflowLogger & { isLevelEnabled(level: string): boolean } = {
    trace: () => undefined,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
    // imapflow asks before it builds a command's log line.
    isLevelEnabled: (level) => level !== 'trace' && logger.isLevelEnabled('debug'),
  };
  return adapter;
}
