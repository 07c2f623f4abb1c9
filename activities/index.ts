import type { Pool } from 'pg';
import type { MailboxLocks } from '../db/mailbox-locks';
import type { SyncMetrics } from '../observability/metrics';
import type { SecretBox } from '../secrets/secret-box';
import { createBatchActivities } from './batch-activities';
import { createSyncMailboxActivities } from './sync-mailbox';

export interface ActivityDeps {
  pool: Pool;
  locks: MailboxLocks;
  secretBox: SecretBox;
  /** Minimum time between progress writes of a running mailbox sync. */
  progressIntervalMs?: number;
  /** The process's sync metrics (observability/metrics.ts). */
  metrics?: SyncMetrics;
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBatchActivities({ pool: deps.pool }),
    ...createSyncMailboxActivities(deps),
  };
}
