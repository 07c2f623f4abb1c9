import type { ImapFlow } from 'imapflow';

/**
 * How many folders a mailbox syncs at once. Each lane is a source and a destination connection, and imapflow
 * waits for every answer before its next command, so far from the servers a lane mostly waits and more lanes hide
 * the round trips. On a LAN the servers' CPUs are the limit and more lanes only add contention, so the count
 * follows the round trip measured at the start of the sync. Measured with TLS through a delay proxy (1,000
 * messages in 6 folders, docs/imap-sync.md): at 50 ms 6 lanes took 5.24 s against 5.96 s for 2; at 20 ms they were
 * no faster (2.27× mbsync against 2.04–2.28×), so only a round trip of 30 ms or more takes them.
 */
export const LAN_FOLDER_LANES = 2;
export const WAN_FOLDER_LANES = 6;
/** A round trip to either server at least this long makes the link a WAN. */
export const WAN_ROUND_TRIP_MS = 30;

/** The lanes for `folders` folders to sync: `configured` when given, else by the measured round trip. */
export function folderLanes(folders: number, roundTripMs: number, configured?: number): number {
  const wanted = configured ?? (roundTripMs >= WAN_ROUND_TRIP_MS ? WAN_FOLDER_LANES : LAN_FOLDER_LANES);
  return Math.max(1, Math.min(wanted, folders));
}

/**
 * The round trip to the slower of the servers, in ms: two NOOPs on each connection, the faster of the two, so a
 * moment of event-loop lag on a busy worker does not pass for distance. A connection that fails the probe counts
 * as near (the sync itself will meet the failure).
 */
export async function measureRoundTrip(clients: ImapFlow[]): Promise<number> {
  const probe = async (client: ImapFlow): Promise<number> => {
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      await client.noop();
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  const times = await Promise.all(clients.map((c) => probe(c).catch(() => 0)));
  return Math.max(0, ...times);
}
