/**
 * A TCP proxy on loopback that adds a round-trip time to every connection through it, for the bench's WAN
 * profile: each chunk, in either direction, is delivered half the round trip after it arrived, in order. It counts
 * round trips the way a client pays for them: a chunk from the client that follows one from the server starts a
 * new turn (the client had to wait for what the server said). TLS passes through untouched. With a round trip of
 * 0 it only counts: over HTTP/1.1 without pipelining a turn is a request (the DAV bench's request counts).
 */
import net from 'node:net';

export interface DelayProxy {
  host: string;
  port: number;
  /** Client turns since the last reset, over all connections. */
  roundTrips(): number;
  reset(): void;
  close(): Promise<void>;
}

export function startDelayProxy(target: { host: string; port: number }, rttMs: number): Promise<DelayProxy> {
  let turns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let lastFromServer = true; // the greeting comes first; the client's first command is a turn
    const pipe = (from: net.Socket, to: net.Socket, fromClient: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (fromClient && lastFromServer) turns++;
        lastFromServer = !fromClient;
        // Timers of one duration fire in the order they were set: the chunks keep their order. No delay: a counter.
        if (rttMs) setTimeout(() => to.write(chunk), rttMs / 2);
        else to.write(chunk);
      });
      from.on('end', () => setTimeout(() => to.end(), rttMs / 2));
      from.on('error', () => to.destroy());
      from.on('close', () => sockets.delete(from));
    };
    pipe(client, upstream, true);
    pipe(upstream, client, false);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        host: '127.0.0.1',
        port,
        roundTrips: () => turns,
        reset: () => {
          turns = 0;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
