import path from 'node:path';
import { z } from 'zod';
import type { LifecyclePolicy } from '../domain/batch-workflow-input';
import { LOG_LEVELS, type LogLevel } from '../observability/logger';
import { DURATION_EXAMPLE, parseDuration } from '../domain/duration';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** A duration such as `24h`, `60d`, `90s` or `1500ms`, in milliseconds. */
const duration = z
  .string()
  .refine((text) => parseDuration(text) !== null, DURATION_EXAMPLE)
  .transform((text) => parseDuration(text)!);

/** MAILFERRY_AUDIT_RETENTION's default: a year of audit entries. */
export const DEFAULT_AUDIT_RETENTION_MS = 365 * 86_400_000;

/** Below this a pool cannot serve a sync's checkpoint write beside a progress write and a lease renewal. */
const MIN_POOL_SIZE = 4;

/**
 * Activity slots a worker keeps beyond its syncs, for the batch workflows' bookkeeping (read model, audit,
 * counts): a worker full of syncs still runs them.
 */
export const BOOKKEEPING_ACTIVITY_SLOTS = 20;

/**
 * The worker's budget for message bodies in memory, over all its syncs (MiB): one mailbox's two lanes hold at most
 * 64 MiB (two batches of 16 MiB each), so two mailboxes copy at full overlap and more share it.
 */
export const DEFAULT_MESSAGE_BUFFER_MB = 128;

/**
 * The worker's pool when MAILFERRY_DB_POOL_SIZE is unset: a sync holds a connection only for one statement or one
 * short transaction (never across IMAP I/O), so a fifth of the syncs plus a margin is ample.
 */
export function defaultWorkerPoolSize(maxConcurrentSyncs: number): number {
  return Math.max(MIN_POOL_SIZE, 10 + Math.ceil(maxConcurrentSyncs / 5));
}

