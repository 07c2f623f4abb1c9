import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, Page } from 'playwright-core';
import { createEndpoint, startApi, type ApiHarness } from '../api/harness';
import { devServerEnvironment } from '../fixtures/temporal';
import { ensureDashboardBuilt, launchBrowser, ROOT, screenshot, signIn, watchPageErrors } from './support';

/**
 * The built dashboard served by the real API app, under the Content-Security-Policy helmet sends: every screen
 * renders and Chromium reports no violation (neither a `securitypolicyviolation` event nor a console message).
 * Temporal is a real dev server with no worker, so the banner comes from the real /health.
 */

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let api: ApiHarness;
let browser: Browser;
let page: Page;
let errors: string[];
const consoleProblems: string[] = [];

beforeAll(async () => {
  ensureDashboardBuilt();
  env = await devServerEnvironment();
  api = await startApi({ temporal: env.client, dashboardDir: join(ROOT, 'dashboard', 'dist') });
  const endpoint = await createEndpoint(api, 'csp-endpoint');
  await api.call('POST', '/batches', {
    name: 'Under CSP',
    sourceEndpointId: endpoint,
    destinationEndpointId: endpoint,
    csv: 'EmailAddress,UserName,Password\ncsp@example.com,csp,csp-pw\n',
  });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = watchPageErrors(page);
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(message.text())) {
      consoleProblems.push(`${message.type()}: ${message.text()}`);
    }
  });
  // Page code, as text: the test's TypeScript has no DOM types.
  await page.addInitScript(`
    window.cspViolations = [];
    window.addEventListener('securitypolicyviolation', (event) =>
      window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
  `);
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await env?.teardown();
});

const violations = () => page.evaluate<string[]>('window.cspViolations');

it('serves the dashboard with its CSP, and every screen renders without a violation', async () => {
  const document = await page.goto(api.url);
  expect(document!.headers()['content-security-policy']).toContain("script-src 'self'");

  await signIn(page, api.url, api.adminToken);
  await page.getByTestId('worker-banner').waitFor();
  expect(await page.getByTestId('worker-banner').textContent()).toContain(
    'No worker is running: batches will not progress.',
  );
  await page.locator('tr[data-batch-name="Under CSP"] a').click();
  await page.getByRole('heading', { name: 'Under CSP', level: 2 }).waitFor();
  await page.getByTestId('batch-details').waitFor();
  await screenshot(page, 'under-csp');

  const screens: [string, string][] = [
    ['#/batches/new', 'New migration batch'],
    ['#/endpoints', 'Migration endpoints'],
    ['#/audit', 'Audit trail'],
  ];
  for (const [hash, heading] of screens) {
    await page.goto(`${api.url}/${hash}`);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  }
  await page.locator('tr[data-audit-id]').first().waitFor();

  expect(await violations()).toEqual([]);
  expect(consoleProblems).toEqual([]);
  expect(errors).toEqual([]);
});
