import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { classifyDatabaseError } from '../db/errors';
import type { MailboxLocks } from '../db/mailbox-locks';
import { createSyncStore } from '../db/sync-store';
import type { PassKind } from '../domain/batch-messages';
import type { ImapCredentials, ImapEndpoint } from '../imap/connection';
import { testImapConnection, type ConnectionTestResult } from '../imap/connection-test';
import { ImapSyncError } from '../imap/errors';
import { syncMailboxOverImap, type MailboxSyncProgress } from '../imap/mailbox-sync';
import { secretContext, type SecretBox } from '../secrets/secret-box';
import { withEndpointLease } from './endpoint-leases';

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

/** Test of one endpoint (its admin login when it has one), or of one mailbox's credentials on one side. */
export interface TestEndpointConnectionInput {
  endpointId: string;
  /** With a mailbox: log in as that mailbox's user on this endpoint (its own secret, or the admin on its behalf). */
  mailboxId?: string;
  side?: 'source' | 'destination';
}

export interface SyncMailboxDeps {
  pool: Pool;
  /** This process's mailbox locks (one dedicated connection, see db/mailbox-locks.ts). */
  locks: MailboxLocks;
  secretBox: SecretBox;
  /** Minimum time between progress writes to the mailbox row. Default 2 seconds. */
  progressIntervalMs?: number;
}

interface EndpointRow {
  id: string;
  host: string;
  port: number;
  security: ImapEndpoint['security'];
  accept_untrusted_certs: boolean;
  auth_method: ImapEndpoint['authMethod'];
  provider: ImapEndpoint['provider'];
  admin_user: string | null;
  admin_secret: Buffer | null;
}

interface MailboxRow {
  id: string;
  batch_id: string;
  email: string;
  source_user: string;
  source_secret: Buffer | null;
  destination_user: string | null;
  destination_secret: Buffer | null;
  started_at: Date | null;
  source_endpoint_id: string;
  destination_endpoint_id: string;
  bad_item_limit: number;
  large_item_limit: number;
  large_item_max_bytes: string;
  folder_include: string[];
  folder_exclude: string[];
  delete_on_destination: boolean;
}

/** Heartbeat details: where the last attempt of this activity got to (counters only, never a secret). */
interface SyncHeartbeat {
  pass: PassKind;
  foldersSynced: number;
  itemsCopied: number;
  bytesCopied: number;
  currentFolder: string | null;
}

const endpointOf = (e: EndpointRow): ImapEndpoint => ({
  host: e.host,
  port: e.port,
  security: e.security,
  acceptUntrustedCerts: e.accept_untrusted_certs,
  authMethod: e.auth_method,
  provider: e.provider,
});

class CredentialsMissing extends Error {
  readonly code = 'CREDENTIALS_MISSING';
}

