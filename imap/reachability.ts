import { connect } from 'node:net';

/**
 * Resolves once a TCP connection to the server opens (then closes it without a word): the cheapest proof that an
 * IMAP server is up, for the health watch. Rejects with the socket's error (ECONNREFUSED, a timeout).
 */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${host}:${port}: no connection within ${timeoutMs} ms`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new Error(`${host}:${port}: ${err.code ?? err.message}`));
    });
  });
}
