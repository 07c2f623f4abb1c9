import { loadSettings } from '../../config/settings';

test('defaults run everything embedded with the seed’s timers', () => {
  const s = loadSettings({});
  expect(s).toMatchObject({ namespace: 'default', taskQueue: 'mailferry', apiPort: 8080, searchAttributes: true });
  expect(s.databaseUrl).toBeUndefined();
  expect(s.temporalAddress).toBeUndefined();
  expect(s.batchPolicy).toEqual({});
});

test('lifecycle durations and the batch window come from the environment', () => {
  const s = loadSettings({
    MAILFERRY_INCREMENTAL_SYNC_INTERVAL: '12h',
    MAILFERRY_SYNCED_INACTIVITY_STOP: '30d',
    MAILFERRY_STOPPED_RETENTION: '90d',
    MAILFERRY_COMPLETED_RETENTION: '1500ms',
    MAILFERRY_BATCH_CONCURRENCY: '50',
  });
  expect(s.batchPolicy).toEqual({
    incrementalSyncIntervalMs: 12 * 3_600_000,
    syncedInactivityStopMs: 30 * 86_400_000,
    stoppedRetentionMs: 90 * 86_400_000,
    completedRetentionMs: 1500,
    mailboxConcurrency: 50,
  });
});

test('a malformed setting is refused with its name and what was expected', () => {
  expect(() => loadSettings({ MAILFERRY_STOPPED_RETENTION: 'ninety days' })).toThrow(
    /MAILFERRY_STOPPED_RETENTION: a duration such as 24h, 60d or 90s/,
  );
  expect(() => loadSettings({ PORT: '99999' })).toThrow(/invalid configuration: PORT/);
  expect(() => loadSettings({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
});
