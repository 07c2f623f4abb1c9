import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { withEndpointLease } from '../db/endpoint-leases';
import { classifyDatabaseError } from '../db/errors';
import type { MailboxLocks } from '../db/mailbox-locks';
import {
  loadSyncEndpoint,
  loadSyncTarget,
  markMailboxFailed,
  markMailboxSyncing,
  recordSyncError,
  writeSyncFinished,
  writeSyncProgress,
  type SyncEndpointRow,
} from '../db/mailbox-sync-rows';
import { createSyncStore } from '../db/sync-store';
import type { PassKind } from '../domain/batch-messages';
import type { MailboxErrorCode } from '../domain/mailbox-errors';
import type { ImapCredentials, ImapEndpoint } from '../imap/connection';
import { ImapSyncError } from '../imap/errors';
import { syncMailboxOverImap, type MailboxSyncProgress } from '../imap/mailbox-sync';
import { imapComponent, type ComponentMonitor } from '../observability/component-status';
import type { Logger } from '../observability/logger';
import { createSyncMetrics, trackSyncAttempt, type SyncAttempt, type SyncMetrics } from '../observability/metrics';
import { secretContext, type SecretBox } from '../secrets/secret-box';
import { createAccessTokens, TokenError, type AccessTokens } from '../credentials/access-tokens';
import { tokenEndpointOf } from '../credentials/endpoint-tokens';
import { isMintedTokenMethod } from '../domain/endpoint-auth';

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
  /** Minimum time between progress writes to the mailbox row. Default 2 seconds. */
  progressIntervalMs?: number;
  /** The process's sync metrics (observability/metrics.ts); without them the attempts are counted nowhere. */
  metrics?: SyncMetrics;
  /**
   * Told which IMAP server a sync could not reach (CONNECTION_FAILED, CONNECTION_LOST) and which ones it finished
   * with, so the worker logs a lost and a regained server once each way, not once per mailbox and attempt.
   */
  components?: ComponentMonitor;
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
}

const endpointOf = (e: SyncEndpointRow): ImapEndpoint => ({
  host: e.host,
  port: e.port,
  security: e.security,
  acceptUntrustedCerts: e.accept_untrusted_certs,
  authMethod: isMintedTokenMethod(e.auth_method) ? 'xoauth2' : e.auth_method,
  provider: e.provider,
});

class CredentialsMissing extends Error {
  readonly code: MailboxErrorCode = 'CREDENTIALS_MISSING';
}

function credentialsFor(
  secretBox: SecretBox,
  tokens: AccessTokens,
  endpoint: SyncEndpointRow,
  user: string,
  sealed: Buffer | null,
  context: string,
): ImapCredentials {
  // Minted tokens: each login asks the worker's cache, so reconnects of a long sync get a fresh token.
  const minting = tokenEndpointOf(secretBox, endpoint);
  if (minting) return { user, accessToken: () => tokens.tokenFor(minting, user) };
  if (sealed) return { user, secret: secretBox.open(sealed, context) };
  if (endpoint.admin_user && endpoint.admin_secret) {
    return {
      user,
      admin: {
        user: endpoint.admin_user,
        secret: secretBox.open(endpoint.admin_secret, secretContext.endpointAdmin(endpoint.id)),
      },
    };
  }
  throw new CredentialsMissing(`no password for ${user} and no admin login on the endpoint`);
}

function currentContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/**
 * The activity that moves one mailbox: `syncMailbox`, one pass over one mailbox; permanent failures of the
 * mailbox are returned as status Failed, transient ones thrown so Temporal retries.
 */
