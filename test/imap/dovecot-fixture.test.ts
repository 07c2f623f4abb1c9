import { buildMessage, startDovecot, type DovecotServer } from '../fixtures/dovecot';

describe('Dovecot fixture', () => {
  let dovecot: DovecotServer;
  afterAll(async () => {
    await dovecot?.close();
  });

  it('starts, seeds, reads back, logs in as master, and comes back after a stop on the same port', async () => {
    dovecot = await startDovecot({
      separator: '.',
      prefix: 'INBOX.',
      masterUser: { user: 'admin', password: 'master-pw' },
    });
    await dovecot.addUser('alice@example.com', 'secret');
    const date = new Date('2023-05-06T07:08:09Z');
    await dovecot.seed('alice@example.com', [
      { folder: 'INBOX', raw: buildMessage({ subject: 'one' }), flags: ['\\Seen', '$Label1'], internalDate: date },
      { folder: 'INBOX.Work.Projects', raw: buildMessage({ subject: 'two', size: 50_000 }) },
    ]);
    const messages = await dovecot.readMailbox('alice@example.com');
    expect(messages.map((m) => [m.folder, m.flags, m.internalDate === date.toISOString()])).toEqual([
      ['INBOX', ['$Label1', '\\Seen'], true],
      ['INBOX.Work.Projects', [], false],
    ]);
    const folders = await dovecot.listFolders('alice@example.com');
    expect(folders.find((f) => f.specialUse === '\\Sent')?.path).toBe('INBOX.Sent');
    const master = await dovecot.connect('alice@example.com*admin', 'master-pw');
    await master.logout();
    await dovecot.stop();
    await expect(dovecot.connect('alice@example.com')).rejects.toBeDefined();
    await dovecot.start();
    expect((await dovecot.readMailbox('alice@example.com')).length).toBe(2);
  });
});
