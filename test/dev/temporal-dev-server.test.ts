import { lostInternalPort } from '../../dev/temporal-dev-server';

const ports = { port: 7233, uiPort: 8233, dbFile: 'x', logFile: 'y' };
const failure = (port: number) =>
  new Error(
    `the Temporal dev server exited during start-up (code 2)\n  last lines of temporal.log:\n    time=… level=ERROR ` +
      `msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:${port}: bind: address already in use"`,
  );

test('an internal port lost to another program is worth a new start; a port of ours in use is not', () => {
  expect(lostInternalPort(failure(33093), ports)).toBe(true);
  expect(lostInternalPort(failure(7233), ports)).toBe(false);
  expect(lostInternalPort(failure(8233), ports)).toBe(false);
  expect(lostInternalPort(new Error('the Temporal dev server exited during start-up (code 1)'), ports)).toBe(false);
  expect(lostInternalPort(undefined, ports)).toBe(false);
});
