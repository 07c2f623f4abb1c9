import type { ImapFlow } from 'imapflow';

/**
 * How many folders a mailbox syncs at once. Each lane is a source and a destination connection, and imapflow
 * waits for every answer before its next command, so over a wide-area link a lane mostly waits: more lanes hide
 * the round trips (at 50 ms, 6 lanes took 4.65 s against 5.86 s for 2). On a LAN the servers' CPUs are the limit
 * and more lanes only add contention, so the count follows the round trip measured at the start of the sync.
 */
export const LAN_FOLDER_LANES = 2;
export const WAN_FOLDER_LANES = 6;
/** A round trip to either server at least this long makes the link a WAN. */
export const WAN_ROUND_TRIP_MS = 10;

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
