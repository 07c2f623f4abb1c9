import type { ImapFlow } from 'imapflow';
import { DatabaseError, type Pool } from 'pg';
import { MailboxLockError, type MailboxLock, type MailboxLocks } from '../db/mailbox-locks';
import { closeImapConnection, openImapConnection, type ImapCredentials, type ImapEndpoint } from './connection';
import { classifyImapError, ImapSyncError } from './errors';
import { folderUnchanged, syncFolder, type ItemLimits, type SyncTraceEvent } from './folder-sync';
import { ensureDestinationFolder, listFolders, planFolders, type FolderInfo, type FolderPlan } from './folders';
import { destinationLimits, PROVIDER_PROFILES } from './provider-profiles';
import { SyncStore } from './sync-store';

/** One side of a sync: where and as whom. */
export interface SyncSide {
  endpoint: ImapEndpoint;
  credentials: ImapCredentials;
}

/** What the engine keeps in PostgreSQL: its checkpoints (through the pool) and the per-mailbox exclusion. */
export interface SyncDatabase {
  pool: Pool;
  locks: MailboxLocks;
}

export interface MailboxSyncOptions extends ItemLimits {
  folderInclude: string[];
  folderExclude: string[];
  deleteOnDestination: boolean;
  /** Messages per MULTIAPPEND. Default 100. */
  chunkMessages?: number;
  /** Bytes per MULTIAPPEND. Default 16 MiB. */
  chunkBytes?: number;
  /** How long to wait for another sync of the same mailbox to finish before failing with MAILBOX_BUSY. Default 30 s. */
  busyWaitMs?: number;
  /** Folders synced at once, each on its own pair of connections. Default 2. */
  folderConcurrency?: number;
  /** Times a throttled folder is retried (with growing pauses) before the sync gives up with THROTTLED. Default 5. */
  throttleRetries?: number;
  signal?: AbortSignal;
  /** Called while waiting for another sync of the same mailbox to end (the activity heartbeats). */
  onLockWait?: () => void;
  onProgress?: (progress: MailboxSyncProgress) => void;
  trace?: (event: SyncTraceEvent) => void;
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

/**
 * Syncs one mailbox from source to destination over IMAP: every included folder, every message exactly once
 * (resumable after a crash at any point, state in PostgreSQL keyed by `mailboxId`), flags, and optionally
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
  const store = new SyncStore(db.pool, mailboxId);
  const summary: MailboxSyncSummary = {
    foldersTotal: 0,
    foldersSynced: 0,
    itemsTotal: 0,
    itemsCopied: 0,
    itemsSkipped: 0,
    bytesCopied: 0,
    currentFolder: null,
    flagsUpdated: 0,
    deleted: 0,
    reconciledFolders: [],
  };
  const report = () => options.onProgress?.({ ...summary });
  /** One source and one destination connection; a mailbox syncs several folders at once, one lane each. */
  interface Lane {
    src: ImapFlow | null;
    dst: ImapFlow | null;
  }
  const lanes: Lane[] = [];
  const openLane = (): Lane => {
    const lane: Lane = { src: null, dst: null };
    lanes.push(lane);
    return lane;
  };
  const sourceOf = async (lane: Lane) => {
    if (lane.src?.usable) return lane.src;
    await closeImapConnection(lane.src);
    lane.src = await openImapConnection(source.endpoint, source.credentials, { side: 'source' });
    return lane.src;
  };
  const destinationOf = async (lane: Lane) => {
    if (lane.dst?.usable) return lane.dst;
    await closeImapConnection(lane.dst);
    lane.dst = await openImapConnection(destination.endpoint, destination.credentials, { side: 'destination' });
    return lane.dst;
  };
  const onAbort = () => {
    for (const lane of lanes) {
      lane.src?.close();
      lane.dst?.close();
    }
  };
  let exclusive: MailboxLock | null = null;
  /** Cancellation, or the loss of the mailbox lock: either way every connection closes at once. */
  let stopped: AbortSignal | undefined = options.signal;
  try {
    if (options.signal?.aborted) throw new ImapSyncError('CANCELLED', 'sync cancelled');
    exclusive = await lockMailbox(db.locks, mailboxId, options);
    stopped = options.signal ? AbortSignal.any([options.signal, exclusive.lost]) : exclusive.lost;
    stopped.addEventListener('abort', onAbort, { once: true });
    options = { ...options, signal: stopped };
    const first = openLane();
    const [s, d] = await Promise.all([sourceOf(first), destinationOf(first)]);
    const sourceList = await listFolders(s, 'source', true);
    const destinationList = await listFolders(d, 'destination');
    const checkpoints = await store.checkpoints();
    const plans = planFolders(
      sourceList.folders.filter(
        (f) => f.selectable || !sourceList.folders.some((o) => o.path.startsWith(f.path + f.delimiter)),
      ),
      destinationList,
      { include: options.folderInclude, exclude: options.folderExclude },
      { skipVirtual: PROVIDER_PROFILES[source.endpoint.provider].gmailFolders },
    );
    // A folder synced before keeps the destination it had, even if the destination's roles changed since.
    for (const p of plans) {
      const cp = checkpoints.get(p.source.path);
      if (cp && cp.destinationFolder !== p.destinationPath) {
        p.destinationPath = cp.destinationFolder;
        p.exists = destinationList.folders.some((f) => f.path === cp.destinationFolder);
      }
    }
    summary.foldersTotal = plans.length;
    summary.itemsTotal = plans.reduce((n, p) => n + (p.source.status?.messages ?? 0), 0);
    const inFlight = await store.intentFolders();
    report();

    // Parents are created before their children (one lane creates all folders first), then folders are synced
    // by `folderConcurrency` lanes: appends into different folders do not contend for a lock, into one they do.
    const work: FolderPlan[] = [];
    for (const plan of plans) {
      const cp = checkpoints.get(plan.source.path);
      const st = plan.source.status;
      if (
        cp &&
        st &&
        !inFlight.has(plan.source.path) &&
        folderUnchanged(cp, {
          uidvalidity: st.uidvalidity,
          uidNext: st.uidNext,
          exists: st.messages,
          highestModseq: st.highestModseq,
        })
      ) {
        summary.foldersSynced++; // nothing new, changed or deleted: no SELECT on either side
        continue;
      }
      await withThrottleRetries(options, async () =>
        ensureDestinationFolder(await destinationOf(first), plan, { materialize: !cp && plan.source.selectable }),
      );
      if (plan.source.selectable) work.push(plan);
      else summary.foldersSynced++;
    }
    // Largest folders first, so the lanes finish together; Gmail's All Mail strictly last (see planFolders).
    work.sort((a, b) => (b.source.status?.messages ?? 0) - (a.source.status?.messages ?? 0));
    const allMail = work.filter((p) => p.source.role === 'All');
    const queue = work.filter((p) => p.source.role !== 'All');
    report();

    const syncOne = async (lane: Lane, plan: FolderPlan, dedupeAcrossFolders = false) => {
      summary.currentFolder = plan.source.path;
      report();
      await withThrottleRetries(options, async () => {
        const r = await syncFolder(
          await sourceOf(lane),
          await destinationOf(lane),
          store,
          plan,
          checkpoints.get(plan.source.path),
          {
            limits: options,
            deleteOnDestination: options.deleteOnDestination,
            chunkMessages: options.chunkMessages ?? 100,
            chunkBytes: options.chunkBytes ?? 16 * 1024 * 1024,
            signal: options.signal,
            trace: options.trace,
            dedupeAcrossFolders,
            hashMessages: PROVIDER_PROFILES[source.endpoint.provider].gmailFolders,
            destinationLimits: destinationLimits(
              destination.endpoint.provider,
              (await destinationOf(lane)).capabilities.get('APPENDLIMIT'),
            ),
            onProgress: (delta) => {
              summary.itemsCopied += delta.copied;
              summary.itemsSkipped += delta.skipped;
              summary.bytesCopied += delta.bytes;
              report();
            },
          },
        );
        summary.flagsUpdated += r.flagsUpdated;
        summary.deleted += r.deleted;
        if (r.reconciled) summary.reconciledFolders.push(plan.source.path);
      });
      summary.foldersSynced++;
      report();
    };
    const concurrency = Math.max(1, Math.min(options.folderConcurrency ?? 2, queue.length));
    let failed = false;
    const runLane = async (lane: Lane) => {
      while (!failed) {
        const plan = queue.shift();
        if (!plan) return;
        try {
          await syncOne(lane, plan);
        } catch (err) {
          failed = true; // the other lanes stop after their current folder
          throw err;
        }
      }
    };
    const results = await Promise.allSettled([
      runLane(first),
      ...Array.from({ length: concurrency - 1 }, () => runLane(openLane())),
    ]);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    // All Mail holds every message of the label folders again: copy only what no label had (archived mail).
    for (const plan of allMail) await syncOne(first, plan, PROVIDER_PROFILES[source.endpoint.provider].gmailFolders);
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
    await Promise.all(lanes.flatMap((l) => [closeImapConnection(l.src), closeImapConnection(l.dst)]));
    await exclusive?.release();
  }
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

/** Runs `fn`, pausing and running it again while it fails with THROTTLED (the server asks us to slow down). */
export async function withThrottleRetries(options: MailboxSyncOptions, fn: () => Promise<void>): Promise<void> {
  const max = options.throttleRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      const e = err instanceof ImapSyncError ? err : classifyImapError(err, 'source');
      if (e.code !== 'THROTTLED' || attempt >= max || options.signal?.aborted) throw e;
      // Slow down instead of failing: the server's hint, or 2 s, 4 s, 8 s ... up to a minute.
      await sleep(Math.min(e.retryAfterMs ?? 2000 * 2 ** attempt, 60_000), options.signal);
    }
  }
}

export type { FolderInfo, FolderPlan };
