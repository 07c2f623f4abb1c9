import { createComponentMonitor, watchComponents } from '../../observability/component-status';
import { createLogger } from '../../observability/logger';

test('stopping the watch waits for a probe still out, even one past its timeout', async () => {
  const monitor = createComponentMonitor(createLogger({ level: 'silent' }));
  let answered = false;
  const slow = () =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        answered = true;
        resolve();
      }, 300),
    );
  const stop = watchComponents(monitor, async () => ({ temporal: slow }), { intervalMs: 10, timeoutMs: 50 });
  await new Promise((r) => setTimeout(r, 100)); // the probe has timed out; its call is still out
  await stop();
  // What the probe used (a connection) may be closed now: nothing of it is left running.
  expect(answered).toBe(true);
});
