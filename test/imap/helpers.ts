import { randomBytes, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { AccessTokens } from '../../credentials/access-tokens';
import type { MailboxLocks } from '../../db/mailbox-locks';
import type { AuthMethod } from '../../domain/endpoint-auth';
import { createSyncStore } from '../../db/sync-store';
import type { ImapEndpoint } from '../../imap/connection';
import type { MailboxSyncOptions, SyncDatabase, SyncSide } from '../../imap/mailbox-sync';
import {
  createSyncMailboxActivities,
  type SyncMailboxInput,
  type SyncMailboxResult,
} from '../../activities/sync-mailbox';
import { silentLogger, type Logger } from '../../observability/logger';
import type { SyncMetrics } from '../../observability/metrics';
import { createSecretBox, secretContext, type SecretBox } from '../../secrets/secret-box';
import { comparableMessages, startDovecot, type DovecotServer, type SeedMessage } from '../fixtures/dovecot';

export const secretBox: SecretBox = createSecretBox(randomBytes(32));

/**
 * An activity context for running activities outside a worker. Its logger keeps to errors: these tests fail
 * activities on purpose and assert the failure, and the SDK's WARN "Activity failed" dump of each one would read
 * like a problem in the test output.
 */
export function activityEnvironment(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

/** Runs the real `syncMailbox` activity once, outside a worker, with this file's secret box. */
export function runSync(
  db: { pool: Pool; locks: MailboxLocks },
  input: SyncMailboxInput,
  options: {
    progressIntervalMs?: number;
    env?: MockActivityEnvironment;
    logger?: Logger;
    tokens?: AccessTokens;
    metrics?: SyncMetrics;
  } = {},
): Promise<SyncMailboxResult> {
  const { syncMailbox } = createSyncMailboxActivities({
    ...db,
    secretBox,
    tokens: options.tokens,
    logger: options.logger ?? silentLogger,
    progressIntervalMs: options.progressIntervalMs,
    metrics: options.metrics,
  });
  return (options.env ?? activityEnvironment()).run(syncMailbox, input);
}

/** What a direct engine call of one mailbox gets: that mailbox's PostgreSQL sync store and the process's locks. */
export function engineDatabase(db: { pool: Pool; locks: MailboxLocks }, mailboxId: string): SyncDatabase {
  return { store: createSyncStore(db.pool, mailboxId), locks: db.locks };
}

/** Batch settings for calling the engine directly: every folder, no deletions, the product's default limits. */
export const ENGINE_DEFAULTS: Omit<MailboxSyncOptions, 'signal' | 'onProgress'> = {
  folderInclude: [],
  folderExclude: [],
  deleteOnDestination: false,
  badItemLimit: 10,
  largeItemLimit: 0,
  largeItemMaxBytes: 150 * 1024 * 1024,
};

/** How the engine reaches a test Dovecot: cleartext, PLAIN, Dovecot profile, unless `more` says otherwise. */
export function imapEndpointOf(server: { host: string; port: number }, more: Partial<ImapEndpoint> = {}): ImapEndpoint {
  return {
    host: server.host,
    port: server.port,
    security: 'none',
    acceptUntrustedCerts: false,
    authMethod: 'plain',
    provider: 'dovecot',
    ...more,
  };
}

/** One side of a direct engine call: `user` with `secret` on a test server (or a proxy before it). */
export function syncSide(server: { host: string; port: number }, user: string, secret: string): SyncSide {
  return { endpoint: imapEndpointOf(server), credentials: { user, secret } };
}

/**
 * A batch between two servers (each its own endpoint) holding one mailbox of `user`, with the passwords of
 * {@link startDovecotPair}: `src-pw` on the source, `dst-pw` on the destination.
 */
export async function insertPairMailbox(
  pool: Pool,
  source: Pick<DovecotServer, 'host' | 'port'>,
  destination: Pick<DovecotServer, 'host' | 'port'>,
  user: string,
): Promise<{ batchId: string; mailboxId: string }> {
  const batchId = await insertBatch(pool, await insertEndpoint(pool, source), await insertEndpoint(pool, destination));
  const mailboxId = await insertMailbox(pool, batchId, {
    email: user,
    sourcePassword: 'src-pw',
    destinationPassword: 'dst-pw',
  });
  return { batchId, mailboxId };
}

export async function insertEndpoint(
  pool: Pool,
  server: Pick<DovecotServer, 'host' | 'port'>,
  opts: {
    admin?: { user: string; password: string };
    name?: string;
    provider?: 'generic' | 'dovecot' | 'gmail' | 'm365';
    authMethod?: AuthMethod;
    /** A minting method's key JSON, client secret or refresh token (sealed like the admin password). */
    mintingSecret?: string;
    oauth?: { tenantId: string; clientId: string; authority: string | null };
  } = {},
): Promise<string> {
  const id = randomUUID();
  const secret = opts.mintingSecret ?? opts.admin?.password;
  await pool.query(
    `insert into endpoints (id, name, provider, host, port, security, admin_user, admin_secret, auth_method,
                            oauth_tenant_id, oauth_client_id, oauth_authority)
     values ($1, $2, $7, $3, $4, 'none', $5, $6, $8, $9, $10, $11)`,
    [
      id,
      opts.name ?? `dovecot-${server.port}-${id.slice(0, 6)}`,
      server.host,
      server.port,
      opts.admin?.user ?? null,
      secret ? secretBox.seal(secret, secretContext.endpointAdmin(id)) : null,
      opts.provider ?? 'dovecot',
      opts.authMethod ?? 'plain',
      opts.oauth?.tenantId ?? null,
      opts.oauth?.clientId ?? null,
      opts.oauth?.authority ?? null,
    ],
  );
  return id;
}

export interface BatchSettings {
  badItemLimit?: number;
  largeItemLimit?: number;
  largeItemMaxBytes?: number;
  folderInclude?: string[];
  folderExclude?: string[];
  deleteOnDestination?: boolean;
}

export async function insertBatch(
  pool: Pool,
  sourceEndpointId: string,
  destinationEndpointId: string,
  s: BatchSettings = {},
): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `insert into batches (id, name, workflow_id, status, source_endpoint_id, destination_endpoint_id, created_by,
                          bad_item_limit, large_item_limit, large_item_max_bytes, folder_include, folder_exclude, delete_on_destination)
     values ($1, $2, $3, 'Syncing', $4, $5, 'test', $6, $7, $8, $9, $10, $11)`,
    [
      id,
      `batch-${id.slice(0, 8)}`,
      `batch:batch-${id.slice(0, 8)}`,
      sourceEndpointId,
      destinationEndpointId,
      s.badItemLimit ?? 10,
      s.largeItemLimit ?? 0,
      s.largeItemMaxBytes ?? 157286400,
      s.folderInclude ?? [],
      s.folderExclude ?? [],
      s.deleteOnDestination ?? false,
    ],
  );
  return id;
}

