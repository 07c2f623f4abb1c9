/**
 * How a batch's mailboxes count, as the seed's statistics name them. Pure: the workflow, the API, the
 * dashboard and the SQL of `db/mailbox-counts.ts` all follow these definitions.
 *
 * - **Synced**: finished its initial sync (Synced, Completing, Completed, or Syncing an incremental pass).
 * - **Finalized**: Completed.
 */
/** Percentage synced, rounded down to one decimal: 99.96 % shows as 99.9, never as 100. */
export function percentageSynced(synced: number, total: number): number {
  return total === 0 ? 0 : Math.floor((synced * 1000) / total) / 10;
}
