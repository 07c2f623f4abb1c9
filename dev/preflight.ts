/**
 * Checks the start makes before it runs anything, so that a bad setting fails in a second with its cause and a
 * fix, not halfway through start-up with a library's message: the data directory, the secret key, the ports.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateSecretKey } from '../secrets/key-file';
import { tcpListener } from './processes';
import { describeError, StartError } from './start-error';

/** The data directory exists (created if missing) and this user can create files in it. */
export async function checkDataDir(dataDir: string): Promise<void> {
  const probe = path.join(dataDir, `.write-test-${process.pid}`);
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const user = os.userInfo().username;
    const code = (err as NodeJS.ErrnoException).code;
    const fix =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file is in the way: set MAILFERRY_DATA_DIR to a directory (or a path where one can be created)'
        : `make it writable for the user ${user} (e.g. chown -R ${user} ${dataDir}), or set MAILFERRY_DATA_DIR ` +
          'to a directory that is';
    throw new StartError(
      `cannot write to the data directory ${dataDir} (MAILFERRY_DATA_DIR): ${describeError(err)}`,
      fix,
      { cause: err },
    );
  }
}

/**
 * The secret key opens (or, on a first start, is created): a corrupt key file is found before any server runs,
 * and named. The key seals the stored IMAP passwords, so the fix never suggests a new key for existing data.
 */
export async function checkSecretKey(options: { key?: string; keyFile: string }): Promise<void> {
  try {
    await loadOrCreateSecretKey(options);
  } catch (err) {
    if (options.key !== undefined && options.key.trim() !== '') {
      throw new StartError(
        `MAILFERRY_SECRET_KEY is not a usable key: ${describeError(err)}`,
        'set it to the key the stored passwords were sealed with (32 bytes, base64 or 64 hex digits; a new one: ' +
          'openssl rand -base64 32)',
        { cause: err },
      );
    }
    throw new StartError(
      `the secret key file ${options.keyFile} is not a usable key: ${describeError(err)}`,
      'restore the file from your backup: it seals the stored IMAP passwords, and another key cannot open them. ' +
        'On a new installation with no endpoints saved yet, delete it and the start creates a new one. ' +
        '(MAILFERRY_SECRET_KEY_FILE sets its path.)',
      { cause: err },
    );
  }
}

/** A port the start will listen on, and the setting that chooses it. */
export interface PlannedPort {
  setting: string;
  port: number;
  host: string;
}

/** Every planned port is distinct and free now; else the setting, the port and who holds it, and the fix. */
export async function checkPorts(planned: PlannedPort[]): Promise<void> {
  for (const [index, a] of planned.entries()) {
    const b = planned.slice(index + 1).find((other) => other.port === a.port);
    if (b) {
      throw new StartError(
        `${a.setting} and ${b.setting} are both ${a.port}`,
        `give each its own port, e.g. set ${b.setting}=<another free port>`,
      );
    }
  }
  for (const { setting, port, host } of planned) {
    const code = await listenError(host, port);
    if (code === undefined) continue;
    if (code === 'EADDRINUSE') {
      const holder = await tcpListener(port);
      const who = holder ? ` (pid ${holder.pid}: ${holder.command})` : '';
      throw new StartError(
        `${setting} ${port} is in use by another program${who}`,
        `stop that program, or set ${setting}=<a free port>`,
      );
    }
    if (code === 'EACCES') {
      throw new StartError(
        `${setting} ${port} needs privileges this user does not have`,
        `set ${setting} to a port above 1023`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new StartError(`HOST ${host} is not an address of this machine`, 'set HOST=127.0.0.1 (or 0.0.0.0)');
    }
    throw new StartError(`cannot listen on ${host}:${port} (${setting}): ${code}`, `set ${setting}=<a free port>`);
  }
}

/** The error code of listening on host:port, or undefined when it can listen there. */
function listenError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
