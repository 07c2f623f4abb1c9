import type { ImapFlow } from 'imapflow';
import { DatabaseError } from 'pg';
import type { Logger } from '../observability/logger';
import { MailboxLockError, type MailboxLock, type MailboxLocks } from './mailbox-lock';
import {
  closeImapConnection,
  openImapConnection,
  tokenExpired,
  type ImapCredentials,
  type ImapEndpoint,
} from './connection';
import { classifyImapError, ImapSyncError, type Side } from './errors';
import {
  folderUnchanged,
  syncFolder,
  type FolderSyncOptions,
  type ItemLimits,
  type SyncTraceEvent,
} from './folder-sync';
import { folderLanes, measureRoundTrip } from './folder-lanes';
import { ensureDestinationFolder, listFolders, planMailboxFolders, type FolderInfo, type FolderPlan } from './folders';
import type { MessageBuffers } from './message-buffers';
import { destinationLimits, PROVIDER_PROFILES } from './provider-profiles';
import {
  limitedChunk,
  waitForTransfer,
  type RateBuckets,
  type TransferRequest,
  type TransferWaitOptions,
} from './rate-limit';
import type { FolderCheckpoint, SyncStore } from './sync-store';

/** One side of a sync: where and as whom. */
export interface SyncSide {
  endpoint: ImapEndpoint;
  credentials: ImapCredentials;
}

/**
 * What the engine keeps in PostgreSQL: the mailbox's sync state (`createSyncStore(pool, mailboxId)` from
 * `db/sync-store.ts`, for the same `mailboxId`), the per-mailbox exclusion and the endpoints' shared rate
 * buckets (`createRateBuckets` from `db/endpoint-rates.ts`; without them nothing is rate limited).
 */
export interface SyncDatabase {
  store: SyncStore;
  locks: MailboxLocks;
  rates?: RateBuckets;
}

export interface MailboxSyncOptions extends ItemLimits {
  folderInclude: string[];
  folderExclude: string[];
  deleteOnDestination: boolean;
  /** Messages per MULTIAPPEND. Default 100, at most one second of the endpoints' message rate limits. */
  chunkMessages?: number;
  /** Bytes per MULTIAPPEND. Default 16 MiB, at most one second of the endpoints' byte rate limits. */
  chunkBytes?: number;
  /** How long to wait for another sync of the same mailbox to finish before failing with MAILBOX_BUSY. Default 30 s. */
  busyWaitMs?: number;
  /**
   * Folders synced at once, each on its own pair of connections. Default: 2, or 6 when a round trip to either server
   * takes 30 ms or more (imap/folder-lanes.ts).
   */
  folderConcurrency?: number;
  /** Times a throttled folder is retried (with growing pauses) before the sync gives up with THROTTLED. Default 5. */
  throttleRetries?: number;
  /** Called as a pause for a throttling server begins: which side throttled, and for how long the sync waits. */
  onThrottle?: (pause: { side: Side | undefined; ms: number }) => void;
  signal?: AbortSignal;
  /** Called while waiting for another sync of the same mailbox to end (the activity heartbeats). */
  onLockWait?: () => void;
  onProgress?: (progress: MailboxSyncProgress) => void;
  /**
   * The waits for the endpoints' rate limits: `onWait` at least every 5 s while a chunk waits (the activity
   * heartbeats), `onBudgetExhausted` as a spent daily budget stops the sync until the next UTC day (or a raised
   * budget), `onBudgetResumed` as it goes on.
   */
  rateWait?: Pick<TransferWaitOptions, 'onWait' | 'onBudgetExhausted' | 'onBudgetResumed' | 'budgetPollMs'>;
  trace?: (event: SyncTraceEvent) => void;
  /** The process's budget for message bodies in memory, shared by all its syncs (imap/message-buffers.ts). */
  messageBuffers?: MessageBuffers;
  /**
   * The mailbox's logger (its lines carry the batch, the mailbox id and address): each folder's outcome, the
   * throttling pauses, and imapflow's own log at debug. Silent without one.
   */
  logger?: Logger;
}

/** What a running sync has done so far in this pass. */
export interface MailboxSyncProgress {
  foldersTotal: number;
  foldersSynced: number;
  /** Messages in the synced source folders (STATUS MESSAGES). */
  itemsTotal: number;
  /** Copied in this pass. */
  itemsCopied: number;
  /** Skipped in this pass. */
  itemsSkipped: number;
  /** Of those, over the batch's size limit; the others the destination refuses (bad items). */
  itemsSkippedLarge: number;
  bytesCopied: number;
  currentFolder: string | null;
}

