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
    MAILFERRY_SYNC_HEARTBEAT_TIMEOUT: '30s',
  });
  expect(s.batchPolicy).toEqual({
    incrementalSyncIntervalMs: 12 * 3_600_000,
    syncedInactivityStopMs: 30 * 86_400_000,
    stoppedRetentionMs: 90 * 86_400_000,
    completedRetentionMs: 1500,
    mailboxConcurrency: 50,
    syncHeartbeatTimeoutMs: 30_000,
  });
});

test('a malformed setting is refused with its name and what was expected', () => {
  expect(() => loadSettings({ MAILFERRY_STOPPED_RETENTION: 'ninety days' })).toThrow(
    /MAILFERRY_STOPPED_RETENTION: a duration such as 24h, 60d or 90s/,
  );
  // The sync heartbeats every 5 s: a shorter timeout would fail healthy syncs.
  expect(() => loadSettings({ MAILFERRY_SYNC_HEARTBEAT_TIMEOUT: '5s' })).toThrow(/MAILFERRY_SYNC_HEARTBEAT_TIMEOUT/);
  expect(() => loadSettings({ PORT: '99999' })).toThrow(/invalid configuration: PORT/);
  expect(() => loadSettings({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
});
