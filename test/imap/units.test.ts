import { classifyImapError, ImapSyncError } from '../../imap/errors';
import { withThrottleRetries, type MailboxSyncOptions } from '../../imap/mailbox-sync';
import { CapturingLogger } from '../api/harness';
import { folderIncluded, matchesFolderPattern, planFolders, type FolderInfo } from '../../imap/folders';
import { expandUidSet, formatInternalDate } from '../../imap/multiappend';
import { destinationLimits, exceedsDestinationLimits } from '../../imap/provider-profiles';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../imap/utf7';

describe('modified UTF-7 folder names', () => {
  it.each([
    ['INBOX', 'INBOX'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['Ünïcødé', '&ANw-n&AO8-c&APg-d&AOk-'],
    ['日本語', '&ZeVnLIqe-'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
  ])('%s <-> %s', (name, wire) => {
    expect(encodeModifiedUtf7(name)).toBe(wire);
    expect(decodeModifiedUtf7(wire)).toBe(name);
  });
});

describe('folder patterns and mapping', () => {
  it('matches names, subfolders and wildcards case-insensitively', () => {
    expect(matchesFolderPattern('Archive', ['Archive', '2019'])).toBe(true);
    expect(matchesFolderPattern('archive/*', ['Archive', '2019', 'Q1'])).toBe(true);
    expect(matchesFolderPattern('%/Old', ['Work', 'Old'])).toBe(true);
    expect(matchesFolderPattern('%/Old', ['Work', 'Deep', 'Old'])).toBe(false);
    expect(matchesFolderPattern('Arch', ['Archive'])).toBe(false);
    expect(folderIncluded({ include: ['INBOX', 'Work'], exclude: ['Work/Private'] }, ['Work', 'Private', 'x'])).toBe(
      false,
    );
    expect(folderIncluded({ include: ['INBOX', 'Work'], exclude: [] }, ['Sent'])).toBe(false);
  });

  it("maps roles, INBOX, prefixes and the other side's delimiter", () => {
    const f = (path: string, parts: string[], role: FolderInfo['role'] = null): FolderInfo => ({
      path,
      parts,
      delimiter: '/',
      role,
      subscribed: true,
      selectable: true,
    });
    const plans = planFolders(
      [
        f('INBOX', ['INBOX']),
        f('Sent', ['Sent'], 'Sent'),
        f('Sent2', ['Sent2'], 'Sent'),
        f('a.b/c', ['a.b', 'c']),
        f('INBOX/Sub', ['INBOX', 'Sub']),
        f('Sub', ['Sub']),
      ],
      {
        namespace: { prefix: 'INBOX.', delimiter: '.' },
        folders: [{ ...f('INBOX.Sent Items', ['Sent Items'], 'Sent'), delimiter: '.' }],
      },
      { include: [], exclude: [] },
    );
    expect(plans.map((p) => [p.source.path, p.destinationPath, p.exists])).toEqual([
      ['INBOX', 'INBOX', false],
      ['Sent', 'INBOX.Sent Items', true],
      ['Sent2', 'INBOX.Sent2', false],
      ['a.b/c', 'INBOX.a_b.c', false],
      ['INBOX/Sub', 'INBOX.Sub', false],
      ['Sub', 'INBOX.Sub_2', false],
    ]);
  });
});

describe('protocol details', () => {
  it('expands APPENDUID sets and formats INTERNALDATE in UTC', () => {
    expect(expandUidSet('5:7,9')).toEqual([5, 6, 7, 9]);
    expect(formatInternalDate(new Date('2023-05-06T07:08:09Z'))).toBe('06-May-2023 07:08:09 +0000');
  });

  it('classifies errors into codes and retry classes', () => {
    expect(classifyImapError({ authenticationFailed: true, message: 'x' }, 'source')).toMatchObject({
      code: 'AUTH_FAILED',
      retryClass: 'mailbox',
    });
    expect(classifyImapError({ code: 'ECONNREFUSED' }, 'source', true)).toMatchObject({
      code: 'CONNECTION_FAILED',
      retryClass: 'transient',
    });
    expect(classifyImapError({ code: 'NoConnection' }, 'destination')).toMatchObject({
      code: 'CONNECTION_LOST',
      retryClass: 'transient',
    });
    expect(classifyImapError({ code: 'ETHROTTLE', throttleReset: 5000 }, 'source')).toMatchObject({
      code: 'THROTTLED',
      retryAfterMs: 5000,
    });
    expect(
      classifyImapError({ responseStatus: 'NO', responseText: '[UNAVAILABLE] Try again later' }, 'source'),
    ).toMatchObject({ code: 'THROTTLED' });
    expect(
      classifyImapError(
        { responseStatus: 'NO', serverResponseCode: 'NONEXISTENT', responseText: 'Mailbox does not exist' },
        'source',
      ),
    ).toMatchObject({
      code: 'MAILBOX_NOT_FOUND',
      retryClass: 'mailbox',
    });
    expect(
      classifyImapError({ responseStatus: 'NO', responseText: '[LIMIT] Mail size is too large' }, 'destination'),
    ).toMatchObject({ code: 'SERVER_ERROR' });
  });
});

describe('provider limits', () => {
  it('takes the tighter of the profile and the advertised APPENDLIMIT', () => {
    expect(destinationLimits('m365', 10_000_000)).toEqual({ maxMessageBytes: 10_000_000, maxHeaderFieldBytes: 32768 });
    expect(destinationLimits('dovecot', true)).toEqual({ maxMessageBytes: null, maxHeaderFieldBytes: null });
  });

  it('finds messages over the size limit and header fields over the length limit (folded lines count)', () => {
    const limits = { maxMessageBytes: 1000, maxHeaderFieldBytes: 100 };
    const ok = Buffer.from(`Subject: short\r\nX-Folded: a\r\n b\r\n\r\n${'x'.repeat(500)}`);
    expect(exceedsDestinationLimits(ok, limits)).toBeNull();
    const longField = Buffer.from(
      `Subject: s\r\nX-Long: ${'a '.repeat(30)}\r\n ${'b '.repeat(30)}\r\nTo: t\r\n\r\nbody`,
    );
    expect(exceedsDestinationLimits(longField, limits)).toMatch(/header field/);
    expect(exceedsDestinationLimits(Buffer.alloc(2000, 0x61), limits)).toMatch(/larger than/);
    // A long line in the body is not a header field.
    expect(exceedsDestinationLimits(Buffer.from(`Subject: s\r\n\r\n${'y'.repeat(900)}`), limits)).toBeNull();
  });
});

describe('throttling', () => {
  it('slows down and tries again while the server throttles, up to the retry budget', async () => {
    let calls = 0;
    await withThrottleRetries({ throttleRetries: 3 } as MailboxSyncOptions, async () => {
      calls++;
      if (calls < 3) throw new ImapSyncError('THROTTLED', 'slow down', { retryAfterMs: 5 });
    });
    expect(calls).toBe(3);
    calls = 0;
    const err = await withThrottleRetries({ throttleRetries: 2 } as MailboxSyncOptions, async () => {
      calls++;
      throw new ImapSyncError('THROTTLED', 'slow down', { retryAfterMs: 5 });
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'THROTTLED', retryClass: 'transient' });
    expect(calls).toBe(3);
    // Anything else is not retried here.
    calls = 0;
    await expect(
      withThrottleRetries({} as MailboxSyncOptions, async () => {
        calls++;
        throw new ImapSyncError('AUTH_FAILED', 'no');
      }),
    ).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(calls).toBe(1);
  });

  it('logs each pause with its reason and where it happened', async () => {
    const logger = new CapturingLogger();
    let calls = 0;
    await withThrottleRetries(
      { throttleRetries: 3, logger } as Partial<MailboxSyncOptions> as MailboxSyncOptions,
      async () => {
        if (++calls < 3) throw new ImapSyncError('THROTTLED', 'too many commands', { retryAfterMs: 5 });
      },
      { folder: 'INBOX' },
    );
    expect(logger.lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'warn',
        folder: 'INBOX',
        code: 'THROTTLED',
        reason: 'too many commands',
        retry: 1,
      }),
      expect.objectContaining({ level: 'warn', folder: 'INBOX', retry: 2, of: 3, pauseMs: 5 }),
    ]);
  });
});