const schema = z
  .object({
    DATABASE_URL: z.string().url().optional(),
    TEMPORAL_ADDRESS: z.string().min(1).optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('mailferry'),
    TEMPORAL_UI_URL: z.string().url().optional(),
    /** "true": TLS with the system's CAs; implied by any TEMPORAL_TLS_* file and by an API key. */
    TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
    TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
    TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_API_KEY_FILE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    /** Set to "false" where the MailferryBatchName/MailferryStatus search attributes are not registered. */
    MAILFERRY_SEARCH_ATTRIBUTES: z.enum(['true', 'false']).default('true'),
    MAILFERRY_DATA_DIR: z.string().min(1).default(path.join(PROJECT_ROOT, '.data')),
    MAILFERRY_SECRET_KEY: z.string().optional(),
    MAILFERRY_SECRET_KEY_FILE: z.string().optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    HOST: z.string().default('127.0.0.1'),
    MAILFERRY_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
    MAILFERRY_TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    MAILFERRY_TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    MAILFERRY_INCREMENTAL_SYNC_INTERVAL: duration.optional(),
    MAILFERRY_SYNCED_INACTIVITY_STOP: duration.optional(),
    MAILFERRY_STOPPED_RETENTION: duration.optional(),
    MAILFERRY_COMPLETED_RETENTION: duration.optional(),
    /** How long audit entries are kept (the API deletes older ones on start and hourly). */
    MAILFERRY_AUDIT_RETENTION: duration.optional(),
    MAILFERRY_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
    MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS: z.coerce.number().int().min(1).max(1000).default(100),
    MAILFERRY_WORKER_MESSAGE_BUFFER_MB: z.coerce.number().int().min(16).max(65536).default(DEFAULT_MESSAGE_BUFFER_MB),
    MAILFERRY_DB_POOL_SIZE: z.coerce.number().int().min(MIN_POOL_SIZE).max(500).optional(),
    MAILFERRY_API_DB_POOL_SIZE: z.coerce.number().int().min(MIN_POOL_SIZE).max(500).default(10),
    MAILFERRY_WORKER_IDENTITY: z.string().min(1).max(200).optional(),
    /** The activity heartbeats every 5 s, and the SDK sends at most every 0.8 × the timeout: below 10 s is unsafe. */
    MAILFERRY_SYNC_HEARTBEAT_TIMEOUT: duration
      .refine((ms) => ms >= 10_000, 'at least 10s (a live sync heartbeats every 5 s)')
      .optional(),
    /** The worker process's metrics port (GET /metrics, GET /health); `npm start` serves /metrics on PORT instead. */
    MAILFERRY_METRICS_PORT: z.coerce.number().int().min(1).max(65535).default(9464),
    /** When set, every scrape must send `Authorization: Bearer <token>`; otherwise /metrics is open. */
    MAILFERRY_METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
    /** smtp://user:pass@host:port or smtps://…: where the batches' reports are sent (never echoed in an error). */
    MAILFERRY_SMTP_URL: z.string().optional(),
    MAILFERRY_SMTP_FROM: z.string().optional(),
    /** PEM files: with both, the API serves HTTPS. */
    MAILFERRY_TLS_CERT: z.string().min(1).optional(),
    MAILFERRY_TLS_KEY: z.string().min(1).optional(),
    /** Express `trust proxy`: a hop count, or addresses/subnets (`loopback`, `10.0.0.0/8`, comma-separated). */
    MAILFERRY_TRUST_PROXY: z
      .string()
      .regex(/^(\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, 'a hop count or comma-separated addresses/subnets')
      .refine(
        (v) => !['true', 'false'].includes(v),
        'a hop count (1 for one proxy) or the proxy addresses, not true/false',
      )
      .optional(),
  })
  .refine((e) => !e.TEMPORAL_TLS_CERT_FILE === !e.TEMPORAL_TLS_KEY_FILE, {
    message:
      'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (a client certificate and its key, for mTLS)',
    path: ['TEMPORAL_TLS_CERT_FILE'],
  })
  .refine(
    (e) =>
      e.TEMPORAL_TLS !== 'false' || (!e.TEMPORAL_TLS_CA_FILE && !e.TEMPORAL_TLS_CERT_FILE && !e.TEMPORAL_API_KEY_FILE),
    {
      message: 'TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* files and TEMPORAL_API_KEY_FILE',
      path: ['TEMPORAL_TLS'],
    },
  );

/**
 * How the API's client and the worker reach Temporal beyond its address: TLS (a private CA, a client certificate
 * for mTLS, a server name override) and an API key (Temporal Cloud). Files only, read when connecting
 * (entry/temporal-connection.ts); the key material itself is never part of the settings.
 */
export interface TemporalSecurity {
  /** Whether to use TLS at all: set by TEMPORAL_TLS=true, any TEMPORAL_TLS_* file, or an API key. */
  tls: boolean;
  /** PEM file of the CA that signed the server's certificate (TEMPORAL_TLS_CA_FILE); the system's CAs otherwise. */
  caFile?: string;
  /** PEM files of this client's certificate and private key (TEMPORAL_TLS_CERT_FILE, TEMPORAL_TLS_KEY_FILE). */
  clientCert?: { certFile: string; keyFile: string };
  /** The name to verify the server's certificate against instead of the address's host (TEMPORAL_TLS_SERVER_NAME). */
  serverName?: string;
  /** File holding the API key (TEMPORAL_API_KEY_FILE), sent as a bearer token. */
  apiKeyFile?: string;
}

/** Configuration of the product's processes, from the environment. Only entry points call this. */
export interface Settings {
  /** External PostgreSQL; the start command runs an embedded one when unset. */
  databaseUrl?: string;
  /** External Temporal frontend (host:port); the start command runs `temporal server start-dev` when unset. */
  temporalAddress?: string;
  namespace: string;
  taskQueue: string;
  temporalSecurity: TemporalSecurity;
  temporalUiUrl?: string;
  /** LOG_LEVEL: trace, debug, info (default), warn, error, fatal or silent. */
  logLevel: LogLevel;
  searchAttributes: boolean;
  dataDir: string;
  secretKey?: string;
  secretKeyFile: string;
  apiPort: number;
  apiHost: string;
  embeddedPostgresPort: number;
  devTemporalPort: number;
  devTemporalUiPort: number;
  /** Overrides of the seed's timers and the per-batch sync window for new batches. */
  batchPolicy: Partial<LifecyclePolicy>;
  /**
   * The worker's size, derived from one number (MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS): its mailbox syncs at once,
   * its activity slots (those plus {@link BOOKKEEPING_ACTIVITY_SLOTS}), its pool, and the default batch window.
   */
  worker: {
    maxConcurrentSyncs: number;
    activitySlots: number;
    poolSize: number;
    /**
     * Bytes of message bodies the worker's syncs hold in memory at once, all together
     * (MAILFERRY_WORKER_MESSAGE_BUFFER_MB, imap/message-buffers.ts).
     */
    messageBufferBytes: number;
    /**
     * A stable name for this worker, unique among the live ones (MAILFERRY_WORKER_IDENTITY): after a restart it
     * gives back at once the syncs its previous life was running. `npm start` uses its host and data directory.
     */
    identity?: string;
  };
  /** Connections of the API's own pool (MAILFERRY_API_DB_POOL_SIZE): never shared with the worker's. */
  apiPoolSize: number;
  /** Audit entries older than this are deleted (MAILFERRY_AUDIT_RETENTION, default 365d), in milliseconds. */
  auditRetentionMs: number;
  /** The API's certificate chain and key files (MAILFERRY_TLS_CERT/MAILFERRY_TLS_KEY): it serves HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** The reverse proxies whose X-Forwarded-* headers the API believes (MAILFERRY_TRUST_PROXY); none when unset. */
  trustProxy?: number | string;
  /**
   * Prometheus metrics: the worker process's port (MAILFERRY_METRICS_PORT, default 9464, on HOST) and the bearer
   * token every scrape must send (MAILFERRY_METRICS_TOKEN; none: /metrics is open, it carries no address or secret).
   */
  metrics: { port: number; token?: string };
  /** The SMTP server of the e-mailed reports (MAILFERRY_SMTP_URL, MAILFERRY_SMTP_FROM); unset: none are sent. */
  smtp?: SmtpSettings;
}

/**
 * Where reports are sent. The password is here only in the worker's memory: it reaches nodemailer and nothing
 * else (never a workflow input, a log line or an API reply).
 */
export interface SmtpSettings {
  host: string;
  port: number;
  /** smtps: TLS from the first byte (default port 465); smtp: STARTTLS when the server offers it (587). */
  secure: boolean;
  user?: string;
  password?: string;
  /** The From address of every report. */
  from: string;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if ((e.MAILFERRY_TLS_CERT === undefined) !== (e.MAILFERRY_TLS_KEY === undefined)) {
    throw new Error('invalid configuration: set both MAILFERRY_TLS_CERT and MAILFERRY_TLS_KEY, or neither');
  }
  const smtp = smtpSettings(e.MAILFERRY_SMTP_URL, e.MAILFERRY_SMTP_FROM);
  const dataDir = path.resolve(e.MAILFERRY_DATA_DIR);
  const syncs = e.MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS;
  return {
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    temporalSecurity: withoutUndefined({
      tls:
        e.TEMPORAL_TLS === 'true' ||
        (e.TEMPORAL_TLS !== 'false' &&
          Boolean(
            e.TEMPORAL_TLS_CA_FILE || e.TEMPORAL_TLS_CERT_FILE || e.TEMPORAL_TLS_SERVER_NAME || e.TEMPORAL_API_KEY_FILE,
          )),
      caFile: e.TEMPORAL_TLS_CA_FILE,
      clientCert:
        e.TEMPORAL_TLS_CERT_FILE && e.TEMPORAL_TLS_KEY_FILE
          ? { certFile: e.TEMPORAL_TLS_CERT_FILE, keyFile: e.TEMPORAL_TLS_KEY_FILE }
          : undefined,
      serverName: e.TEMPORAL_TLS_SERVER_NAME,
      apiKeyFile: e.TEMPORAL_API_KEY_FILE,
    }) as TemporalSecurity,
    temporalUiUrl: e.TEMPORAL_UI_URL,
    logLevel: e.LOG_LEVEL,
    searchAttributes: e.MAILFERRY_SEARCH_ATTRIBUTES === 'true',
    dataDir,
    secretKey: e.MAILFERRY_SECRET_KEY,
    secretKeyFile: e.MAILFERRY_SECRET_KEY_FILE ?? path.join(dataDir, 'secret.key'),
    apiPort: e.PORT,
    apiHost: e.HOST,
    embeddedPostgresPort: e.MAILFERRY_POSTGRES_PORT,
    devTemporalPort: e.MAILFERRY_TEMPORAL_PORT,
    devTemporalUiPort: e.MAILFERRY_TEMPORAL_UI_PORT,
    batchPolicy: withoutUndefined({
      incrementalSyncIntervalMs: e.MAILFERRY_INCREMENTAL_SYNC_INTERVAL,
      syncedInactivityStopMs: e.MAILFERRY_SYNCED_INACTIVITY_STOP,
      stoppedRetentionMs: e.MAILFERRY_STOPPED_RETENTION,
      completedRetentionMs: e.MAILFERRY_COMPLETED_RETENTION,
      mailboxConcurrency: e.MAILFERRY_BATCH_CONCURRENCY ?? syncs,
      syncHeartbeatTimeoutMs: e.MAILFERRY_SYNC_HEARTBEAT_TIMEOUT,
    }),
    worker: {
      maxConcurrentSyncs: syncs,
      activitySlots: syncs + BOOKKEEPING_ACTIVITY_SLOTS,
      poolSize: e.MAILFERRY_DB_POOL_SIZE ?? defaultWorkerPoolSize(syncs),
      messageBufferBytes: e.MAILFERRY_WORKER_MESSAGE_BUFFER_MB * 1024 * 1024,
      ...(e.MAILFERRY_WORKER_IDENTITY ? { identity: e.MAILFERRY_WORKER_IDENTITY } : {}),
    },
    apiPoolSize: e.MAILFERRY_API_DB_POOL_SIZE,
    auditRetentionMs: e.MAILFERRY_AUDIT_RETENTION ?? DEFAULT_AUDIT_RETENTION_MS,
    ...(e.MAILFERRY_TLS_CERT && e.MAILFERRY_TLS_KEY
      ? { tls: { certFile: path.resolve(e.MAILFERRY_TLS_CERT), keyFile: path.resolve(e.MAILFERRY_TLS_KEY) } }
      : {}),
    ...(e.MAILFERRY_TRUST_PROXY
      ? {
          trustProxy: /^\d+$/.test(e.MAILFERRY_TRUST_PROXY) ? Number(e.MAILFERRY_TRUST_PROXY) : e.MAILFERRY_TRUST_PROXY,
        }
      : {}),
    metrics: {
      port: e.MAILFERRY_METRICS_PORT,
      ...(e.MAILFERRY_METRICS_TOKEN ? { token: e.MAILFERRY_METRICS_TOKEN } : {}),
    },
    ...(smtp ? { smtp } : {}),
  };
}

const fromAddress = z.email();

/**
 * MAILFERRY_SMTP_URL and MAILFERRY_SMTP_FROM, checked together. A problem is named without the URL itself, which
 * holds the password.
 */
function smtpSettings(url: string | undefined, from: string | undefined): SmtpSettings | undefined {
  const invalid = (problem: string) => new Error(`invalid configuration: ${problem}`);
  if (url === undefined || url === '') {
    if (from) throw invalid('MAILFERRY_SMTP_FROM is set but MAILFERRY_SMTP_URL is not');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('MAILFERRY_SMTP_URL is not a URL (expected smtp://user:password@host:port or smtps://…)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw invalid(`MAILFERRY_SMTP_URL must start with smtp:// or smtps:// (not ${parsed.protocol.slice(0, 20)}//)`);
  }
  if (!parsed.hostname) throw invalid('MAILFERRY_SMTP_URL names no host');
  if (parsed.password && !parsed.username) throw invalid('MAILFERRY_SMTP_URL has a password but no user name');
  if (!from) throw invalid("MAILFERRY_SMTP_FROM (the reports' From address) is required with MAILFERRY_SMTP_URL");
  if (!fromAddress.safeParse(from).success) throw invalid('MAILFERRY_SMTP_FROM is not an e-mail address');
  const secure = parsed.protocol === 'smtps:';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    ...(parsed.username ? { user: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    from,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
