import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SecretBoxError } from './secret-box';

/**
 * The 32-byte key of the secret box: given by configuration (base64 or 64 hex digits), or read from a key file
 * that is created on first run (random, mode 0600). Losing the key makes every stored password unreadable.
 */
export interface SecretKeyOptions {
  /** From configuration (e.g. `MAILFERRY_SECRET_KEY`); wins over the file. */
  key?: string;
  /** E.g. `<data dir>/secret.key`. */
  keyFile: string;
}

export interface LoadedSecretKey {
  key: Buffer;
  source: 'config' | 'file' | 'created';
  keyFile?: string;
}

export function decodeSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new SecretBoxError('the secret key must be 32 bytes, given as base64 (44 characters) or 64 hex digits');
  }
  return key;
}

export async function loadOrCreateSecretKey(options: SecretKeyOptions): Promise<LoadedSecretKey> {
  if (options.key !== undefined && options.key.trim() !== '') {
    return { key: decodeSecretKey(options.key), source: 'config' };
  }
  const file = path.resolve(options.keyFile);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!(await exists(file)) && (await createKeyFile(file))) {
    return { key: await readKey(file), source: 'created', keyFile: file };
  }
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) await chmod(file, 0o600);
  return { key: await readKey(file), source: 'file', keyFile: file };
}

/**
 * Writes a new random key to `file` unless it exists; false when it does. The key is written whole to a file of
 * this process's own and then linked into place, which fails if the file exists: two processes starting at once
 * (the API and a worker on a fresh volume) never overwrite each other's key, and neither reads the other's file
 * before its key is in it.
 */
async function createKeyFile(file: string): Promise<boolean> {
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  await writeFile(draft, randomBytes(32).toString('base64') + '\n', { encoding: 'utf8', mode: 0o600, flag: 'wx' });
  try {
    await link(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function readKey(file: string): Promise<Buffer> {
  const text = await readFile(file, 'utf8');
  if (text.trim() === '') throw new SecretBoxError(`the key file ${file} is empty; restore it from a backup`);
  return decodeSecretKey(text);
}
