import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import {
  countBatchesByStatus,
  countMailboxesByBatchAndStatus,
  countRunningPasses,
  selectEndpointLeaseUsage,
} from '../db/metrics-snapshot';
import { BATCH_STATUSES } from '../domain/batch-status';

/**
 * Gauges of the whole installation, read from PostgreSQL when Prometheus scrapes (one statement each). Only the
 * API process registers them: with several workers, each would report the same numbers again. A batch or
 * endpoint that is gone disappears from the next scrape.
 */
export function registerReadModelGauges(registry: Registry, pool: Pool): void {
  const registers = [registry];
  new Gauge({
    name: 'mailferry_batches',
    help: 'Batches by status',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const rows = await countBatchesByStatus(pool);
      // Every status is reported, at zero too, so an alert on Failed > 0 has a series to watch.
      for (const status of BATCH_STATUSES) this.labels(status).set(rows.find((r) => r.status === status)?.count ?? 0);
    },
  });
  new Gauge({
    name: 'mailferry_mailboxes',
    help: 'Mailboxes (migration users) by batch and status',
    labelNames: ['batch', 'status'] as const,
    registers,
    async collect() {
      const rows = await countMailboxesByBatchAndStatus(pool);
      this.reset();
      for (const r of rows) this.labels(r.batch, r.status).set(r.count);
    },
  });
  new Gauge({
    name: 'mailferry_endpoint_leases',
    help: 'Mailbox syncs holding a slot on an endpoint, by kind (an incremental sync counts under both kinds)',
    labelNames: ['endpoint', 'kind'] as const,
    registers,
    async collect() {
      const rows = await selectEndpointLeaseUsage(pool);
      this.reset();
      for (const r of rows) {
        this.labels(r.endpoint, 'migration').set(r.leases);
        this.labels(r.endpoint, 'incremental').set(r.incremental_leases);
      }
    },
  });
  new Gauge({
    name: 'mailferry_endpoint_lease_limit',
    help: "An endpoint's limits: max_concurrent_migrations (kind migration), max_concurrent_incremental_syncs",
    labelNames: ['endpoint', 'kind'] as const,
    registers,
    async collect() {
      const rows = await selectEndpointLeaseUsage(pool);
      this.reset();
      for (const r of rows) {
        this.labels(r.endpoint, 'migration').set(r.max_concurrent_migrations);
        this.labels(r.endpoint, 'incremental').set(r.max_concurrent_incremental_syncs);
      }
    },
  });
  new Gauge({
    name: 'mailferry_passes_running',
    help: 'Batches running a sync pass, by kind (initial, incremental, final)',
    labelNames: ['pass'] as const,
    registers,
    async collect() {
      const counts = await countRunningPasses(pool);
      for (const [pass, count] of Object.entries(counts)) this.labels(pass).set(count);
    },
  });
}
