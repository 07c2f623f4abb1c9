import { createServer, type Server, type Socket } from 'node:net';
import { analyzeMailbox } from '../../imap/analyze';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { waitFor } from '../fixtures/wait-for';
import { imapEndpointOf } from './helpers';

/**
 * The analysis is bounded: aborting it ends it at once with CANCELLED, even while a server that accepted the
 * connection never sends its greeting, and it leaves no connection open on either side.
 */
describe('analyzeMailbox', () => {
  let dovecot: DovecotServer;
  let silent: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dovecot = await startDovecot();
    await dovecot.addUser('erin@example.com', 'erin-pw');
    // Accepts connections and never says a word: imapflow alone would wait 30 s for its greeting.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await dovecot?.close();
  });

  it('ends with CANCELLED as soon as its signal aborts, and closes every connection', async () => {
    const address = silent.address() as { port: number };
    const controller = new AbortController();
    const analysis = analyzeMailbox(
      {
        endpoint: imapEndpointOf({ host: '127.0.0.1', port: address.port }),
        credentials: { user: 'erin@example.com', secret: 'erin-pw' },
      },
      { endpoint: imapEndpointOf(dovecot), credentials: { user: 'erin@example.com', secret: 'erin-pw' } },
      { largeItemMaxBytes: 1000, folderInclude: [], folderExclude: [], signal: controller.signal },
    );
    await waitFor(() => sockets.size === 1, 'the connection to the silent server');
    controller.abort();
    await expect(analysis).rejects.toMatchObject({ code: 'CANCELLED' });
    await waitFor(() => sockets.size === 0, 'the silent server connection closed');
  });
});
