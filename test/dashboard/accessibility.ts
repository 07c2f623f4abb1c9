import { readFileSync } from 'node:fs';
import type { AxeResults, ImpactValue, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';

/**
 * An automated accessibility scan of what a page shows right now, with axe-core running inside the page. It finds
 * what a machine can find (names, labels, roles, contrast, ARIA misuse), not whether the page is usable.
 */

const AXE_SCRIPT = require.resolve('axe-core');
const FAILING: ImpactValue[] = ['serious', 'critical'];

/** One axe rule broken on the page, with the elements that break it. */
export interface Violation {
  id: string;
  impact: ImpactValue | null;
  help: string;
  helpUrl: string;
  nodes: { target: string; summary: string }[];
}

type AxeInPage = { axe?: { run(context: unknown, options: RunOptions): Promise<AxeResults> } };

/** Every axe violation on the page as it is now (any impact). */
export async function axeViolations(page: Page): Promise<Violation[]> {
  // A page.goto starts a fresh document, so inject again whenever axe is missing; hash routes keep it.
  if (!(await page.evaluate(() => typeof (globalThis as AxeInPage).axe !== 'undefined'))) {
    // Evaluated through the DevTools protocol, not added as an inline <script>, which the product's
    // Content-Security-Policy (script-src 'self') rightly blocks.
    await page.evaluate(readFileSync(AXE_SCRIPT, 'utf8'));
  }
  return page.evaluate(async () => {
    const axe = (globalThis as AxeInPage).axe!;
    const results = await axe.run((globalThis as unknown as { document: unknown }).document, {
      resultTypes: ['violations'],
    });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
    }));
  });
}

/** The violations, one readable block each: rule, impact, what to do, where, and why it fails there. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .map((v) =>
      [
        `${v.id} (${v.impact}): ${v.help}  ${v.helpUrl}`,
        ...v.nodes.map((n) => `    at ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`),
      ].join('\n'),
    )
    .join('\n');
}

/** Fails when the page as it is now has a serious or critical axe violation, naming each one. */
export async function expectNoSeriousViolations(page: Page, screen: string): Promise<void> {
  const failing = (await axeViolations(page)).filter((v) => v.impact !== null && FAILING.includes(v.impact));
  if (failing.length > 0) {
    throw new Error(
      `accessibility scan of "${screen}": ${failing.length} serious or critical violation(s)\n${describeViolations(failing)}`,
    );
  }
}
