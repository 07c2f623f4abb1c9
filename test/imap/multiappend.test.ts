/**
 * The MULTIAPPEND the sync sends on a LITERAL+ server (Dovecot): one round trip for the whole command, and the
 * messages written from their own buffers, not joined into one copy of the command first (imap/multiappend.ts).
 */
import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { appendMessages, type AppendItem } from '../../imap/multiappend';
import { startDelayProxy, type DelayProxy } from '../fixtures/delay-proxy';
import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';

const USER = 'frank@example.com';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('appendMessages on a LITERAL+ server', () => {
  let server: DovecotServer;
  let proxy: DelayProxy;
  let client: ImapFlow;

  beforeAll(async () => {
    server = await startDovecot();
    await server.addUser(USER, 'pw');
    proxy = await startDelayProxy({ host: server.host, port: server.port }, 0);
    client = new ImapFlow({
      host: proxy.host,
      port: proxy.port,
      secure: false,
      auth: { user: USER, pass: 'pw' },
      logger: false,
    });
    await client.connect();
    await client.mailboxCreate('Target');
  });
  afterAll(async () => {
    await client?.logout().catch(() => undefined);
    await proxy?.close();
    await server?.close();
  });

  it('sends 40 messages over 4 KB, one with NUL bytes, in one round trip, byte for byte, without a copy of the command', async () => {
    expect(client.capabilities.has('LITERAL+')).toBe(true);
    const items: AppendItem[] = Array.from({ length: 40 }, (_, i) => ({
      raw: buildMessage({ subject: `append ${i}`, size: 8_000 + i * 100 }),
      flags: i % 2 ? ['\\Seen'] : [],
      internalDate: new Date(Date.UTC(2024, 0, 1 + i)),
    }));
    // A literal8 (BINARY): the compiler marks it "~{n+}", which the framed command keeps.
    items[7]!.raw = Buffer.concat([items[7]!.raw, Buffer.from([0, 1, 2, 0]), Buffer.from('\r\n')]);

    const largest = Math.max(...items.map((i) => i.raw.length));
    const concat = Buffer.concat;
    let largestJoined = 0;
    Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
      const out = concat(list, length);
      largestJoined = Math.max(largestJoined, out.length);
      return out;
    }) as typeof Buffer.concat;
    proxy.reset();
    let outcome;
    try {
      outcome = await appendMessages(client, 'Target', items);
    } finally {
      Buffer.concat = concat;
    }

    expect(proxy.roundTrips()).toBe(1);
    expect(largestJoined).toBeLessThan(largest);
    expect(outcome.uids).toHaveLength(40);
    expect(outcome.uids.every((u) => typeof u === 'number')).toBe(true);

    const stored = (await server.readMailbox(USER)).filter((m) => m.folder === 'Target').sort((a, b) => a.uid - b.uid);
    // A FETCH without BINARY cannot return NUL bytes, so the literal8 message is compared by size; the rest by hash.
    const hashes = (list: { sha256: string }[]) => list.map((m, i) => (i === 7 ? 'binary' : m.sha256));
    expect(hashes(stored)).toEqual(hashes(items.map((i) => ({ sha256: sha256(i.raw) }))));
    expect(stored[7]!.size).toBe(items[7]!.raw.length);
    expect(stored.map((m) => m.flags.includes('\\Seen'))).toEqual(items.map((_, i) => i % 2 === 1));
    expect(stored.map((m) => new Date(m.internalDate).getTime())).toEqual(items.map((i) => i.internalDate!.getTime()));
  });

  it('leaves the connection usable for the commands after it', async () => {
    expect(await client.status('Target', { messages: true })).toMatchObject({ messages: 40 });
  });
});
