import type { Pool } from 'pg';
import type { AccessTokens } from '../credentials/access-tokens';
import { createEndpointAccessTokens } from '../credentials/endpoint-tokens';
import type { MailboxLocks } from '../db/mailbox-locks';
import type { Mailer } from '../mail/smtp';
import type { ComponentMonitor } from '../observability/component-status';
import type { Logger } from '../observability/logger';
import type { SyncMetrics } from '../observability/metrics';
import type { MessageBuffers } from '../imap/message-buffers';
import type { SecretBox } from '../secrets/secret-box';
import { createBatchActivities } from './batch-activities';
import { createReportActivities } from './batch-reports';
import { createMailboxCommandActivities } from './mailbox-commands';
import { createSyncMailboxActivities } from './sync-mailbox';
import { createVerifyMailboxActivities } from './verify-mailbox';

export interface ActivityDeps {
  pool: Pool;
  locks: MailboxLocks;
  secretBox: SecretBox;
  /** The worker's cache of minted access tokens (credentials/access-tokens.ts); one of its own when unset. */
  tokens?: AccessTokens;
  /** The worker's logger; each mailbox sync logs through a child of it. */
  logger: Logger;
  /** Minimum time between progress writes of a running mailbox sync. */
  progressIntervalMs?: number;
  /** How often a sync held by a spent daily budget asks again. Default 1 minute. */
  budgetPollMs?: number;
  /** Sends the e-mailed reports; absent when no SMTP server is configured. */
  mailer?: Mailer;
  /** The process's sync metrics (observability/metrics.ts). */
  metrics?: SyncMetrics;
  /** Told when a sync could or could not reach an IMAP server (logged once each way). */
  components?: ComponentMonitor;
  /** The worker's budget for message bodies in memory, shared by all its syncs; none when unset. */
  messageBuffers?: MessageBuffers;
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  // One cache of minted tokens for the syncs and the verifications of this worker.
  deps = { ...deps, tokens: deps.tokens ?? createEndpointAccessTokens(deps) };
  return {
    ...createBatchActivities({ pool: deps.pool }),
    ...createReportActivities(deps),
    ...createSyncMailboxActivities(deps),
    ...createMailboxCommandActivities(deps),
    ...createVerifyMailboxActivities(deps),
  };
}
