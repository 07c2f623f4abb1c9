import { testImapConnection } from '../../imap/connection-test';
import type { ImapEndpoint } from '../../imap/connection';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot';
import { imapEndpointOf } from './helpers';

describe('TLS: implicit TLS and STARTTLS, certificates verified unless the endpoint accepts untrusted ones', () => {
  let server: DovecotServer;
  beforeAll(async () => {
    server = await startDovecot({ tls: true });
    await server.addUser('frank@example.com', 'tls-pw');
  });
  afterAll(async () => {
    await server?.close();
  });
  const creds = { user: 'frank@example.com', secret: 'tls-pw' };
  const endpoint = (e: Partial<ImapEndpoint>): ImapEndpoint => imapEndpointOf(server, e);

  it('refuses a self-signed certificate by default, on both TLS kinds', async () => {
    expect(await testImapConnection(endpoint({ security: 'tls', port: server.tlsPort }), creds)).toMatchObject({
      ok: false,
      code: 'TLS_FAILED',
    });
    expect(await testImapConnection(endpoint({ security: 'starttls' }), creds)).toMatchObject({
      ok: false,
      code: 'TLS_FAILED',
    });
  });

  it('connects over implicit TLS and STARTTLS when the endpoint accepts untrusted certificates', async () => {
    expect(
      await testImapConnection(endpoint({ security: 'tls', port: server.tlsPort, acceptUntrustedCerts: true }), creds),
    ).toMatchObject({ ok: true });
    expect(
      await testImapConnection(endpoint({ security: 'starttls', acceptUntrustedCerts: true }), creds),
    ).toMatchObject({ ok: true });
    // 'none' stays in cleartext even though the server offers STARTTLS.
    expect(await testImapConnection(endpoint({ security: 'none' }), creds)).toMatchObject({ ok: true });
  });
});
