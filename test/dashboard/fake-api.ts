import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { apiRoutes } from '../../api/app';
import { mailboxPasswordBody, moveMailboxBody, setMailboxBody, verifyBody } from '../../api/contract/mailboxes';
import type { Consistency } from '../../domain/consistency';
import type { Responses } from '../../api/route';
import { percentageSynced } from '../../domain/batch-counts';
import {
  allowedCommands,
  BATCH_STATUSES,
  STATUS_LABELS,
  type BatchStatus,
  type MailboxStatus,
} from '../../domain/batch-status';
import { allowedMailboxCommands, MAILBOX_COMMANDS, type MailboxCommand } from '../../domain/mailbox-commands';
import { ROOT } from './support';

/**
 * A stand-in for the API, for browser tests of what the page does with answers that the real product only gives
 * in passing (every one of the twelve statuses, a batch running against an endpoint). It serves the built
 * dashboard and answers from `state`, which a test changes between polls. `allowedCommands` comes from the same
 * table the real API uses.
 */
/**
 * How the stand-in answers one route for a while: slowly (`delayMs`, or until `until` settles) and then, with a
 * `status`, as the API answers an error (`{"error":{"code","message","details"}}`) instead of the real answer.
 */
export interface Fault {
  delayMs?: number;
  until?: Promise<unknown>;
  status?: number;
  code?: string;
  message?: string;
}

export interface FakeBatch {
  id: string;
  name: string;
  status: BatchStatus;
  total: number;
  synced: number;
  failed: number;
  /** Fields of `GET /batches/:id` to answer instead of the defaults (times, `temporalUiUrl`, ...). */
  detail?: Record<string, unknown>;
  /** Its migration users, which the per-mailbox commands change; without them, 25,000 generated ones. */
  mailboxes?: FakeMailbox[];
  /** Other endpoints than the rest: a mailbox moved here is refused with `BATCH_ENDPOINTS_DIFFER`. */
  otherEndpoints?: boolean;
}

/** A migration user of a batch with `mailboxes`; ids are unique across batches. */
export interface FakeMailbox {
  id: string;
  emailAddress: string;
  status: MailboxStatus;
  overrides?: Partial<
    Record<'startAfter' | 'badItemLimit' | 'largeItemLimit' | 'folderInclude' | 'folderExclude', unknown>
  >;
  /** Its last verification, as the users report answers it. */
  consistency?: Consistency;
}

export interface FakeState {
  role: 'admin' | 'viewer';
  batches: FakeBatch[];
  endpointBatches: { id: string; name: string; status: BatchStatus }[];
  /** Requests the page sent, as "METHOD path". */
  requests: string[];
  /** The same with their query strings. */
  urls: string[];
  /** Bodies of the PATCH requests, as "path" and body. */
  patches: { path: string; body: unknown }[];
  /** The per-mailbox commands the page sent (`POST /mailboxes/:id/<command>`), with their bodies (null: none). */
  mailboxCommands: { mailboxId: string; command: string; body: unknown }[];
  /** Answer every request 401, as after the token was revoked. */
  rejectAll?: boolean;
  /** Faults by route, keyed as in `requests` ("GET /batches", "GET /batches/batch-4/mailboxes"). */
  faults: Record<string, Fault>;
  /** What GET /health says of the workers and of Temporal. */
  health: { workers: boolean; temporal: boolean };
  /** Entries GET /audit pages through, newest first (filtered by `actor` and `command` here). */
  audit: {
    id: string;
    at: string;
    batchId: string | null;
    batchName: string | null;
    actor: string;
    command: string;
    outcome: 'accepted' | 'rejected';
    detail: Record<string, unknown>;
  }[];
}

export interface FakeApi {
  baseUrl: string;
  state: FakeState;
  /** Holds the answers to `route` until the returned function is called (a loading state that lasts). */
  hold(route: string): () => void;
  /** Stops the server; rejects, naming them, if any answer did not match the real API's reply schema. */
  close(): Promise<void>;
}

/**
 * Checks every JSON answer of the stand-in against the reply schema the real route declares for that method, path
 * and status (the same schemas that type the real handlers), so the stand-in cannot drift from the API.
 */
