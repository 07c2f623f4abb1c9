import { chmod, mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './client';

/**
 * Where the CLI finds the API and its token. Everything comes from the environment the entry point hands over
 * (`CliIo.env`), never from `process.env` directly, so tests can point HOME and the data dir at temp folders.
 *
 * URL:   --url > MAILFERRY_URL > the config file's url > http://HOST:PORT (the product's own defaults,
 *        127.0.0.1:8080; a wildcard HOST such as 0.0.0.0 is reached on the loopback address; https:// when
 *        MAILFERRY_TLS_CERT says the product serves HTTPS).
 * Token: --token > MAILFERRY_TOKEN > the config file's token (when saved for this URL) > the data dir's
 *        initial-admin-token (only when the URL is on this machine: the file is the product's local bootstrap).
 */

/** The project root, as config/settings.ts computes it: the data dir defaults to `<root>/.data`. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

export type Env = Record<string, string | undefined>;

/** What `mailferry login` saves. */
export interface CliConfig {
  url?: string;
  token?: string;
}

/** Where a token came from: `mailferry me` and `login` say so, never printing the token itself. */
export type TokenSource = 'flag' | 'env' | 'config' | 'data-dir';

export interface Target {
  url: string;
  token?: string;
  tokenSource?: TokenSource;
  /** The file the token was read from (config or data dir). */
  tokenFile?: string;
  /** Why the data dir's token file was not used although it exists (e.g. EACCES: another user's file). */
  unreadable?: string;
}

/** What to tell the user when the API refuses the token (401): where it came from, or where one could. */
export function authHint(t: Target): string {
  switch (t.tokenSource) {
    case 'flag':
      return 'the token given with --token was refused (mistyped or revoked?)';
    case 'env':
      return 'the token in MAILFERRY_TOKEN was refused (mistyped or revoked?)';
    case 'config':
      return `the token saved in ${t.tokenFile} was refused (revoked?): run mailferry login again`;
    case 'data-dir':
      return `the initial admin token in ${t.tokenFile} was refused (revoked?): give --token, MAILFERRY_TOKEN or run mailferry login`;
    default:
      return (
        'no token: give --token, set MAILFERRY_TOKEN, or run mailferry login (see mailferry --help)' +
        (t.unreadable ? `; ${t.unreadable}` : '')
      );
  }
}

/** `$XDG_CONFIG_HOME/mailferry/config.json`, else `$HOME/.config/mailferry/config.json`; none without either. */
export function configPath(env: Env): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, '.config') : undefined);
  return base ? path.join(base, 'mailferry', 'config.json') : undefined;
}

/** `$MAILFERRY_DATA_DIR/initial-admin-token`, default `<project root>/.data/initial-admin-token`. */
export function dataDirTokenPath(env: Env): string {
  return path.join(path.resolve(env.MAILFERRY_DATA_DIR || path.join(PROJECT_ROOT, '.data')), 'initial-admin-token');
}

/** The URL `npm start` serves on this machine, from the same PORT/HOST/MAILFERRY_TLS_CERT the product reads. */
export function defaultUrl(env: Env): string {
  const scheme = env.MAILFERRY_TLS_CERT ? 'https' : 'http';
  const port = env.PORT || '8080';
  let host = env.HOST || '127.0.0.1';
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::' || host === '[::]') host = '::1';
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The same URL however it was typed: no trailing slash, lower-case scheme and host. */
export function normalizeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    throw new CliError(`not a URL: ${url}`, 2, 'USAGE');
  }
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function readConfig(env: Env): Promise<CliConfig> {
  const file = configPath(env);
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, 2, 'CONFIG');
  }
  try {
    const parsed = JSON.parse(text) as CliConfig;
    return {
      url: typeof parsed.url === 'string' ? parsed.url : undefined,
      token: typeof parsed.token === 'string' ? parsed.token : undefined,
    };
  } catch {
    throw new CliError(`${file} is not JSON; fix it or run mailferry logout`, 2, 'CONFIG');
  }
}

/** Writes the config file with mode 0600 (its folder 0700); returns its path. */
export async function writeConfig(env: Env, config: CliConfig): Promise<string> {
  const file = configPath(env);
  if (!file) throw new CliError('neither XDG_CONFIG_HOME nor HOME is set: nowhere to save the login', 2, 'CONFIG');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(config, null, 2) + '\n', 'utf8');
  } finally {
    await handle.close();
  }
  // open() applies the mode only to a new file: an older file keeps its mode otherwise.
  await chmod(file, 0o600);
  return file;
}

/** Removes the config file; returns its path when there was one. */
export async function removeConfig(env: Env): Promise<string | undefined> {
  const file = configPath(env);
  if (!file) return undefined;
  try {
    await readFile(file);
  } catch {
    return undefined;
  }
  await rm(file, { force: true });
  return file;
}

async function readTokenFile(file: string): Promise<{ token?: string; problem?: string }> {
  try {
    return { token: (await readFile(file, 'utf8')).trim() || undefined };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: `${file} exists but cannot be read (${code})` };
  }
}

/**
 * The API URL and token for this invocation, in the documented order. `skipConfigToken` is for `login`, which
 * must not re-save the token it is replacing.
 */
export async function resolveTarget(
  env: Env,
  flags: { url?: string; token?: string },
  options: { skipConfigToken?: boolean } = {},
): Promise<Target> {
  const config = await readConfig(env);
  const url = normalizeUrl(flags.url || env.MAILFERRY_URL || config.url || defaultUrl(env));
  if (flags.token) return { url, token: flags.token, tokenSource: 'flag' };
  if (env.MAILFERRY_TOKEN) return { url, token: env.MAILFERRY_TOKEN, tokenSource: 'env' };
  // A saved token goes only to the server it was saved for: --url elsewhere must not leak it.
  if (!options.skipConfigToken && config.token && (!config.url || normalizeUrl(config.url) === url)) {
    return { url, token: config.token, tokenSource: 'config', tokenFile: configPath(env) };
  }
  if (isLoopback(url)) {
    const file = dataDirTokenPath(env);
    const { token, problem } = await readTokenFile(file);
    if (token) return { url, token, tokenSource: 'data-dir', tokenFile: file };
    if (problem) return { url, unreadable: problem };
  }
  return { url };
}
