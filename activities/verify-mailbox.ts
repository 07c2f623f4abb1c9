import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { withEndpointLease } from '../db/endpoint-leases';
import { createDavSyncStore } from '../db/dav-sync-store';
import { classifyDatabaseError } from '../db/errors';
import type { MailboxLocks } from '../db/mailbox-locks';
import { loadSyncTarget } from '../db/mailbox-sync-rows';
import { saveVerification } from '../db/verifications';
import { createVerifyStore } from '../db/verify-store';
import { DavSyncError } from '../dav/errors';
import { verifyMailboxOverDav } from '../dav/verify';
import { gradeOf, type Grade } from '../domain/consistency';
import type { MailboxErrorCode } from '../domain/mailbox-errors';
import { ImapSyncError } from '../imap/errors';
import { MailboxLockError } from '../imap/mailbox-lock';
import { verifyMailboxOverImap } from '../imap/verify';
import type { Logger } from '../observability/logger';
import type { SecretBox } from '../secrets/secret-box';
import { davSideOf, hasDavPair } from './dav-sides';
import { currentContext, isAccessFailure, openMailboxSides } from './mailbox-access';
import type { AccessTokens } from '../credentials/access-tokens';
import { createEndpointAccessTokens } from '../credentials/endpoint-tokens';

export interface VerifyMailboxInput {
  batchId: string;
  mailboxId: string;
  /** Compare full contents too (BODY.PEEK[]), not only the header data. */
  deep: boolean;
}

/** A graded mailbox, or why it could not be verified (the mailbox's status and its last verification stay). */
export interface VerifyMailboxResult {
  mailboxId: string;
  grade: Grade | null;
  errorCode?: MailboxErrorCode;
  error?: string;
}

export interface VerifyMailboxDeps {
  pool: Pool;
  locks: MailboxLocks;
  secretBox: SecretBox;
  logger: Logger;
  /** The worker's cache of minted access tokens (see SyncMailboxDeps); default: one of this activity's own. */
  tokens?: AccessTokens;
}

/**
 * `verifyMailbox`: compares one mailbox's source and destination (imap/verify.ts; then, when both endpoints have
 * a DAV service of a kind the batch does not skip, its calendars and contacts: dav/verify.ts) and keeps one grade
 * over every kind and the differences in `verifications`. It holds the endpoints' slots and the mailbox's lock,
 * as a sync does, so a verification never runs beside a sync of the same mailbox and never overloads a server. A problem of the
 * mailbox (wrong password, no endpoint) is returned, not thrown: a verification never fails a mailbox; a
 * transient one is thrown for Temporal to retry.
 */
export function createVerifyMailboxActivities(deps: VerifyMailboxDeps) {
  const { pool, locks, secretBox, logger } = deps;
  const tokens = deps.tokens ?? createEndpointAccessTokens(deps);

  async function verifyMailbox(input: VerifyMailboxInput): Promise<VerifyMailboxResult> {
    const ctx = currentContext();
    const signal = ctx?.cancellationSignal;
    const heartbeat = () => ctx?.heartbeat();
    const mb = await loadSyncTarget(pool, input.mailboxId, input.batchId);
    if (!mb) {
      return {
        mailboxId: input.mailboxId,
        grade: null,
        errorCode: 'MAILBOX_NOT_FOUND',
        error: 'the mailbox is not part of the batch (removed?)',
      };
    }
    const log = logger.child({ batchId: mb.batch_id, batch: mb.batch_name, mailboxId: mb.id, address: mb.email });
    const refused = (code: MailboxErrorCode, message: string): VerifyMailboxResult => {
      log.warn('mailbox verification failed', { code, error: message });
      return { mailboxId: mb.id, grade: null, errorCode: code, error: message };
    };
    const sides = await openMailboxSides(pool, secretBox, tokens, mb);
    if (isAccessFailure(sides)) return refused(sides.code, sides.message);
    const davSource = davSideOf(sides.endpointRows[0], sides.source.credentials, 'source');
    const davDestination = davSideOf(sides.endpointRows[1], sides.destination.credentials, 'destination');
    const ticker = ctx ? setInterval(heartbeat, 5_000) : null;
    ticker?.unref();
    log.info('mailbox verification started', { deep: input.deep });
    try {
      const result = await withEndpointLease(
        pool,
        {
          endpointIds: sides.endpointRows.map((e) => e.id),
          mailboxId: mb.id,
          kind: 'incremental',
          onWait: heartbeat,
          signal,
        },
        async () => {
          const lock = await locks.acquire(mb.id, { waitMs: 30_000, signal, onWait: heartbeat });
          const locked = signal ? AbortSignal.any([signal, lock.lost]) : lock.lost;
          try {
            const mail = await verifyMailboxOverImap(createVerifyStore(pool, mb.id), sides.source, sides.destination, {
              folderInclude: mb.folder_include,
              folderExclude: mb.folder_exclude,
              deep: input.deep,
              signal: locked,
              onProgress: heartbeat,
              logger: log,
            });
            if (!hasDavPair(davSource, davDestination)) return mail;
            const dav = await verifyMailboxOverDav(createDavSyncStore(pool, mb.id), davSource, davDestination, {
              skipCalendar: mb.skip_calendar,
              skipTasks: mb.skip_tasks,
              skipContacts: mb.skip_contacts,
              deep: input.deep,
              signal: locked,
              logger: log,
            });
            const sourceItems = mail.sourceItems + dav.sourceItems;
            const differences = [...mail.differences, ...dav.differences];
            return {
              ...mail,
              grade: gradeOf(differences, sourceItems),
              sourceItems,
              destinationItems: mail.destinationItems + dav.destinationItems,
              differences,
            };
          } finally {
            await lock.release();
          }
        },
      );
      await saveVerification(pool, mb.id, result);
      return { mailboxId: mb.id, grade: result.grade };
    } catch (err) {
      if (
        signal?.aborted ||
        (err as { code?: string }).code === 'LEASE_ABORTED' ||
        ((err instanceof ImapSyncError || err instanceof DavSyncError || err instanceof MailboxLockError) &&
          err.code === 'CANCELLED')
      ) {
        log.info('mailbox verification cancelled');
        throw new CancelledFailure('verification cancelled');
      }
      const engine = err instanceof ImapSyncError || err instanceof DavSyncError ? err : null;
      if (engine?.retryClass === 'mailbox') return refused(engine.code, engine.message);
      const database = classifyDatabaseError(err);
      const known = engine ?? (err instanceof MailboxLockError ? err : null);
      const code: MailboxErrorCode = known?.code ?? database?.code ?? 'SYNC_ERROR';
      const message = database?.message ?? (err instanceof Error ? err.message : String(err));
      log.warn('mailbox verification attempt failed', { retryable: true, code, reason: message });
      throw ApplicationFailure.retryable(message, code);
    } finally {
      if (ticker) clearInterval(ticker);
    }
  }

  return { verifyMailbox };
}