function credentialsFor(
  secretBox: SecretBox,
  endpoint: EndpointRow,
  user: string,
  sealed: Buffer | null,
  context: string,
): ImapCredentials {
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

async function loadEndpoint(pool: Pool, id: string): Promise<EndpointRow | null> {
  const { rows } = await pool.query<EndpointRow>(
    `select id, host, port, security, accept_untrusted_certs, auth_method, provider, admin_user, admin_secret
       from endpoints where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

function currentContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/**
 * The activities that move one mailbox: `syncMailbox` (one pass over one mailbox; permanent failures of the
 * mailbox are returned as status Failed, transient ones thrown so Temporal retries) and
 * `testEndpointConnection`.
 */
export function createSyncMailboxActivities(deps: SyncMailboxDeps) {
  const { pool, locks, secretBox } = deps;
  const progressIntervalMs = deps.progressIntervalMs ?? 2000;

  async function fail(mailboxId: string, code: string, message: string): Promise<SyncMailboxResult> {
    await pool.query(
      `update mailboxes set status = 'Failed', last_error = $2, last_error_code = $3, current_folder = null,
              items_per_second = null, updated_at = now()
        where id = $1`,
      [mailboxId, message, code],
    );
    return { mailboxId, status: 'Failed', errorCode: code, error: message };
  }

  async function syncMailbox(input: SyncMailboxInput): Promise<SyncMailboxResult> {
    const ctx = currentContext();
    const signal = ctx?.cancellationSignal;
    const { rows } = await pool.query<MailboxRow>(
      `select m.id, m.batch_id, m.email, m.source_user, m.source_secret, m.destination_user, m.destination_secret, m.started_at,
              b.source_endpoint_id, b.destination_endpoint_id, b.bad_item_limit, b.large_item_limit, b.large_item_max_bytes,
              b.folder_include, b.folder_exclude, b.delete_on_destination
         from mailboxes m join batches b on b.id = m.batch_id
        where m.id = $1 and m.batch_id = $2`,
      [input.mailboxId, input.batchId],
    );
    const mb = rows[0];
    if (!mb)
      return {
        mailboxId: input.mailboxId,
        status: 'Failed',
        errorCode: 'MAILBOX_NOT_FOUND',
        error: 'the mailbox is not part of the batch (removed?)',
      };
    const [srcEp, dstEp] = await Promise.all([
      loadEndpoint(pool, mb.source_endpoint_id),
      loadEndpoint(pool, mb.destination_endpoint_id),
    ]);
    if (!srcEp || !dstEp) return fail(mb.id, 'ENDPOINT_NOT_FOUND', 'the batch endpoint no longer exists');

    let source: ImapCredentials;
    let destination: ImapCredentials;
    try {
      source = credentialsFor(
        secretBox,
        srcEp,
        mb.source_user,
        mb.source_secret,
        secretContext.mailboxSource(mb.batch_id, mb.email),
      );
      destination = credentialsFor(
        secretBox,
        dstEp,
        mb.destination_user ?? mb.email,
        mb.destination_secret,
        secretContext.mailboxDestination(mb.batch_id, mb.email),
      );
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'SECRET_UNREADABLE';
      return fail(mb.id, code, (err as Error).message);
    }

    const store = createSyncStore(pool, mb.id);
    const before = await store.totals();
    const resumed = (ctx?.info.heartbeatDetails ?? null) as SyncHeartbeat | null;
    const passStarted = Date.now();
    await pool.query(
      `update mailboxes set status = 'Syncing', started_at = coalesce(started_at, now()), updated_at = now() where id = $1`,
      [mb.id],
    );

    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const writeProgress = (p: MailboxSyncProgress) => {
      const seconds = (Date.now() - passStarted) / 1000;
      writing = pool
        .query(
          `update mailboxes set status = 'Syncing', folders_total = $2, folders_synced = $3, items_total = greatest($4::bigint, $5::bigint),
                  items_synced = $5::bigint, items_skipped = $6::bigint, bytes_synced = $7::bigint, current_folder = $8, items_per_second = $9::real,
                  updated_at = now()
            where id = $1 and status = 'Syncing'`,
          [
            mb.id,
            p.foldersTotal,
            p.foldersSynced,
            p.itemsTotal,
            before.copied + p.itemsCopied,
            before.skipped + p.itemsSkipped,
            before.bytes + p.bytesCopied,
            p.currentFolder,
            seconds > 0 ? p.itemsCopied / seconds : null,
          ],
        )
        .catch(() => undefined); // progress is best effort; the final write is not
    };
    let lastDetails: SyncHeartbeat | undefined = resumed ?? undefined;
    // Heartbeat on a clock too, not only on progress: one MULTIAPPEND of a large batch, or hashing a folder after
    // a UIDVALIDITY change, can outlast the heartbeat timeout while the sync is perfectly alive.
    const ticker = ctx ? setInterval(() => ctx.heartbeat(lastDetails), 5_000) : null;
    ticker?.unref();
    const onProgress = (p: MailboxSyncProgress) => {
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
          onProgress,
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
      if (ticker) clearInterval(ticker);
      await writing;
      const totals = await store.totals();
      const final = input.pass === 'final';
      await pool.query(
        `update mailboxes
            set status = $2, folders_total = $3, folders_synced = $3, items_total = greatest($4::bigint, $5::bigint), items_synced = $5,
                items_skipped = $6::bigint, bytes_synced = $7::bigint, current_folder = null, items_per_second = $8::real,
                last_synced_at = now(), initial_sync_at = coalesce(initial_sync_at, now()),
                initial_sync_duration_ms = coalesce(initial_sync_duration_ms,
                  (extract(epoch from (now() - coalesce(started_at, now()))) * 1000)::bigint),
                finalized_at = case when $9::boolean then now() else finalized_at end,
                last_error = null, last_error_code = null, updated_at = now()
          where id = $1`,
        [
          mb.id,
          final ? 'Completed' : 'Synced',
          summary.foldersTotal,
          summary.itemsTotal,
          totals.copied,
          totals.skipped,
          totals.bytes,
          summary.itemsCopied / Math.max((Date.now() - passStarted) / 1000, 0.001),
          final,
        ],
      );
      return { mailboxId: mb.id, status: final ? 'Completed' : 'Synced' };
    } catch (err) {
      if (ticker) clearInterval(ticker);
      await writing;
      if (
        signal?.aborted ||
        (err as { code?: string }).code === 'LEASE_ABORTED' ||
        (err instanceof ImapSyncError && err.code === 'CANCELLED')
      ) {
        throw new CancelledFailure('sync cancelled');
      }
      if (err instanceof ImapSyncError && err.retryClass === 'mailbox') {
        return fail(mb.id, err.code, err.message);
      }
      const database = classifyDatabaseError(err);
      const code = err instanceof ImapSyncError ? err.code : (database?.code ?? 'SYNC_ERROR');
      const message = database?.message ?? (err instanceof Error ? err.message : String(err));
      await pool
        .query('update mailboxes set last_error = $2, last_error_code = $3, updated_at = now() where id = $1', [
          mb.id,
          message,
          code,
        ])
        .catch(() => undefined);
      throw ApplicationFailure.retryable(message, code);
    }
  }

  async function testEndpointConnection(input: TestEndpointConnectionInput): Promise<ConnectionTestResult> {
    const ep = await loadEndpoint(pool, input.endpointId);
    if (!ep) return { ok: false, code: 'ENDPOINT_NOT_FOUND', message: 'no such endpoint' };
    try {
      if (input.mailboxId) {
        const { rows } = await pool.query<MailboxRow>(
          'select id, batch_id, email, source_user, source_secret, destination_user, destination_secret from mailboxes where id = $1',
          [input.mailboxId],
        );
        const mb = rows[0];
        if (!mb) return { ok: false, code: 'MAILBOX_NOT_FOUND', message: 'no such mailbox' };
        const creds =
          input.side === 'destination'
            ? credentialsFor(
                secretBox,
                ep,
                mb.destination_user ?? mb.email,
                mb.destination_secret,
                secretContext.mailboxDestination(mb.batch_id, mb.email),
              )
            : credentialsFor(
                secretBox,
                ep,
                mb.source_user,
                mb.source_secret,
                secretContext.mailboxSource(mb.batch_id, mb.email),
              );
        return await testImapConnection(endpointOf(ep), creds);
      }
      if (ep.admin_user && ep.admin_secret) {
        const secret = secretBox.open(ep.admin_secret, secretContext.endpointAdmin(ep.id));
        return await testImapConnection(endpointOf(ep), { user: ep.admin_user, secret });
      }
      return await testImapConnection(endpointOf(ep));
    } catch (err) {
      return {
        ok: false,
        code: (err as { code?: string }).code ?? 'SECRET_UNREADABLE',
        message: (err as Error).message,
      };
    }
  }

  return { syncMailbox, testEndpointConnection };
}