export function createSyncMailboxActivities(deps: SyncMailboxDeps) {
  const { pool, locks, secretBox, logger } = deps;
  const tokens = deps.tokens ?? createAccessTokens();
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
    const [srcEp, dstEp] = await Promise.all([
      loadSyncEndpoint(pool, mb.source_endpoint_id),
      loadSyncEndpoint(pool, mb.destination_endpoint_id),
    ]);
    if (!srcEp || !dstEp) return fail(log, mb.id, 'ENDPOINT_NOT_FOUND', 'the batch endpoint no longer exists');

    let source: ImapCredentials;
    let destination: ImapCredentials;
    try {
      source = credentialsFor(
        secretBox,
        tokens,
        srcEp,
        mb.source_user,
        mb.source_secret,
        secretContext.mailboxSource(mb.batch_id, mb.email),
      );
      destination = credentialsFor(
        secretBox,
        tokens,
        dstEp,
        mb.destination_user ?? mb.email,
        mb.destination_secret,
        secretContext.mailboxDestination(mb.batch_id, mb.email),
      );
    } catch (err) {
      const code: MailboxErrorCode =
        err instanceof CredentialsMissing
          ? err.code
          : err instanceof TokenError
            ? 'TOKEN_REFUSED'
            : 'SECRET_UNREADABLE';
      return fail(log, mb.id, code, (err as Error).message);
    }

    const store = createSyncStore(pool, mb.id);
    const before = await store.totals();
    const resumed = (ctx?.info.heartbeatDetails ?? null) as SyncHeartbeat | null;
    const passStarted = Date.now();
    log.info('mailbox sync started', {
      pass: input.pass,
      attempt,
      ...(resumed ? { resumedAfter: { folders: resumed.foldersSynced, items: resumed.itemsCopied } } : {}),
    });
    await markMailboxSyncing(pool, mb.id);

    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const writeProgress = (p: MailboxSyncProgress) => {
      const seconds = (Date.now() - passStarted) / 1000;
      writing = writeSyncProgress(pool, mb.id, {
        foldersTotal: p.foldersTotal,
        foldersSynced: p.foldersSynced,
        itemsTotal: p.itemsTotal,
        itemsSynced: before.copied + p.itemsCopied,
        itemsSkipped: before.skipped + p.itemsSkipped,
        bytesSynced: before.bytes + p.bytesCopied,
        currentFolder: p.currentFolder,
        itemsPerSecond: seconds > 0 ? p.itemsCopied / seconds : null,
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

    const run = () =>
      syncMailboxOverImap(
        { store, locks },
        mb.id,
        { endpoint: endpointOf(srcEp), credentials: source },
        { endpoint: endpointOf(dstEp), credentials: destination },
        {
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
          logger: log,
        },
      );

    try {
      const summary = await withEndpointLease(
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
      for (const ep of [srcEp, dstEp]) deps.components?.up(imapComponent(ep));
      if (ticker) clearInterval(ticker);
      await writing;
      const totals = await store.totals();
      const final = input.pass === 'final';
      const seconds = Math.max((Date.now() - passStarted) / 1000, 0.001);
      await writeSyncFinished(pool, mb.id, {
        final,
        foldersTotal: summary.foldersTotal,
        itemsTotal: summary.itemsTotal,
        itemsSynced: totals.copied,
        itemsSkipped: totals.skipped,
        bytesSynced: totals.bytes,
        itemsPerSecond: summary.itemsCopied / seconds,
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
      });
      return { mailboxId: mb.id, status };
    } catch (err) {
      if (ticker) clearInterval(ticker);
      await writing;
      if (
        signal?.aborted ||
        (err as { code?: string }).code === 'LEASE_ABORTED' ||
        (err instanceof ImapSyncError && err.code === 'CANCELLED')
      ) {
        log.info('mailbox sync cancelled', { pass: input.pass, attempt });
        throw new CancelledFailure('sync cancelled');
      }
      if (err instanceof ImapSyncError && err.side && UNREACHABLE.has(err.code)) {
        deps.components?.down(imapComponent(err.side === 'source' ? srcEp : dstEp), err);
      }
      if (err instanceof ImapSyncError && err.retryClass === 'mailbox') {
        return fail(log, mb.id, err.code, err.message);
      }
      const database = classifyDatabaseError(err);
      const code: MailboxErrorCode = err instanceof ImapSyncError ? err.code : (database?.code ?? 'SYNC_ERROR');
      const message = database?.message ?? (err instanceof Error ? err.message : String(err));
      await recordSyncError(pool, mb.id, code, message).catch(() => undefined);
      // Temporal retries it with backoff, up to the workflow's attempt limit (then the mailbox is Failed).
      log.warn('mailbox sync attempt failed', { pass: input.pass, attempt, retryable: true, code, reason: message });
      throw ApplicationFailure.retryable(message, code);
    }
  }

  return { syncMailbox };
}
