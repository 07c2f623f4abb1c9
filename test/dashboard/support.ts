import type { BatchCommand } from '../../domain/batch-status';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Helpers for the dashboard's browser tests: build the dashboard, drive Debian's Chromium, keep screenshots. */

export const ROOT = resolve(__dirname, '../..');
const DASHBOARD = join(ROOT, 'dashboard');
const DIST_INDEX = join(DASHBOARD, 'dist', 'index.html');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function sourcesTime(): number {
  return Math.max(
    newestSource(join(DASHBOARD, 'src')),
    statSync(join(DASHBOARD, 'index.html')).mtimeMs,
    statSync(join(DASHBOARD, 'vite.config.mts')).mtimeMs,
    statSync(join(ROOT, 'domain', 'batch-status.ts')).mtimeMs,
    statSync(join(ROOT, 'domain', 'mailbox-commands.ts')).mtimeMs,
  );
}

/**
 * Builds `dashboard/dist` when it is missing or older than the sources, so a test never runs against a stale
 * page. A lock directory keeps two test files from building at once.
 */
export function ensureDashboardBuilt(): void {
  const fresh = () => existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs >= sourcesTime();
  if (fresh()) return;
  const lock = join(tmpdir(), 'mailferry-dashboard-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`dashboard build lock ${lock} held for 2 minutes; remove it if stale`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (!fresh()) {
      execFileSync('npx', ['vite', 'build', '--config', 'dashboard/vite.config.mts', '--logLevel', 'warn'], {
        cwd: ROOT,
        stdio: 'pipe',
        env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
      });
    }
  } finally {
    rmdirSync(lock);
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Saves a full-page screenshot as `test-artifacts/dashboard/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Collects uncaught page errors so a test can assert the page never threw. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Migration batches', level: 1 }).waitFor();
}

/** The command bar's buttons and the command each stands for. */
export const BUTTONS: [string, BatchCommand][] = [
  ['Start migration', 'start'],
  ['Stop migration', 'stop'],
  ['Resume migration', 'resume'],
  ['Complete migration', 'complete'],
  ['Sync now', 'syncNow'],
  ['Verify', 'verify'],
  ['Edit batch', 'edit'],
  ['Delete', 'remove'],
];