export interface MailboxSyncSummary extends MailboxSyncProgress {
  flagsUpdated: number;
  deleted: number;
  /** Folders whose UIDVALIDITY changed and were matched again by content. */
  reconciledFolders: string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** One source and one destination connection; a mailbox syncs several folders at once, one lane each. */
interface Lane {
  src: ImapFlow | null;
  dst: ImapFlow | null;
  /** A connection being opened: a second ask while it logs in waits for it instead of opening another. */
  opening: { src?: Promise<ImapFlow>; dst?: Promise<ImapFlow> };
}

/** The lanes of one sync: connections opened when first needed and opened again when they died. */
interface Lanes {
  open(): Lane;
  sourceOf(lane: Lane): Promise<ImapFlow>;
  destinationOf(lane: Lane): Promise<ImapFlow>;
  /** Closes every connection at once (cancellation, or the mailbox lock lost). */
  abort(): void;
  /** Sends every connection its LOGOUT, without waiting for the reply. */
  closeAll(): Promise<void>;
}

function createLanes(source: SyncSide, destination: SyncSide, logger: Logger | undefined): Lanes {
  const lanes: Lane[] = [];
  /** Connections still logging in: closeAll waits for them, or one that lost a race would stay open. */
  const opening = new Set<Promise<unknown>>();
  function connection(lane: Lane, key: 'src' | 'dst'): Promise<ImapFlow> {
    const current = lane[key];
    // A connection whose token ran out is replaced now, between folders, not dropped by the server mid-folder.
    if (current?.usable && !tokenExpired(current)) return Promise.resolve(current);
    const already = lane.opening[key];
    if (already) return already;
    const side = key === 'src' ? source : destination;
    const pending = closeImapConnection(current)
      .then(() => {
        lane[key] = null;
        return openImapConnection(side.endpoint, side.credentials, {
          side: key === 'src' ? 'source' : 'destination',
          logger,
        });
      })
      .then((client) => (lane[key] = client));
    lane.opening[key] = pending;
    opening.add(pending);
    const settled = () => {
      opening.delete(pending);
      if (lane.opening[key] === pending) delete lane.opening[key];
    };
    pending.then(settled, settled);
    return pending;
  }
  return {
    open() {
      const lane: Lane = { src: null, dst: null, opening: {} };
      lanes.push(lane);
      return lane;
    },
    sourceOf: (lane) => connection(lane, 'src'),
    destinationOf: (lane) => connection(lane, 'dst'),
    abort() {
      for (const lane of lanes) {
        lane.src?.close();
        lane.dst?.close();
      }
    },
    async closeAll() {
      await Promise.allSettled([...opening]);
      // LOGOUT is sent, its reply not waited for: a server that writes its indexes at logout (Dovecot) would hold
      // the end of every sync for it. closeImapConnection never throws, and drops the socket within 2 s.
      for (const lane of lanes) for (const client of [lane.src, lane.dst]) void closeImapConnection(client);
    },
  };
}

/** What the steps of one mailbox sync share. `options.signal` also aborts when the mailbox lock is lost. */
interface MailboxRun {
  store: SyncStore;
  source: SyncSide;
  destination: SyncSide;
  options: MailboxSyncOptions;
  /** Messages and bytes per MULTIAPPEND. */
  chunk: TransferRequest;
  /** Waits for the endpoints' rate limits (see FolderSyncOptions.beforeTransfer). */
  beforeTransfer: FolderSyncOptions['beforeTransfer'];
  lanes: Lanes;
  summary: MailboxSyncSummary;
  report(): void;
  /** The folder checkpoints as the sync started. */
  checkpoints: Map<string, FolderCheckpoint>;
  /** The folders with append intents left by an earlier attempt, as the sync started. */
  intentFolders: Set<string>;
  /** The lanes beside the first, opened as soon as there is work for them (see prepareFolders). */
  moreLanes: Lane[];
}

/**
 * Syncs one mailbox from source to destination over IMAP: every included folder, every message exactly once
 * (resumable after a crash at any point, state in `db.store`, the store of `mailboxId`), flags, and optionally
 * deletions. Throws {@link ImapSyncError}: `retryClass` 'mailbox' for a permanent failure of this mailbox,
 * 'transient' for one worth retrying, 'cancelled' when `signal` aborted.
 */
export async function syncMailboxOverImap(
  db: SyncDatabase,
  mailboxId: string,
  source: SyncSide,
  destination: SyncSide,
  options: MailboxSyncOptions,
): Promise<MailboxSyncSummary> {
  const { store } = db;
  const summary: MailboxSyncSummary = {
    foldersTotal: 0,
    foldersSynced: 0,
    itemsTotal: 0,
    itemsCopied: 0,
    itemsSkipped: 0,
    itemsSkippedLarge: 0,
    bytesCopied: 0,
    currentFolder: null,
    flagsUpdated: 0,
    deleted: 0,
    reconciledFolders: [],
  };
  const lanes = createLanes(source, destination, options.logger);
  const onAbort = () => lanes.abort();
  let exclusive: MailboxLock | null = null;
  /** Cancellation, or the loss of the mailbox lock: either way every connection closes at once. */
  let stopped: AbortSignal | undefined = options.signal;
  try {
    if (options.signal?.aborted) throw new ImapSyncError('CANCELLED', 'sync cancelled');
    exclusive = await lockMailbox(db.locks, mailboxId, options);
    stopped = options.signal ? AbortSignal.any([options.signal, exclusive.lost]) : exclusive.lost;
    stopped.addEventListener('abort', onAbort, { once: true });
    const rates = db.rates;
    const signal = stopped;
    const defaultChunk = { messages: options.chunkMessages ?? 100, bytes: options.chunkBytes ?? 16 * 1024 * 1024 };
    const run: MailboxRun = {
      chunk: defaultChunk,
      store,
      source,
      destination,
      options: { ...options, signal },
      beforeTransfer: rates
        ? (side, request) => waitForTransfer(rates, side, request, { ...options.rateWait, signal })
        : undefined,
      lanes,
      summary,
      report: () => options.onProgress?.({ ...summary }),
      checkpoints: new Map(),
      intentFolders: new Set(),
      moreLanes: [],
    };
    const first = lanes.open();
    // The rate limits are read while the first lane logs in: nothing moves a message before both are done.
    const [plans, limits] = await Promise.all([
      planMailbox(run, first),
      rates ? Promise.all([rates.limits('source'), rates.limits('destination')]) : null,
    ]);
    if (limits) run.chunk = limitedChunk(defaultChunk, limits);
    const { queue, allMail } = await prepareFolders(run, first, plans);
    await runLanes(run, first, queue);
    // All Mail holds every message of the label folders again: copy only what no label had (archived mail).
    for (const plan of allMail)
      await syncOne(run, first, plan, PROVIDER_PROFILES[source.endpoint.provider].gmailFolders);
    summary.currentFolder = null;
    return summary;
  } catch (err) {
    if (exclusive?.lost.aborted) {
      throw new ImapSyncError(
        'MAILBOX_LOCK_LOST',
        'the sync stopped: its mailbox lock was lost with its database connection',
        {
          cause: err,
        },
      );
    }
    if (stopped?.aborted) throw new ImapSyncError('CANCELLED', 'sync cancelled', { cause: err });
    // Database errors stay what they are (the activity retries them); everything else came from a server.
    throw err instanceof ImapSyncError || err instanceof DatabaseError ? err : classifyImapError(err, 'source');
  } finally {
    stopped?.removeEventListener('abort', onAbort);
    await lanes.closeAll();
    await exclusive?.release();
  }
}

/**
 * Lists both sides and maps the source's folders onto the destination (`run.checkpoints` and `run.intentFolders`
 * read on the way).
 */
async function planMailbox(run: MailboxRun, first: Lane): Promise<FolderPlan[]> {
  const { options, summary, source } = run;
  const [s, d] = await Promise.all([run.lanes.sourceOf(first), run.lanes.destinationOf(first)]);
  // Both lists, the checkpoints and the intents at once: one round trip, not two and two queries.
  const [sourceList, destinationList, checkpoints, intentFolders] = await Promise.all([
    listFolders(s, 'source', true),
    listFolders(d, 'destination'),
    run.store.checkpoints(),
    run.store.intentFolders(),
  ]);
  run.checkpoints = checkpoints;
  run.intentFolders = intentFolders;
  const { plans } = planMailboxFolders(
    sourceList.folders,
    destinationList,
    { include: options.folderInclude, exclude: options.folderExclude },
    source.endpoint.provider,
  );
  // A folder synced before keeps the destination it had, even if the destination's roles changed since.
  for (const p of plans) {
    const cp = run.checkpoints.get(p.source.path);
    if (cp && cp.destinationFolder !== p.destinationPath) {
      p.destinationPath = cp.destinationFolder;
      p.exists = destinationList.folders.some((f) => f.path === cp.destinationFolder);
    }
  }
  summary.foldersTotal = plans.length;
  summary.itemsTotal = plans.reduce((n, p) => n + (p.source.status?.messages ?? 0), 0);
  return plans;
}

/**
 * Counts the unchanged folders as synced without selecting them, opens the other lanes (their logins overlap the
 * folder creation), creates the missing destination folders (one lane, parents before their children) and returns
 * the folders to sync: largest first, so the lanes finish together, and Gmail's All Mail apart, strictly last (see
 * planFolders).
 */
async function prepareFolders(
  run: MailboxRun,
  first: Lane,
  plans: FolderPlan[],
): Promise<{ queue: FolderPlan[]; allMail: FolderPlan[] }> {
  const { summary, checkpoints, intentFolders: inFlight } = run;
  const changed = plans.filter((plan) => {
    const cp = checkpoints.get(plan.source.path);
    const st = plan.source.status;
    const unchanged =
      !!cp &&
      !!st &&
      !inFlight.has(plan.source.path) &&
      folderUnchanged(cp, {
        uidvalidity: st.uidvalidity,
        uidNext: st.uidNext,
        exists: st.messages,
        highestModseq: st.highestModseq,
      });
    // Nothing new, changed or deleted: no SELECT on either side.
    if (unchanged) run.options.logger?.debug('folder unchanged', { folder: plan.source.path });
    return !unchanged;
  });
  summary.foldersSynced += plans.length - changed.length;
  run.report();
  await openMoreLanes(
    run,
    first,
    changed.filter((p) => p.source.selectable && p.source.role !== 'All'),
  );
  const work: FolderPlan[] = [];
  for (const plan of changed) {
    await withThrottleRetries(
      run.options,
      async () =>
        ensureDestinationFolder(await run.lanes.destinationOf(first), plan, {
          materialize: !checkpoints.has(plan.source.path) && plan.source.selectable,
        }),
      { folder: plan.source.path, destinationFolder: plan.destinationPath },
    );
    if (plan.source.selectable) work.push(plan);
    else summary.foldersSynced++;
  }
  work.sort((a, b) => (b.source.status?.messages ?? 0) - (a.source.status?.messages ?? 0));
  run.report();
  return { queue: work.filter((p) => p.source.role !== 'All'), allMail: work.filter((p) => p.source.role === 'All') };
}

/**
 * Decides how many folders sync at once ({@link folderLanes}: the round trip to the servers, measured on the first
 * lane, unless `folderConcurrency` says) and starts the other lanes' logins, both sides at once, without waiting:
 * a lane whose login fails meets the failure when its first folder asks for the connection.
 */
async function openMoreLanes(run: MailboxRun, first: Lane, queued: FolderPlan[]): Promise<void> {
  const configured = run.options.folderConcurrency;
  if (queued.length < 2 || configured === 1) return;
  const roundTripMs =
    configured === undefined
      ? await measureRoundTrip([await run.lanes.sourceOf(first), await run.lanes.destinationOf(first)])
      : 0;
  const count = folderLanes(queued.length, roundTripMs, configured);
  run.options.logger?.debug('folder lanes', { lanes: count, roundTripMs: Math.round(roundTripMs * 10) / 10 });
  for (let i = 1; i < count; i++) {
    const lane = run.lanes.open();
    run.moreLanes.push(lane);
    for (const opening of [run.lanes.sourceOf(lane), run.lanes.destinationOf(lane)]) opening.catch(() => undefined);
  }
}

/**
 * Syncs the queued folders on the first lane and the others opened for them: appends into different folders do not
 * contend for a lock, into one they do, so a folder is never split across lanes. The first failure stops the other
 * lanes after their current folder and is thrown.
 */
async function runLanes(run: MailboxRun, first: Lane, queue: FolderPlan[]): Promise<void> {
  let failed = false;
  const runLane = async (lane: Lane) => {
    while (!failed) {
      const plan = queue.shift();
      if (!plan) return;
      try {
        await syncOne(run, lane, plan);
      } catch (err) {
        failed = true; // the other lanes stop after their current folder
        throw err;
      }
    }
  };
  const results = await Promise.allSettled([first, ...run.moreLanes].map(runLane));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * One folder on one lane, again after a pause while the server throttles; its counters go into the summary, its
 * outcome into the log.
 */
async function syncOne(run: MailboxRun, lane: Lane, plan: FolderPlan, dedupeAcrossFolders = false): Promise<void> {
  const { options, summary, source, destination, lanes } = run;
  const started = Date.now();
  const where = { folder: plan.source.path, destinationFolder: plan.destinationPath };
  /** This folder's counts, over every attempt. */
  const outcome = { copied: 0, skipped: 0, bytes: 0, flagsUpdated: 0, deleted: 0, reconciled: false };
  summary.currentFolder = plan.source.path;
  run.report();
  try {
    await withThrottleRetries(
      options,
      async () => {
        // Both once per attempt: a second ask could replace a connection the folder is using.
        const [src, dst] = await Promise.all([lanes.sourceOf(lane), lanes.destinationOf(lane)]);
        const r = await syncFolder(src, dst, run.store, plan, run.checkpoints.get(plan.source.path), {
          limits: options,
          deleteOnDestination: options.deleteOnDestination,
          chunkMessages: run.chunk.messages,
          chunkBytes: run.chunk.bytes,
          signal: options.signal,
          beforeTransfer: run.beforeTransfer,
          messageBuffers: options.messageBuffers,
          trace: options.trace,
          dedupeAcrossFolders,
          hashMessages: PROVIDER_PROFILES[source.endpoint.provider].gmailFolders,
          destinationLimits: destinationLimits(destination.endpoint.provider, dst.capabilities.get('APPENDLIMIT')),
          onProgress: (delta) => {
            summary.itemsCopied += delta.copied;
            summary.itemsSkipped += delta.skipped;
            summary.itemsSkippedLarge += delta.skippedLarge;
            summary.bytesCopied += delta.bytes;
            outcome.copied += delta.copied;
            outcome.skipped += delta.skipped;
            outcome.bytes += delta.bytes;
            run.report();
          },
        });
        summary.flagsUpdated += r.flagsUpdated;
        summary.deleted += r.deleted;
        outcome.flagsUpdated += r.flagsUpdated;
        outcome.deleted += r.deleted;
        if (r.reconciled) {
          summary.reconciledFolders.push(plan.source.path);
          outcome.reconciled = true;
        }
      },
      where,
    );
  } catch (err) {
    const reason = err instanceof ImapSyncError ? { code: err.code, error: err.message } : { error: String(err) };
    options.logger?.warn('folder failed', { ...where, ...outcome, ...reason, ms: Date.now() - started });
    throw err;
  }
  summary.foldersSynced++;
  options.logger?.info('folder synced', { ...where, ...outcome, ms: Date.now() - started });
  run.report();
}

/**
 * One sync per mailbox at a time, across workers (see `db/mailbox-locks.ts`). A retry that overtakes a run still
 * going (a heartbeat timeout on a slow command) waits for it, then fails with MAILBOX_BUSY (transient) rather
 * than appending the same messages twice.
 */
async function lockMailbox(locks: MailboxLocks, mailboxId: string, options: MailboxSyncOptions): Promise<MailboxLock> {
  try {
    return await locks.acquire(mailboxId, {
      waitMs: options.busyWaitMs ?? 30_000,
      signal: options.signal,
      onWait: options.onLockWait,
    });
  } catch (err) {
    if (err instanceof MailboxLockError) throw new ImapSyncError(err.code, err.message);
    throw err;
  }
}

/**
 * Runs `fn`, pausing and running it again while it fails with THROTTLED (the server asks us to slow down). Each
 * pause is logged with its reason and `where` (the folder).
 */
export async function withThrottleRetries(
  options: Pick<MailboxSyncOptions, 'throttleRetries' | 'onThrottle' | 'signal' | 'logger'>,
  fn: () => Promise<void>,
  where: Record<string, unknown> = {},
): Promise<void> {
  const max = options.throttleRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      const e = err instanceof ImapSyncError ? err : classifyImapError(err, 'source');
      if (e.code !== 'THROTTLED' || attempt >= max || options.signal?.aborted) throw e;
      // Slow down instead of failing: the server's hint, or 2 s, 4 s, 8 s ... up to a minute.
      const pauseMs = Math.min(e.retryAfterMs ?? 2000 * 2 ** attempt, 60_000);
      options.logger?.warn('server throttles, retrying after a pause', {
        ...where,
        code: e.code,
        reason: e.message,
        retry: attempt + 1,
        of: max,
        pauseMs,
      });
      options.onThrottle?.({ side: e.side, ms: pauseMs });
      await sleep(pauseMs, options.signal);
    }
  }
}

export type { FolderInfo, FolderPlan };
