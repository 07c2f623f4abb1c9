import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createBatchActivities } from '../../activities/batch-activities';
import { createSyncMailboxActivities } from '../../activities/sync-mailbox';
import { createVerifyMailboxActivities } from '../../activities/verify-mailbox';
import { startApiServer } from '../../api/server';
import type { ConnectionTester } from '../../api/deps';
import type { LogFields, Logger } from '../../observability/logger';
import type { RateLimits } from '../../api/rate-limits';
import type { TlsFiles } from '../../api/server';
import { insertToken } from '../../api/tokens-store';
import type { SyncMetrics } from '../../observability/metrics';
import { createSecretBox, type SecretBox } from '../../secrets/secret-box';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { freePort } from '../fixtures/ports';
import { workflowBundle } from '../fixtures/temporal';

/** Every log line the app wrote (debug included), as JSON text, so tests can search it for secrets. */
export class CapturingLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly bound: LogFields = {},
  ) {}
  private write(level: string, message: string, fields?: LogFields) {
    this.lines.push(JSON.stringify({ level, message, ...this.bound, ...fields }));
  }
  debug(message: string, fields?: LogFields) {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields) {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields) {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields) {
    this.write('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new CapturingLogger(this.lines, { ...this.bound, ...fields });
  }
  isLevelEnabled(): boolean {
    return true;
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface ApiHarness {
  url: string;
  db: TestDatabase;
  secretBox: SecretBox;
  logger: CapturingLogger;
  adminToken: string;
  viewerToken: string;
  /** Every response body this harness received, for the "no secret in any response" checks. */
  responses: string[];
  request<T = any>(
    method: string,
    path: string,
    options?: {
      token?: string | null;
      json?: unknown;
      body?: string;
      contentType?: string;
      headers?: Record<string, string>;
    },
  ): Promise<ApiResponse<T>>;
  /** The body of a JSON request that must succeed (as the admin); throws with the status and body otherwise. */
  call<T = any>(method: string, path: string, json?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** A Temporal client whose server does not exist: for tests that must not reach Temporal (or must see it fail). */
export async function unreachableTemporal(): Promise<Client> {
  // No retry interceptor: its backoff timers would outlive the test.
  const connection = Connection.lazy({
    address: `127.0.0.1:${await freePort()}`,
    connectTimeout: 1000,
    interceptors: [],
  });
  return new Client({ connection });
}

/**
 * Whether the workflow `workflowId` exists on the server: `describe()` answers, or rejects with
 * WorkflowNotFoundError (false). Any other error (the server unreachable) is thrown, never read as "absent".
 */
export async function workflowExists(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export const okTester: ConnectionTester = async (s) => ({
  ok: true,
  code: 'OK',
  message: `connected to ${s.host}:${s.port}`,
});

export async function startApi(
  options: {
    temporal?: Client;
    testConnection?: ConnectionTester;
    taskQueue?: string;
    temporalUiUrl?: string;
    dashboardDir?: string;
    commandTimeoutMs?: number;
    searchAttributes?: boolean;
    /** The secret box's key (32 bytes), for worker processes that must open what the API sealed; random otherwise. */
    secretKey?: Buffer;
    /** Serve HTTPS with this certificate (requests then need its CA; see test/api/http-surface.test.ts). */
    tls?: TlsFiles;
    trustProxy?: number | string;
    rateLimits?: Partial<RateLimits>;
  } = {},
): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const temporal = options.temporal ?? (await unreachableTemporal());
  const secretBox = createSecretBox(options.secretKey ?? randomBytes(32));
  const logger = new CapturingLogger();
  const running = await startApiServer(
    {
      pool: db.pool,
      temporal,
      secretBox,
      taskQueue: options.taskQueue ?? 'mailferry-api-test',
      temporalUiUrl: options.temporalUiUrl,
      logger,
      testConnection: options.testConnection ?? okTester,
      dashboardDir: options.dashboardDir ?? '/nonexistent-dashboard',
      commandTimeoutMs: options.commandTimeoutMs,
      searchAttributes: options.searchAttributes,
      // Against the unreachable server, fail fast; a real one answers in milliseconds.
      startTimeoutMs: options.temporal ? 10_000 : 1500,
      queryTimeoutMs: options.temporal ? 3000 : 500,
      trustProxy: options.trustProxy,
      rateLimits: options.rateLimits,
    },
    { port: 0, host: '127.0.0.1', tls: options.tls },
  );
  const url = running.url;
  const admin = await insertToken(db.pool, { name: 'test-admin', owner: 'admin@example.com', role: 'admin' });
  const viewer = await insertToken(db.pool, { name: 'test-viewer', owner: 'viewer@example.com', role: 'viewer' });
  const responses: string[] = [];
  const harness: ApiHarness = {
    url,
    db,
    secretBox,
    logger,
    adminToken: admin.token,
    viewerToken: viewer.token,
    responses,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.token === undefined ? admin.token : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] = 'application/json';
      }
      if (opts.contentType) headers['content-type'] = opts.contentType;
      const res = await fetch(url + (path.startsWith('/api') ? path : `/api/v1${path}`), { method, headers, body });
      const text = await res.text();
      responses.push(text);
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as any, text };
    },
    async call(method, path, json) {
      const res = await harness.request(method, path, json === undefined ? {} : { json });
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      return res.body;
    },
    async close() {
      await running.close(0);
      if (!options.temporal) await temporal.connection.close().catch(() => undefined);
      await db.drop();
    },
  };
  return harness;
}

/** An endpoint row created through the API (connection test skipped). */
export async function createEndpoint(
  api: ApiHarness,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await api.request('POST', '/endpoints?skipTest=true', {
    json: { name, host: 'imap.example.com', port: 993, security: 'tls', ...extra },
  });
  if (res.status !== 201) throw new Error(`endpoint not created: ${res.status} ${res.text}`);
  return res.body.id;
}

/**
 * A worker on `taskQueue` running the real batch workflow and activities (sync, verify) against the harness's PostgreSQL and
 * secret box (progress written every 100 ms, so tests see it), counting into `metrics` when given. The caller runs
 * and shuts it down.
 */
export async function createRealWorker(
  env: TestWorkflowEnvironment,
  api: ApiHarness,
  taskQueue: string,
  options: { metrics?: SyncMetrics } = {},
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...createBatchActivities({ pool: api.db.pool }),
      ...createSyncMailboxActivities({
        pool: api.db.pool,
        locks: api.db.locks,
        secretBox: api.secretBox,
        logger: api.logger.child({ component: 'worker' }),
        progressIntervalMs: 100,
        metrics: options.metrics,
      }),
      ...createVerifyMailboxActivities({
        pool: api.db.pool,
        locks: api.db.locks,
        secretBox: api.secretBox,
        logger: api.logger.child({ component: 'worker' }),
      }),
    },
  });
}
