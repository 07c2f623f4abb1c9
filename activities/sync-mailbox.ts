import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { withEndpointLease } from '../db/endpoint-leases';
import { createRateBuckets, type RateBuckets } from '../db/endpoint-rates';
import { classifyDatabaseError } from '../db/errors';
import type { MailboxLocks } from '../db/mailbox-locks';
import {
  clearSyncError,
  loadSyncTarget,
  markMailboxFailed,
  markMailboxSyncing,
  recordSyncError,
  writeSyncFinished,
  writeSyncProgress,
} from '../db/mailbox-sync-rows';
import { createDavSyncStore } from '../db/dav-sync-store';
import { createSyncStore } from '../db/sync-store';
import { DavSyncError } from '../dav/errors';
import { syncMailboxOverDav, type DavSyncProgress, type DavSyncSummary } from '../dav/mailbox-sync';
import type { PassKind } from '../domain/batch-messages';
import type { MailboxErrorCode } from '../domain/mailbox-errors';
import { ImapSyncError, type Side } from '../imap/errors';
import { MailboxLockError } from '../imap/mailbox-lock';
import type { MessageBuffers } from '../imap/message-buffers';
import { syncMailboxOverImap, type MailboxSyncProgress } from '../imap/mailbox-sync';
import { imapComponent, type ComponentMonitor } from '../observability/component-status';
import type { Logger } from '../observability/logger';
import { createSyncMetrics, trackSyncAttempt, type SyncAttempt, type SyncMetrics } from '../observability/metrics';
import type { SecretBox } from '../secrets/secret-box';
import { currentContext, isAccessFailure, openMailboxSides } from './mailbox-access';
import { davSideOf, hasDavPair } from './dav-sides';
import type { AccessTokens } from '../credentials/access-tokens';
import { createEndpointAccessTokens } from '../credentials/endpoint-tokens';

export interface SyncMailboxInput {
  batchId: string;
  mailboxId: string;
  /** 'initial' | 'incremental' | 'final' (a last incremental sync, then the mailbox is Completed). */
  pass: PassKind;
}

export interface SyncMailboxResult {
  mailboxId: string;
  status: 'Synced' | 'Failed' | 'Completed';
  errorCode?: string;
  error?: string;
}

export interface SyncMailboxDeps {
  pool: Pool;
  /** This process's mailbox locks (one dedicated connection, see db/mailbox-locks.ts). */
  locks: MailboxLocks;
  secretBox: SecretBox;
  /**
   * The worker's cache of minted access tokens (endpoints with a service account, client credentials or a
   * refresh token); a cache of its own when unset.
   */
  tokens?: AccessTokens;
  /**
   * Each sync logs its start, its folders' outcomes, its retries and its end through a child of this logger that
   * names the batch, the mailbox id and its address.
   */
  logger: Logger;
  /** How often a sync waiting for a spent daily budget asks again (a raised budget resumes it). Default 1 minute. */
  budgetPollMs?: number;
  /** Minimum time between progress writes to the mailbox row. Default 2 seconds. */
  progressIntervalMs?: number;
  /** The process's sync metrics (observability/metrics.ts); without them the attempts are counted nowhere. */
  metrics?: SyncMetrics;
  /**
   * Told which IMAP server a sync could not reach (CONNECTION_FAILED, CONNECTION_LOST) and which ones it finished
   * with, so the worker logs a lost and a regained server once each way, not once per mailbox and attempt.
   */
  components?: ComponentMonitor;
  /** The worker's budget for message bodies in memory, shared by all its syncs (imap/message-buffers.ts). */
  messageBuffers?: MessageBuffers;
}

/** The IMAP errors that say a server is down, not that it refused something. */
const UNREACHABLE: ReadonlySet<string> = new Set(['CONNECTION_FAILED', 'CONNECTION_LOST']);

/** Heartbeat details: where the last attempt of this activity got to (counters only, never a secret). */
interface SyncHeartbeat {
  pass: PassKind;
  foldersSynced: number;
  itemsCopied: number;
  bytesCopied: number;
  currentFolder: string | null;
  /** Calendar items and contacts copied or updated in this attempt, once the mail is done. */
  davItemsCopied?: number;
}

/** How long the calendar and contact sync waits for another sync of the mailbox (as the IMAP engine does). */
const DAV_LOCK_WAIT_MS = 30_000;

/** A failure of either engine (or of the mailbox lock), as the activity decides on it. */
function engineFailure(err: unknown): { code: MailboxErrorCode; retryClass: string; message: string } | null {
  if (err instanceof ImapSyncError || err instanceof DavSyncError) return err;
  if (err instanceof MailboxLockError) {
    return { code: err.code, retryClass: err.code === 'CANCELLED' ? 'cancelled' : 'transient', message: err.message };
  }
  return null;
}

