import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../config/settings';
import { describeTemporalSecurity, temporalConnectionOptions } from '../../entry/temporal-connection';

const CA = '-----BEGIN CERTIFICATE-----\nca-of-the-cluster\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient-cert-body\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nclient-private-key-material\n-----END PRIVATE KEY-----\n';
const API_KEY = 'tcld-api-key-0123456789abcdef';

let dir: string;
const file = (name: string) => path.join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mf-temporal-tls-'));
  await Promise.all([
    writeFile(file('ca.pem'), CA),
    writeFile(file('client.pem'), CERT),
    writeFile(file('client.key'), KEY),
    writeFile(file('api-key'), `${API_KEY}\n`),
    writeFile(file('empty'), '\n'),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const optionsFor = (env: Record<string, string>) =>
  temporalConnectionOptions('temporal.example.net:7233', loadSettings(env).temporalSecurity);

test('without TLS settings the connection is plain gRPC, as to the dev server', async () => {
  expect(await optionsFor({})).toEqual({ address: 'temporal.example.net:7233' });
  expect(await optionsFor({ TEMPORAL_TLS: 'true' })).toEqual({ address: 'temporal.example.net:7233', tls: {} });
});

test('mTLS: the server CA, the client certificate and key, and the server name reach the connection options', async () => {
  const options = await optionsFor({
    TEMPORAL_TLS_CA_FILE: file('ca.pem'),
    TEMPORAL_TLS_CERT_FILE: file('client.pem'),
    TEMPORAL_TLS_KEY_FILE: file('client.key'),
    TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
  });
  expect(options.apiKey).toBeUndefined();
  expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe(CA);
  expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(CERT);
  expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe(KEY);
  expect(options.tls!.serverNameOverride).toBe('frontend.temporal.internal');
});

test('an API key (Temporal Cloud) comes from its file, trimmed, with TLS on the system CAs', async () => {
  expect(await optionsFor({ TEMPORAL_API_KEY_FILE: file('api-key') })).toEqual({
    address: 'temporal.example.net:7233',
    tls: {},
    apiKey: API_KEY,
  });
});

test('inconsistent or unreadable settings are refused, naming the setting and never the content', async () => {
  expect(() => loadSettings({ TEMPORAL_TLS_CERT_FILE: file('client.pem') })).toThrow(/TEMPORAL_TLS_KEY_FILE/);
  expect(() => loadSettings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY_FILE: file('api-key') })).toThrow(
    /TEMPORAL_TLS=false/,
  );
  await expect(optionsFor({ TEMPORAL_TLS_CA_FILE: file('missing.pem') })).rejects.toMatchObject({
    code: 'TEMPORAL_CREDENTIAL_UNREADABLE',
    message: expect.stringContaining('TEMPORAL_TLS_CA_FILE'),
  });
  await expect(optionsFor({ TEMPORAL_API_KEY_FILE: file('empty') })).rejects.toThrow(/TEMPORAL_API_KEY_FILE .* empty/);
});

test('what the start-up log says of the connection names the files, not the key material', () => {
  const security = loadSettings({
    TEMPORAL_TLS_CA_FILE: file('ca.pem'),
    TEMPORAL_TLS_CERT_FILE: file('client.pem'),
    TEMPORAL_TLS_KEY_FILE: file('client.key'),
    TEMPORAL_API_KEY_FILE: file('api-key'),
  }).temporalSecurity;
  const described = JSON.stringify(describeTemporalSecurity(security));
  expect(JSON.parse(described)).toEqual({
    tls: true,
    caFile: file('ca.pem'),
    clientCertFile: file('client.pem'),
    apiKeyFile: file('api-key'),
  });
  for (const secret of [KEY, 'client-private-key-material', API_KEY]) expect(described).not.toContain(secret);
  // The settings themselves hold paths only: nothing read from the files can reach a log through them.
  expect(JSON.stringify(security)).not.toContain(API_KEY);
});
