import { loadSettings } from '../../config/settings';

test('defaults run everything embedded with the seed’s timers', () => {
  const s = loadSettings({});
  expect(s).toMatchObject({ namespace: 'default', taskQueue: 'mailferry', apiPort: 8080, searchAttributes: true });
  expect(s.databaseUrl).toBeUndefined();
  expect(s.temporalAddress).toBeUndefined();
  // The batch window follows the worker's sync capacity (100) unless MAILFERRY_BATCH_CONCURRENCY says otherwise.
  expect(s.batchPolicy).toEqual({ mailboxConcurrency: 100 });
});

test('the worker is sized from one number: syncs, activity slots, pool and batch window agree', () => {
  expect(loadSettings({})).toMatchObject({
    worker: { maxConcurrentSyncs: 100, activitySlots: 120, poolSize: 30 },
    apiPoolSize: 10,
  });
  const small = loadSettings({ MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS: '8' });
  expect(small.worker).toEqual({
    maxConcurrentSyncs: 8,
    activitySlots: 28,
    poolSize: 12,
    messageBufferBytes: 128 * 1024 * 1024,
  });
  expect(small.batchPolicy.mailboxConcurrency).toBe(8);
  const tuned = loadSettings({
    MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS: '300',
    MAILFERRY_DB_POOL_SIZE: '40',
    MAILFERRY_API_DB_POOL_SIZE: '5',
  });
  expect(tuned).toMatchObject({
    worker: { maxConcurrentSyncs: 300, activitySlots: 320, poolSize: 40 },
    apiPoolSize: 5,
  });
  // A pool too small to serve one sync's writes beside its lease renewal is refused, with the setting named.
  expect(() => loadSettings({ MAILFERRY_DB_POOL_SIZE: '2' })).toThrow(/MAILFERRY_DB_POOL_SIZE/);
  expect(() => loadSettings({ MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS: '0' })).toThrow(
    /MAILFERRY_WORKER_MAX_CONCURRENT_SYNCS/,
  );
  // The message bodies in memory: MiB, at least one batch's 16.
  expect(loadSettings({ MAILFERRY_WORKER_MESSAGE_BUFFER_MB: '512' }).worker.messageBufferBytes).toBe(512 * 1024 * 1024);
  expect(() => loadSettings({ MAILFERRY_WORKER_MESSAGE_BUFFER_MB: '8' })).toThrow(/MAILFERRY_WORKER_MESSAGE_BUFFER_MB/);
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

test('audit entries are kept a year unless MAILFERRY_AUDIT_RETENTION says otherwise', () => {
  expect(loadSettings({}).auditRetentionMs).toBe(365 * 86_400_000);
  expect(loadSettings({ MAILFERRY_AUDIT_RETENTION: '30d' }).auditRetentionMs).toBe(30 * 86_400_000);
  expect(() => loadSettings({ MAILFERRY_AUDIT_RETENTION: 'forever' })).toThrow(/MAILFERRY_AUDIT_RETENTION/);
});

test('LOG_LEVEL is info unless set, and an unknown level is refused with the setting named', () => {
  expect(loadSettings({}).logLevel).toBe('info');
  expect(loadSettings({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
  expect(() => loadSettings({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
});

test('MAILFERRY_SMTP_URL gives the reports their server; its problems are named without echoing the password', () => {
  expect(loadSettings({}).smtp).toBeUndefined();
  expect(
    loadSettings({
      MAILFERRY_SMTP_URL: 'smtps://reports%40contoso.com:p%3Ass@smtp.contoso.com',
      MAILFERRY_SMTP_FROM: 'mailferry@contoso.com',
    }).smtp,
  ).toEqual({
    host: 'smtp.contoso.com',
    port: 465,
    secure: true,
    user: 'reports@contoso.com',
    password: 'p:ss',
    from: 'mailferry@contoso.com',
  });
  expect(
    loadSettings({ MAILFERRY_SMTP_URL: 'smtp://relay.internal:2525', MAILFERRY_SMTP_FROM: 'm@contoso.com' }).smtp,
  ).toEqual({ host: 'relay.internal', port: 2525, secure: false, from: 'm@contoso.com' });

  const password = 'Sup3r-Secret-Smtp';
  const refusals: [NodeJS.ProcessEnv, RegExp][] = [
    [{ MAILFERRY_SMTP_URL: `https://u:${password}@smtp.contoso.com` }, /must start with smtp:\/\/ or smtps:\/\//],
    [{ MAILFERRY_SMTP_URL: `smtp://u:${password}@smtp.contoso.com` }, /MAILFERRY_SMTP_FROM .* is required/],
    [{ MAILFERRY_SMTP_URL: `smtp://u:${password}@smtp.contoso.com`, MAILFERRY_SMTP_FROM: 'nobody' }, /not an e-mail/],
    [{ MAILFERRY_SMTP_URL: `smtp:u:${password} @`, MAILFERRY_SMTP_FROM: 'm@contoso.com' }, /MAILFERRY_SMTP_URL/],
    [{ MAILFERRY_SMTP_FROM: 'm@contoso.com' }, /MAILFERRY_SMTP_URL is not/],
  ];
  for (const [env, message] of refusals) {
    let error: Error | undefined;
    try {
      loadSettings(env);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(password);
  }
});

test('a worker serves its metrics on 9464 unless MAILFERRY_METRICS_PORT says otherwise; the token is optional', () => {
  expect(loadSettings({}).metrics).toEqual({ port: 9464 });
  expect(
    loadSettings({ MAILFERRY_METRICS_PORT: '9100', MAILFERRY_METRICS_TOKEN: 'a-long-enough-token' }).metrics,
  ).toEqual({
    port: 9100,
    token: 'a-long-enough-token',
  });
  expect(() => loadSettings({ MAILFERRY_METRICS_PORT: '0' })).toThrow(/MAILFERRY_METRICS_PORT/);
  expect(() => loadSettings({ MAILFERRY_METRICS_TOKEN: 'short' })).toThrow(/MAILFERRY_METRICS_TOKEN: at least 16/);
});

test('HTTPS takes a certificate and a key file together, and trusted proxies a hop count or addresses', () => {
  expect(loadSettings({})).not.toHaveProperty('tls');
  expect(loadSettings({ MAILFERRY_TLS_CERT: '/etc/mf/cert.pem', MAILFERRY_TLS_KEY: '/etc/mf/key.pem' }).tls).toEqual({
    certFile: '/etc/mf/cert.pem',
    keyFile: '/etc/mf/key.pem',
  });
  expect(() => loadSettings({ MAILFERRY_TLS_CERT: '/etc/mf/cert.pem' })).toThrow(
    /set both MAILFERRY_TLS_CERT and MAILFERRY_TLS_KEY/,
  );
  expect(loadSettings({})).not.toHaveProperty('trustProxy');
  expect(loadSettings({ MAILFERRY_TRUST_PROXY: '1' }).trustProxy).toBe(1);
  expect(loadSettings({ MAILFERRY_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  // "true" would believe any client's X-Forwarded-For, and so let it pick its own rate-limit key.
  expect(() => loadSettings({ MAILFERRY_TRUST_PROXY: 'true' })).toThrow(/MAILFERRY_TRUST_PROXY/);
});
