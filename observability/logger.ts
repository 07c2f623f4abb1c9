import type { LogLevel as TemporalLogLevel, Logger as TemporalLogger, LogMetadata } from '@temporalio/common';
import pino, { type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

/** The levels LOG_LEVEL accepts, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

/**
 * The logger every part of the product writes through (API, worker, activities, IMAP engine): a message and
 * the fields that describe it. Callers never pass secrets; fields named like one are redacted anyway.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a batch, a mailbox, a component). */
  child(fields: LogFields): Logger;
  /** Whether a line at `level` is written, so that expensive fields are built only when they are. */
  isLevelEnabled(level: LogLevel): boolean;
}

/**
 * Field names that hold secrets wherever they appear at the top level or one level down (pino's `redact`): a
 * last line of defence, since no caller should pass them. `tokenId`, `tokenFile` and the like stay readable, and
 * so does `pass` (a sync's pass: initial, incremental); imapflow's `auth.pass` goes with `auth`.
 */
const SECRET_FIELDS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'apiKey',
  'adminPassword',
  'authorization',
  'auth',
];
export const REDACTED_PATHS = SECRET_FIELDS.flatMap((name) => [name, `*.${name}`]);
export const REDACTED = '[redacted]';

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable lines (pino-pretty, colours) instead of JSON: `npm start` on a terminal. */
  pretty?: boolean;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
  /** Fields on every line. */
  base?: LogFields;
}

/** The product's logger: JSON lines (or pretty ones) with an ISO time, the level's name and `msg`. */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  const destination = options.pretty
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: out })
    : out;
  const base = pino(
    {
      level: options.level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      // The SDK logs failures as `error`; an Error would otherwise be written as {}.
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (message, fields) => p.debug(fields ?? {}, message),
    info: (message, fields) => p.info(fields ?? {}, message),
    warn: (message, fields) => p.warn(fields ?? {}, message),
    error: (message, fields) => p.error(fields ?? {}, message),
    child: (fields) => wrap(p.child(fields)),
    isLevelEnabled: (level) => p.isLevelEnabled(level),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/**
 * The Temporal SDK's logger (`Runtime.install({ logger })`) on top of ours, so that the SDK's own lines, the
 * Rust core's and those activities write through `log` go where the product's go.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    const fields = meta as LogFields | undefined;
    if (level === 'TRACE' || level === 'DEBUG') sdk.debug(message, fields);
    else if (level === 'INFO') sdk.info(message, fields);
    else if (level === 'WARN') sdk.warn(message, fields);
    else sdk.error(message, fields);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
