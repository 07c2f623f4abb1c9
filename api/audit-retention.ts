import type { Pool } from 'pg';
import { deleteAuditOlderThan } from '../db/audit';
import type { Logger } from '../observability/logger';

/** How often the API trims the audit log: retention is counted in days, so hourly is ample and cheap. */
export const AUDIT_RETENTION_INTERVAL_MS = 3_600_000;

/**
 * Deletes audit entries older than `retentionMs` now and then every hour, in the API process (which runs anyway).
 * The timer is unref'd so it never keeps the process alive; call the returned function to stop it before the pool
 * closes. A failed run is logged and retried on the next tick.
 */
export function startAuditRetention(pool: Pool, retentionMs: number, logger: Logger): () => void {
  const run = async (): Promise<void> => {
    try {
      const deleted = await deleteAuditOlderThan(pool, retentionMs);
      if (deleted > 0) logger.info('old audit entries deleted', { deleted, retentionMs });
    } catch (err) {
      logger.warn('could not delete old audit entries', { error: (err as Error).message });
    }
  };
  void run();
  const timer = setInterval(() => void run(), AUDIT_RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
