import { Writable } from 'node:stream';
import { safeClientLine, imapflowLogger, HIDDEN } from '../../imap/imapflow-log';
import { createLogger, temporalLogger, type LogLevel } from '../../observability/logger';

/** A logger writing into an array, as the processes write to standard output. */
function capture(level: LogLevel = 'debug', pretty = false) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level, pretty, destination });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

test('one JSON object per line: ISO time, level name, msg and the fields, child fields on every line', () => {
  const { logger, lines } = capture('info');
  const mailbox = logger.child({ batch: 'Wave 1', mailboxId: 'm-1', address: 'ann@example.com' });
  mailbox.info('mailbox sync started', { pass: 'initial' });
  mailbox.debug('below the level: not written');
  logger.warn('plain');
  expect(lines()).toEqual([
    expect.objectContaining({
      level: 'info',
      msg: 'mailbox sync started',
      batch: 'Wave 1',
      mailboxId: 'm-1',
      address: 'ann@example.com',
      pass: 'initial',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    }),
    expect.objectContaining({ level: 'warn', msg: 'plain' }),
  ]);
  expect(logger.isLevelEnabled('debug')).toBe(false);
  expect(logger.isLevelEnabled('warn')).toBe(true);
});

test('fields named like secrets are redacted at every level, debug included, one level deep too', () => {
  const { logger, text } = capture('debug');
  logger.debug('endpoint created', {
    host: 'h',
    adminPassword: 'leak-admin',
    tokenId: 'abc',
    authorization: 'Bearer leak-bearer',
    auth: { user: 'u', pass: 'leak-pass', accessToken: 'leak-token' },
    endpoint: { password: 'leak-nested', secret: 'leak-secret' },
  });
  logger.child({ token: 'leak-child' }).info('child');
  const out = text();
  for (const leak of [
    'leak-admin',
    'leak-bearer',
    'leak-pass',
    'leak-token',
    'leak-nested',
    'leak-secret',
    'leak-child',
  ])
    expect(out).not.toContain(leak);
  expect(JSON.parse(out.split('\n')[0]!)).toMatchObject({ host: 'h', tokenId: 'abc', adminPassword: '[redacted]' });
});

test('pretty output (npm start on a terminal) is for reading, not JSON, and redacts the same', () => {
  const { logger, text } = capture('info', true);
  logger.info('folder synced', { folder: 'INBOX', copied: 3, password: 'leak-pretty' });
  expect(text()).toContain('folder synced');
  expect(text()).toContain('INBOX');
  expect(text()).not.toContain('leak-pretty');
  expect(() => JSON.parse(text())).toThrow();
});

test("the Temporal SDK's log goes through the same logger, at the matching level", () => {
  const { logger, lines } = capture('debug');
  const sdk = temporalLogger(logger);
  sdk.trace('core trace');
  sdk.info('Worker state changed', { state: 'RUNNING' });
  sdk.log('WARN', 'Activity failed', { error: new Error('boom'), activityType: 'syncMailbox' });
  expect(lines().map((l) => [l.level, l.msg, l.component])).toEqual([
    ['debug', 'core trace', 'temporal-sdk'],
    ['info', 'Worker state changed', 'temporal-sdk'],
    ['warn', 'Activity failed', 'temporal-sdk'],
  ]);
  expect(lines()[2].error).toMatchObject({ message: 'boom' });
});

describe("imapflow's command log", () => {
  it('keeps ordinary commands and hides every argument of LOGIN and AUTHENTICATE and every other client line', () => {
    expect(safeClientLine('A3 UID FETCH 1:* (UID FLAGS)')).toBe('A3 UID FETCH 1:* (UID FLAGS)');
    expect(safeClientLine('DONE')).toBe('DONE');
    expect(safeClientLine('(* 2048B continuation *)')).toBe('(* 2048B continuation *)');
    expect(safeClientLine('2 LOGIN "ann@example.com" "S3cret"')).toBe(`2 LOGIN ${HIDDEN}`);
    expect(safeClientLine('2 login ann S3cret')).toBe(`2 login ${HIDDEN}`);
    const saslIr = Buffer.from('user=ann\x01auth=Bearer tok\x01\x01').toString('base64');
    expect(safeClientLine(`3 AUTHENTICATE XOAUTH2 ${saslIr}`)).toBe(`3 AUTHENTICATE XOAUTH2 ${HIDDEN}`);
    // Continuation answers of a login: the PLAIN response, AUTH=LOGIN's user name and password.
    expect(safeClientLine(Buffer.from('\0ann\0S3cret').toString('base64'))).toBe(HIDDEN);
    expect(safeClientLine('YW5u')).toBe(HIDDEN);
    expect(safeClientLine('')).toBe(HIDDEN);
  });

  it('arrives at debug with its connection id, raw data dropped, and nothing when debug is off', () => {
    const { logger, lines } = capture('debug');
    const imap = imapflowLogger(logger);
    imap.info({ msg: 'Established TCP connection', cid: 'c1', host: 'imap.example.com' });
    imap.debug({ src: 'c', msg: '2 LOGIN "ann" "S3cret"', cid: 'c1' });
    imap.error({ msg: 'socket closed', err: new Error('ECONNRESET'), data: 'cmF3', cid: 'c1' });
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'Established TCP connection', cid: 'c1', imapLevel: 'info' }),
      expect.objectContaining({ level: 'debug', msg: `2 LOGIN ${HIDDEN}`, src: 'c' }),
      expect.objectContaining({
        level: 'debug',
        msg: 'socket closed',
        imapLevel: 'error',
        error: 'ECONNRESET',
      }),
    ]);
    expect(lines()[2]).not.toHaveProperty('data');
    const quiet = capture('info');
    imapflowLogger(quiet.logger).error({ msg: 'not at info' });
    expect(quiet.text()).toBe('');
  });
});