/**
 * The activity that moves one mailbox: `syncMailbox`, one pass over one mailbox; permanent failures of the
 * mailbox are returned as status Failed, transient ones thrown so Temporal retries.
 */
export function createSyncMailboxActivities(deps: SyncMailboxDeps) {
  const { pool, locks, secretBox, logger } = deps;
  const tokens = deps.tokens ?? createEndpointAccessTokens(deps);
  const progressIntervalMs = deps.progressIntervalMs ?? 2000;
  const metrics = deps.metrics ?? createSyncMetrics(new Registry());

  async function fail(
    log: Logger,
    mailboxId: string,
    code: MailboxErrorCode,
    message: string,
  ): Promise<SyncMailboxResult> {
    log.error('mailbox sync failed', { code, error: message });
    await markMailboxFailed(pool, mailboxId, code, message);
    return { mailboxId, status: 'Failed', errorCode: code, error: message };
  }

  /** One attempt, counted: a returned Failed failed the mailbox; a thrown failure is retried or a cancellation. */
  async function syncMailbox(input: SyncMailboxInput): Promise<SyncMailboxResult> {
    const attempt = trackSyncAttempt(metrics, input.pass);
    try {
      const result = await syncOnce(input, attempt);
      if (result.status !== 'Failed') attempt.end('synced');
      else attempt.end('failed', { code: result.errorCode ?? 'SYNC_ERROR', retry: 'mailbox' });
      return result;
    } catch (err) {
      if (err instanceof CancelledFailure) attempt.end('cancelled');
      else {
        const code = err instanceof ApplicationFailure ? err.type : classifyDatabaseError(err)?.code;
        attempt.end('retried', { code: code ?? 'SYNC_ERROR', retry: 'transient' });
      }
      throw err;
    }
  }

  async function syncOnce(input: SyncMailboxInput, counted: SyncAttempt): Promise<SyncMailboxResult> {
    const ctx = currentContext();
    const signal = ctx?.cancellationSignal;
    const attempt = ctx?.info.attempt ?? 1;
    const mb = await loadSyncTarget(pool, input.mailboxId, input.batchId);
    if (!mb) {
      logger.warn('mailbox sync skipped: the mailbox is not part of the batch', { ...input, attempt });
      return {
        mailboxId: input.mailboxId,
        status: 'Failed',
        errorCode: 'MAILBOX_NOT_FOUND',
        error: 'the mailbox is not part of the batch (removed?)',
      };
    }
    const log = logger.child({ batchId: mb.batch_id, batch: mb.batch_name, mailboxId: mb.id, address: mb.email });
    const sides = await openMailboxSides(pool, secretBox, tokens, mb);
    if (isAccessFailure(sides)) return fail(log, mb.id, sides.code, sides.message);
    const [srcEp, dstEp] = sides.endpointRows;

    const store = createSyncStore(pool, mb.id);
    const davStore = createDavSyncStore(pool, mb.id);
    // The counts so far and the Syncing status in one round trip's time: a no-change pass is mostly round trips.
    const [before, davBefore] = await Promise.all([store.totals(), davStore.totals(), markMailboxSyncing(pool, mb.id)]);
    const davBeforeItems = davBefore.calendarItems + davBefore.contacts;
    const resumed = (ctx?.info.heartbeatDetails ?? null) as SyncHeartbeat | null;
    const passStarted = Date.now();
    log.info('mailbox sync started', {
      pass: input.pass,
      attempt,
      ...(resumed ? { resumedAfter: { folders: resumed.foldersSynced, items: resumed.itemsCopied } } : {}),
    });

    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    /** Mail progress, and once the mail is done the calendar and contact progress on top (copied or updated). */
    const writeProgress = (p: MailboxSyncProgress, dav: DavSyncProgress | null = null) => {
      const seconds = (Date.now() - passStarted) / 1000;
      const calendarItems = davBefore.calendarItems + (dav?.calendarItemsCopied ?? 0);
      const contacts = davBefore.contacts + (dav?.contactsCopied ?? 0);
      const copied = p.itemsCopied + (dav ? dav.calendarItemsCopied + dav.contactsCopied : 0);
      writing = writeSyncProgress(pool, mb.id, {
        foldersTotal: p.foldersTotal,
        foldersSynced: p.foldersSynced,
        itemsTotal: p.itemsTotal + davBeforeItems,
        itemsSynced: before.copied + p.itemsCopied + calendarItems + contacts,
        calendarItemsSynced: calendarItems,
        contactsSynced: contacts,
        itemsSkipped: before.skipped + p.itemsSkipped + davBefore.skipped + (dav?.itemsSkipped ?? 0),
        bytesSynced: before.bytes + p.bytesCopied,
        currentFolder: dav?.currentCollection ?? p.currentFolder,
        itemsPerSecond: seconds > 0 ? copied / seconds : null,
      }).catch(() => undefined); // progress is best effort; the final write is not
    };
    let lastDetails: SyncHeartbeat | undefined = resumed ?? undefined;
    // Heartbeat on a clock too, not only on progress: one MULTIAPPEND of a large batch, or hashing a folder after
    // a UIDVALIDITY change, can outlast the heartbeat timeout while the sync is perfectly alive.
    const ticker = ctx ? setInterval(() => ctx.heartbeat(lastDetails), 5_000) : null;
    ticker?.unref();
    const onProgress = (p: MailboxSyncProgress) => {
      counted.progress(p);
      const details: SyncHeartbeat = {
        pass: input.pass,
        foldersSynced: p.foldersSynced,
        itemsCopied: (resumed?.pass === input.pass ? resumed.itemsCopied : 0) + p.itemsCopied,
        bytesCopied: (resumed?.pass === input.pass ? resumed.bytesCopied : 0) + p.bytesCopied,
        currentFolder: p.currentFolder,
      };
      lastDetails = details;
      ctx?.heartbeat(details);
      if (Date.now() - lastWrite >= progressIntervalMs) {
        lastWrite = Date.now();
        writeProgress(p);
      }
    };

    const buckets = createRateBuckets(pool, {
      mailboxId: mb.id,
      endpointIds: { source: srcEp.id, destination: dstEp.id },
    });
    const rates: RateBuckets = {
      limits: (side) => buckets.limits(side),
      async reserve(side, request) {
        const reserved = await buckets.reserve(side, request);
        if (reserved.kind === 'go' && reserved.waitMs > 0) counted.rateWaited(side, reserved.waitMs);
        return reserved;
      },
    };
    const rateWait = {
      budgetPollMs: deps.budgetPollMs,
      onWait: () => ctx?.heartbeat(lastDetails),
      onBudgetExhausted: ({ side, scope, resumesAt }: { side: Side; scope: string; resumesAt: Date }) => {
        const message = `the ${side} endpoint's daily ${side === 'source' ? 'download' : 'upload'} budget${scope === 'mailbox' ? ' for this mailbox' : ''} is spent; the sync resumes at ${resumesAt.toISOString()} or when the budget is raised`;
        counted.budgetHeld(side);
        log.warn('daily byte budget spent, the sync waits', { side, scope, resumesAt: resumesAt.toISOString() });
        void recordSyncError(pool, mb.id, 'QUOTA_BUDGET_EXHAUSTED', message).catch(() => undefined);
      },
      onBudgetResumed: (side: Side) => {
        log.info('daily byte budget available again, the sync goes on', { side });
        void clearSyncError(pool, mb.id, 'QUOTA_BUDGET_EXHAUSTED').catch(() => undefined);
      },
    };
    const davSource = davSideOf(srcEp, sides.source.credentials, 'source');
    const davDestination = davSideOf(dstEp, sides.destination.credentials, 'destination');
    /** Calendars and contacts, after the mail, under the mailbox's lock like the mail (none without DAV pairs). */
    const syncDav = async (mail: MailboxSyncProgress): Promise<DavSyncSummary | null> => {
      if (!hasDavPair(davSource, davDestination)) return null;
      const lock = await locks.acquire(mb.id, {
        waitMs: DAV_LOCK_WAIT_MS,
        signal,
        onWait: () => ctx?.heartbeat(lastDetails),
      });
      try {
        return await syncMailboxOverDav(davStore, davSource, davDestination, {
          skipCalendar: mb.skip_calendar,
          skipContacts: mb.skip_contacts,
          skipTasks: mb.skip_tasks,
          deleteOnDestination: mb.delete_on_destination,
          badItemLimit: mb.bad_item_limit,
          signal: signal ? AbortSignal.any([signal, lock.lost]) : lock.lost,
          logger: log,
          onProgress: (d) => {
            counted.davProgress(d);
            lastDetails = {
              ...(lastDetails ?? {
                pass: input.pass,
                foldersSynced: mail.foldersSynced,
                itemsCopied: 0,
                bytesCopied: 0,
              }),
              currentFolder: d.currentCollection,
              davItemsCopied: d.calendarItemsCopied + d.contactsCopied,
            };
            ctx?.heartbeat(lastDetails);
            if (Date.now() - lastWrite >= progressIntervalMs) {
              lastWrite = Date.now();
              writeProgress(mail, d);
            }
          },
        });
      } finally {
        await lock.release();
      }
    };

    const syncMail = () =>
      syncMailboxOverImap({ store, locks, rates }, mb.id, sides.source, sides.destination, {
        folderInclude: mb.folder_include,
        folderExclude: mb.folder_exclude,
        deleteOnDestination: mb.delete_on_destination,
        badItemLimit: mb.bad_item_limit,
        largeItemLimit: mb.large_item_limit,
        largeItemMaxBytes: Number(mb.large_item_max_bytes),
        signal,
        onLockWait: () => ctx?.heartbeat(lastDetails),
        onThrottle: ({ side, ms }) => counted.throttled(side, ms),
        onProgress,
        rateWait,
        messageBuffers: deps.messageBuffers,
        logger: log,
      });
    const run = async () => {
      const mail = await syncMail();
      return { mail, dav: await syncDav(mail) };
    };

    try {
      const { mail: summary, dav } = await withEndpointLease(
        pool,
        {
          endpointIds: [srcEp.id, dstEp.id],
          mailboxId: mb.id,
          kind: input.pass === 'initial' ? 'migration' : 'incremental',
          onWait: () => ctx?.heartbeat(resumed ?? undefined),
          signal,
        },
        run,
      );
      counted.progress(summary);
      if (dav) counted.davProgress(dav);
      for (const ep of [srcEp, dstEp]) deps.components?.up(imapComponent(ep));
      if (ticker) clearInterval(ticker);
      await writing;
      const [totals, davTotals] = await Promise.all([store.totals(), davStore.totals()]);
      const davItems = davTotals.calendarItems + davTotals.contacts;
      const final = input.pass === 'final';
      const seconds = Math.max((Date.now() - passStarted) / 1000, 0.001);
      await writeSyncFinished(pool, mb.id, {
        final,
        foldersTotal: summary.foldersTotal,
        itemsTotal: summary.itemsTotal + davItems + davTotals.skipped,
        itemsSynced: totals.copied + davItems,
        calendarItemsSynced: davTotals.calendarItems,
        contactsSynced: davTotals.contacts,
        itemsSkipped: totals.skipped + davTotals.skipped,
        bytesSynced: totals.bytes,
        itemsPerSecond: (summary.itemsCopied + (dav ? dav.calendarItemsCopied + dav.contactsCopied : 0)) / seconds,
      });
      const status = final ? 'Completed' : 'Synced';
      log.info('mailbox sync finished', {
        pass: input.pass,
        attempt,
        status,
        foldersTotal: summary.foldersTotal,
        foldersSynced: summary.foldersSynced,
        itemsTotal: summary.itemsTotal,
        itemsCopied: summary.itemsCopied,
        itemsSkipped: summary.itemsSkipped,
        bytesCopied: summary.bytesCopied,
        flagsUpdated: summary.flagsUpdated,
        deleted: summary.deleted,
        seconds: Math.round(seconds * 1000) / 1000,
        itemsPerSecond: Math.round((summary.itemsCopied / seconds) * 10) / 10,
        bytesPerSecond: Math.round(summary.bytesCopied / seconds),
        ...(dav
          ? {
              collections: dav.collectionsSynced,
              calendarItemsCopied: dav.calendarItemsCopied,
              contactsCopied: dav.contactsCopied,
              davItemsSkipped: dav.itemsSkipped,
              davDeleted: dav.deleted,
            }
          : {}),
      });
      return { mailboxId: mb.id, status };
    } catch (err) {
      if (ticker) clearInterval(ticker);
      await writing;
      const engine = engineFailure(err);
      if (signal?.aborted || (err as { code?: string }).code === 'LEASE_ABORTED' || engine?.code === 'CANCELLED') {
        log.info('mailbox sync cancelled', { pass: input.pass, attempt });
        throw new CancelledFailure('sync cancelled');
      }
      if (err instanceof ImapSyncError && err.side && UNREACHABLE.has(err.code)) {
        deps.components?.down(imapComponent(err.side === 'source' ? srcEp : dstEp), err);
      }
      if (engine?.retryClass === 'mailbox') return fail(log, mb.id, engine.code, engine.message);
      const database = classifyDatabaseError(err);
      const code: MailboxErrorCode = engine?.code ?? database?.code ?? 'SYNC_ERROR';
      const message = database?.message ?? (err instanceof Error ? err.message : String(err));
      await recordSyncError(pool, mb.id, code, message).catch(() => undefined);
      // Temporal retries it with backoff, up to the workflow's attempt limit (then the mailbox is Failed).
      log.warn('mailbox sync attempt failed', { pass: input.pass, attempt, retryable: true, code, reason: message });
      throw ApplicationFailure.retryable(message, code);
    }
  }

  return { syncMailbox };
}
