import { readFile } from 'node:fs/promises';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalSecurity } from '../config/settings';

/** What the API's `Connection.connect` and the worker's `NativeConnection.connect` both take. */
export interface TemporalConnectionOptions {
  address: string;
  /** Absent: plain gRPC (the dev server, a cluster on a private network). */
  tls?: TLSConfig;
  apiKey?: string;
}

/** A TLS or API key file that cannot be read; the message names the setting and the path, never the content. */
export class TemporalCredentialError extends Error {
  readonly code = 'TEMPORAL_CREDENTIAL_UNREADABLE';
}

async function read(setting: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TemporalCredentialError(`cannot read ${setting} (${file}): ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the files the settings name and builds the connection options. */
export async function temporalConnectionOptions(
  address: string,
  security: TemporalSecurity,
): Promise<TemporalConnectionOptions> {
  const options: TemporalConnectionOptions = { address };
  if (security.tls) {
    const tls: TLSConfig = {};
    if (security.caFile) tls.serverRootCACertificate = await read('TEMPORAL_TLS_CA_FILE', security.caFile);
    if (security.clientCert) {
      tls.clientCertPair = {
        crt: await read('TEMPORAL_TLS_CERT_FILE', security.clientCert.certFile),
        key: await read('TEMPORAL_TLS_KEY_FILE', security.clientCert.keyFile),
      };
    }
    if (security.serverName) tls.serverNameOverride = security.serverName;
    options.tls = tls;
  }
  if (security.apiKeyFile) {
    const apiKey = (await read('TEMPORAL_API_KEY_FILE', security.apiKeyFile)).toString('utf8').trim();
    if (!apiKey) throw new TemporalCredentialError(`TEMPORAL_API_KEY_FILE (${security.apiKeyFile}) is empty`);
    options.apiKey = apiKey;
  }
  return options;
}

/** How this process reaches Temporal, for its start-up log line: the settings' files, never their content. */
export function describeTemporalSecurity(security: TemporalSecurity): Record<string, unknown> {
  return {
    tls: security.tls,
    ...(security.caFile ? { caFile: security.caFile } : {}),
    ...(security.clientCert ? { clientCertFile: security.clientCert.certFile } : {}),
    ...(security.serverName ? { serverName: security.serverName } : {}),
    ...(security.apiKeyFile ? { apiKeyFile: security.apiKeyFile } : {}),
  };
}