function contractCheck(violations: string[]): express.RequestHandler {
  const routes = apiRoutes().map((route) => ({
    route,
    pattern: new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  }));
  return (req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const match = routes.find((r) => r.route.method === req.method.toLowerCase() && r.pattern.test(req.path));
      const where = `${req.method} ${req.path} ${res.statusCode}`;
      const schema = match ? (match.route.responses as Responses)[res.statusCode]?.schema : undefined;
      if (!match) violations.push(`${where}: no such route in the API`);
      else if (res.statusCode < 400 && !schema) violations.push(`${where}: the API documents no such reply`);
      else if (schema) {
        const checked = schema.safeParse(body);
        if (!checked.success) {
          const issue = checked.error.issues[0];
          violations.push(`${where}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'does not match'}`);
        }
      }
      return json(body);
    };
    next();
  };
}

const TOKEN = 'fake-token';
export const FAKE_TOKEN = TOKEN;

export async function startFakeApi(): Promise<FakeApi> {
  const state: FakeState = {
    role: 'admin',
    batches: [],
    endpointBatches: [],
    requests: [],
    urls: [],
    patches: [],
    mailboxCommands: [],
    faults: {},
    health: { workers: true, temporal: true },
    audit: [],
  };
  const app = express();
  const now = new Date('2026-01-05T10:00:00Z').toISOString();
  const summary = (b: FakeBatch) => ({
    id: b.id,
    name: b.name,
    status: b.status,
    statusLabel: STATUS_LABELS[b.status],
    percentageSynced: percentageSynced(b.synced, b.total),
    total: b.total,
    synced: b.synced,
    finalized: 0,
    failed: b.failed,
    allowedCommands: allowedCommands(b.status),
    createdAt: b.detail?.createdAt ?? now,
    createdBy: 'admin@fake.test',
  });
  const endpoint = {
    id: '00000000-0000-4000-8000-0000000000e1',
    name: 'Fake source',
    type: 'imap',
    provider: 'dovecot',
    host: 'imap.fake.test',
    port: 993,
    security: 'tls',
    acceptUntrustedCerts: false,
    authMethod: 'plain',
    adminUser: null,
    hasAdminPassword: false,
    tenantId: null,
    clientId: null,
    authorityHost: null,
    maxConcurrentMigrations: 100,
    maxConcurrentIncrementalSyncs: 20,
    rateLimits: {},
    effectiveRateLimits: {
      download: { messagesPerSecond: null, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: null },
      upload: { messagesPerSecond: null, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: null },
    },
    caldavUrl: null,
    carddavUrl: null,
    createdAt: now,
    updatedAt: now,
  };
  const ref = { id: endpoint.id, name: endpoint.name, host: endpoint.host };
  const error = (res: express.Response, status: number, code: string, message: string, details: object = {}) =>
    res.status(status).json({ error: { code, message, details } });

  const violations: string[] = [];
  const api = express.Router();
  api.use(contractCheck(violations));
  // Public, like the real one: answered before the token check.
  api.get('/health', (_req, res) => {
    const check = (ok: boolean, message: string) => ({ ok, latencyMs: 1, ...(ok ? {} : { message }) });
    const checks = {
      postgres: check(true, ''),
      temporal: check(state.health.temporal, 'no answer within 3000 ms'),
      workers: {
        ...check(state.health.workers && state.health.temporal, 'no worker is polling task queue mailferry'),
        pollers: state.health.workers && state.health.temporal ? 1 : 0,
      },
    };
    const since = new Date(0).toISOString();
    const components = {
      PostgreSQL: { ok: true, since },
      Temporal: { ok: state.health.temporal, since, ...(state.health.temporal ? {} : { lastError: 'no answer' }) },
    };
    if (!state.health.temporal) {
      return void res.status(503).json({
        error: { code: 'UNHEALTHY', message: 'Temporal not reachable', details: { checks, components } },
      });
    }
    res.json({ status: 'ok', checks, components });
  });
  api.use((req, res, next) => {
    state.requests.push(`${req.method} ${req.path}`);
    state.urls.push(`${req.method} ${req.originalUrl}`);
    if (state.rejectAll || req.headers.authorization !== `Bearer ${TOKEN}`)
      return void error(res, 401, 'UNAUTHENTICATED', 'unknown token');
    const fault = state.faults[`${req.method} ${req.path}`];
    if (!fault) return next();
    void (async () => {
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      if (fault.until) await fault.until;
      if (fault.status) error(res, fault.status, fault.code ?? 'INTERNAL', fault.message ?? 'something went wrong');
      else next();
    })();
  });
  api.get(
    '/me',
    (_req, res) => void res.json({ name: 'fake', owner: 'someone@fake.test', role: state.role, tokenId: 't' }),
  );
  api.get('/statistics', (_req, res) => {
    const sum = (key: 'total' | 'synced' | 'failed') => state.batches.reduce((n, b) => n + b[key], 0);
    res.json({
      totalMailboxes: sum('total'),
      syncedMailboxes: sum('synced'),
      finalizedMailboxes: 0,
      failedMailboxes: sum('failed'),
      batches: state.batches.length,
    });
  });
  api.get('/batches', (_req, res) => {
    const items = state.batches.map(summary);
    res.json({ items, total: items.length, page: 1, pageSize: 25 });
  });
  const detail = (batch: FakeBatch) => ({
    ...summary(batch),
    type: 'IMAP',
    direction: 'Onboarding',
    requested: batch.total,
    counts: {
      total: batch.total,
      queued: 0,
      syncing: batch.total - batch.synced - batch.failed,
      synced: batch.synced,
      failed: batch.failed,
      stopped: 0,
      completing: 0,
      finalized: batch.status === 'Completed' ? batch.synced : 0,
    },
    autoStart: false,
    autoComplete: false,
    badItemLimit: 10,
    largeItemLimit: 0,
    largeItemMaxBytes: 157_286_400,
    folderInclude: [],
    folderExclude: [],
    deleteOnDestination: false,
    notificationEmails: [],
    reportInterval: '1d',
    skipReports: false,
    skipCalendar: false,
    skipContacts: false,
    skipTasks: false,
    items: { synced: 0, mail: 0, calendar: 0, contacts: 0, skipped: 0 },
    lastReportAt: null,
    lastReportError: null,
    associatedEndpoints: [ref, ref],
    lastAdminActivityAt: null,
    recentCommands: [],
    live: true,
    startedAt: null,
    initialSyncAt: null,
    initialSyncDurationMs: null,
    lastSyncedAt: null,
    startAfter: null,
    completeAfter: null,
    sourceEndpoint: ref,
    destinationEndpoint: ref,
    workflowId: `batch:${batch.name}`,
    temporalUiUrl: null,
    nextIncrementalSyncAt: null,
    autoStopAt: null,
    removeAt: null,
    lastError: null,
    pass: null,
    grades: { Perfect: batch.synced, Good: 0, Investigate: 0, Poor: 0, unverified: batch.total - batch.synced },
    verification: null,
    waitingForWorkerSince: null,
    ...batch.detail,
  });
  api.get('/batches/:id', (req, res) => {
    const batch = state.batches.find((b) => b.id === req.params.id);
    if (!batch) return void error(res, 404, 'BATCH_NOT_FOUND', 'no batch with this id');
    res.json(detail(batch));
  });
  api.patch('/batches/:id', express.json(), (req, res) => {
    const batch = state.batches.find((b) => b.id === req.params.id);
    if (!batch) return void error(res, 404, 'BATCH_NOT_FOUND', 'no batch with this id');
    state.patches.push({ path: req.path, body: req.body as unknown });
    res.json({ command: 'edit', outcome: 'accepted', batch: detail(batch) });
  });
  api.get('/batches/:id/progress', (_req, res) => void res.json({ items: [] }));
  // 25,000 migration users, generated per page: paging has to come from the server.
  const USERS = 25_000;
  const user = (i: number) => ({
    id: String(i + 1),
    emailAddress: `user${String(i).padStart(5, '0')}@fake.test`,
    userName: `user${i}`,
    destinationUserName: null,
    status: i % 1000 === 7 ? 'Failed' : 'Synced',
    foldersTotal: 3,
    foldersSynced: 3,
    itemsTotal: 10,
    itemsSynced: i % 1000 === 7 ? 3 : 10,
    mailItemsSynced: i % 1000 === 7 ? 3 : 10,
    calendarItemsSynced: 0,
    contactsSynced: 0,
    itemsSkipped: i === 0 ? 1 : 0,
    bytesSynced: 20_480,
    currentFolder: null,
    itemsPerSecond: null,
    startedAt: now,
    initialSyncAt: now,
    initialSyncDurationMs: 1000,
    lastSyncedAt: now,
    finalizedAt: null,
    lastError: i % 1000 === 7 ? 'the source server refused the login' : null,
    lastErrorCode: i % 1000 === 7 ? 'AUTH_FAILED' : null,
    updatedAt: now,
    consistency: null as FakeMailbox['consistency'] | null,
  });
  const NO_OVERRIDES = {
    startAfter: null,
    badItemLimit: null,
    largeItemLimit: null,
    folderInclude: null,
    folderExclude: null,
    skipCalendar: null,
    skipContacts: null,
    skipTasks: null,
  };
  const row = (m: FakeMailbox) => ({
    ...user(1),
    consistency: m.consistency ?? null,
    id: m.id,
    emailAddress: m.emailAddress,
    userName: m.emailAddress.split('@')[0]!,
    status: m.status,
    itemsSynced: m.status === 'Synced' ? 10 : 4,
  });
  const findMailbox = (id: string) => {
    for (const batch of state.batches) {
      const mailbox = batch.mailboxes?.find((m) => m.id === id);
      if (mailbox) return { batch, mailbox };
    }
    return undefined;
  };
  const migrationUser = (batch: FakeBatch, m: FakeMailbox) => ({
    ...row(m),
    batch: { id: batch.id, name: batch.name, status: batch.status },
    overrides: { ...NO_OVERRIDES, ...m.overrides },
    allowedCommands: allowedMailboxCommands(batch.status, m.status),
  });
  api.get('/batches/:id/mailboxes', (req, res, next) => {
    const own = state.batches.find((b) => b.id === req.params.id)?.mailboxes;
    if (!own) return next();
    res.json({ items: own.map(row), total: own.length, page: 1, pageSize: 50 });
  });
  api.get('/batches/:id/mailboxes', (req, res) => {
    const page = Number(req.query.page ?? 1);
    const pageSize = Number(req.query.pageSize ?? 100);
    const failedOnly = req.query.status === 'Failed';
    const total = failedOnly ? USERS / 1000 : USERS;
    const indexes = Array.from({ length: Math.max(0, Math.min(pageSize, total - (page - 1) * pageSize)) }, (_, k) => {
      const n = (page - 1) * pageSize + k;
      return failedOnly ? n * 1000 + 7 : n;
    });
    res.json({ items: indexes.map(user), total, page, pageSize });
  });
  api.get(
    '/batches/:id/mailboxes/:mailboxId/skipped-items',
    (_req, res) =>
      void res.json({
        items: [
          {
            id: '1',
            folder: 'INBOX',
            sourceUid: 4,
            internalDate: now,
            subject: 'Quarterly report',
            sizeBytes: 200_000_000,
            reason: 'larger than the 150 MB item limit',
            itemKind: 'mail',
            createdAt: now,
          },
        ],
        total: 1,
        page: 1,
        pageSize: 500,
      }),
  );
  api.get('/mailboxes/:id', (req, res) => {
    const found = findMailbox(req.params.id);
    if (!found) return void error(res, 404, 'MAILBOX_NOT_FOUND', `no mailbox with id ${req.params.id}`);
    res.json(migrationUser(found.batch, found.mailbox));
  });
  // A new password: the real route's body, and a resume the status table allows.
  api.post('/mailboxes/:id/set-password', express.json(), (req, res) => {
    const found = findMailbox(req.params.id);
    if (!found) return void error(res, 404, 'MAILBOX_NOT_FOUND', `no mailbox with id ${req.params.id}`);
    state.mailboxCommands.push({ mailboxId: found.mailbox.id, command: 'set-password', body: req.body ?? null });
    const checked = mailboxPasswordBody.safeParse(req.body ?? {});
    if (!checked.success) {
      violations.push(`${req.method} ${req.path}: the page sent a body the API refuses: ${checked.error.message}`);
      return void error(res, 400, 'VALIDATION_FAILED', checked.error.message);
    }
    if (checked.data.resume) {
      if (!allowedMailboxCommands(found.batch.status, found.mailbox.status).includes('resume')) {
        return void error(res, 409, 'MAILBOX_COMMAND_NOT_ALLOWED', `resume is not allowed now`);
      }
      found.mailbox.status = 'Syncing';
    }
    res.json({ outcome: 'accepted', resumed: checked.data.resume, user: migrationUser(found.batch, found.mailbox) });
  });
  // The per-mailbox commands, checked against the same status table as the real API's and applied at once.
  api.post('/mailboxes/:id/:command', express.json(), (req, res) => {
    const found = findMailbox(req.params.id);
    if (!found) return void error(res, 404, 'MAILBOX_NOT_FOUND', `no mailbox with id ${req.params.id}`);
    const { batch, mailbox } = found;
    const command = req.params.command as MailboxCommand;
    if (!MAILBOX_COMMANDS.includes(command)) return void error(res, 404, 'ROUTE_NOT_FOUND', `no command ${command}`);
    const body = (req.body as Record<string, unknown> | undefined) ?? {};
    state.mailboxCommands.push({ mailboxId: mailbox.id, command, body: Object.keys(body).length ? body : null });
    // The bodies the real routes accept, so a test cannot pass with one the API would refuse.
    const schema =
      command === 'move'
        ? moveMailboxBody
        : command === 'set'
          ? setMailboxBody
          : command === 'verify'
            ? verifyBody
            : undefined;
    const checked = schema?.safeParse(body);
    if (checked && !checked.success) {
      violations.push(`${req.method} ${req.path}: the page sent a body the API refuses: ${checked.error.message}`);
      return void error(res, 400, 'VALIDATION_FAILED', checked.error.message);
    }
    const allowed = allowedMailboxCommands(batch.status, mailbox.status);
    if (!allowed.includes(command)) {
      return void error(
        res,
        409,
        'MAILBOX_COMMAND_NOT_ALLOWED',
        `${command} is not allowed for a mailbox that is ${mailbox.status} in a batch that is ${batch.status}`,
        { status: mailbox.status, batchStatus: batch.status, allowedCommands: allowed },
      );
    }
    const reply = (after: { batch: FakeBatch; mailbox: FakeMailbox } | undefined) =>
      res.json({ command, outcome: 'accepted', user: after ? migrationUser(after.batch, after.mailbox) : null });
    const leave = () => (batch.mailboxes = batch.mailboxes!.filter((m) => m !== mailbox));
    switch (command) {
      case 'stop':
        mailbox.status = 'Stopped';
        return void reply(found);
      case 'start':
      case 'resume':
        mailbox.status = 'Syncing';
        return void reply(found);
      case 'remove':
        leave();
        return void reply(undefined);
      case 'set':
        mailbox.overrides = { ...mailbox.overrides, ...body };
        return void reply(found);
      case 'verify':
        return void reply(found);
      case 'move': {
        const target = state.batches.find((b) => b.id === body.targetBatch || b.name === body.targetBatch);
        if (!target) return void error(res, 404, 'BATCH_NOT_FOUND', `no batch ${String(body.targetBatch)}`);
        if (target.otherEndpoints) {
          return void error(
            res,
            409,
            'BATCH_ENDPOINTS_DIFFER',
            `batch ${target.name} moves mail between other endpoints; a mailbox can only move between batches with the same source and destination`,
          );
        }
        leave();
        (target.mailboxes ??= []).push(mailbox);
        return void reply({ batch: target, mailbox });
      }
    }
  });
  api.get('/audit', (req, res) => {
    const page = Number(req.query.page ?? 1);
    const pageSize = Number(req.query.pageSize ?? 50);
    const matching = state.audit.filter(
      (e) =>
        (!req.query.actor || e.actor === req.query.actor) && (!req.query.command || e.command === req.query.command),
    );
    res.json({ items: matching.slice((page - 1) * pageSize, page * pageSize), total: matching.length, page, pageSize });
  });
  api.get('/endpoints', (_req, res) => void res.json({ items: [endpoint] }));
  api.get('/endpoints/:id', (_req, res) => void res.json({ ...endpoint, batches: state.endpointBatches }));
  api.use((req, res) => error(res, 404, 'ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));

  app.use('/api/v1', api);
  // Stands in for the Temporal Web UI, so a test can follow the details pane's link to a workflow page.
  app.use('/temporal', (req, res) => {
    const workflowId = decodeURIComponent(req.path.split('/workflows/')[1] ?? '');
    res
      .type('html')
      .send(`<!doctype html><title>Workflow ${escapeHtml(workflowId)}</title><h1>${escapeHtml(workflowId)}</h1>`);
  });
  app.use(express.static(join(ROOT, 'dashboard', 'dist')));

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    state,
    hold(route) {
      let release!: () => void;
      state.faults[route] = { until: new Promise<void>((resolve) => (release = resolve)) };
      return () => {
        delete state.faults[route];
        release();
      };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (violations.length > 0) {
        throw new Error(
          `the stand-in API answered what the real API does not:\n${[...new Set(violations)].join('\n')}`,
        );
      }
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export { BATCH_STATUSES };