export async function insertMailbox(
  pool: Pool,
  batchId: string,
  m: {
    email: string;
    sourceUser?: string;
    sourcePassword?: string | null;
    destinationUser?: string;
    destinationPassword?: string | null;
  },
): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into mailboxes (batch_id, email, source_user, source_secret, destination_user, destination_secret)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [
      batchId,
      m.email,
      m.sourceUser ?? m.email,
      m.sourcePassword ? secretBox.seal(m.sourcePassword, secretContext.mailboxSource(batchId, m.email)) : null,
      m.destinationUser ?? m.email,
      m.destinationPassword
        ? secretBox.seal(m.destinationPassword, secretContext.mailboxDestination(batchId, m.email))
        : null,
    ],
  );
  return rows[0]!.id;
}

export async function mailboxRow(pool: Pool, id: string): Promise<Record<string, unknown>> {
  const { rows } = await pool.query('select * from mailboxes where id = $1', [id]);
  return rows[0] as Record<string, unknown>;
}

/**
 * Two Dovecots with the same users, passwords `src-pw` on the source and `dst-pw` on the destination, each user's
 * source mail written straight into its Maildir: for the tests that sync many mailboxes at once.
 */
export async function startDovecotPair(
  users: string[],
  mail: (user: string) => SeedMessage[],
): Promise<{ source: DovecotServer; destination: DovecotServer }> {
  const [source, destination] = await Promise.all([
    startDovecot({ users: users.map((user) => ({ user, password: 'src-pw' })) }),
    startDovecot({ users: users.map((user) => ({ user, password: 'dst-pw' })) }),
  ]);
  for (const user of users) await source.writeMaildir(user, mail(user));
  return { source, destination };
}

/** Every user's mail on the destination is the source's: the same messages, flags and dates, each once. */
export async function expectCopiedExactly(source: DovecotServer, destination: DovecotServer, users: string[]) {
  for (const user of users) {
    const from = comparableMessages(await source.readMailbox(user), source);
    const to = comparableMessages(await destination.readMailbox(user), destination);
    expect({ user, to }).toEqual({ user, to: from });
  }
}
