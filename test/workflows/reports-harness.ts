import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReportSettings } from '../../domain/batch-reports';
import { timeSkippingEnvironment } from '../fixtures/temporal';
import { HOUR } from './harness';

/**
 * What the report tests share: a fresh time-skipping server per test (see lifecycle-timers.test.ts), and report
 * settings with recipients and a 6-hour summary. Two report tests run on the dev server instead, in files of their
 * own: on the time-skipping server they sometimes hung (it stopped skipping time).
 */
export function timeSkippingPerTest(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeEach(async () => {
    env = await timeSkippingEnvironment();
  });
  afterEach(async () => {
    await env?.teardown();
  });
  return () => env!;
}

export const reports = (settings: Partial<ReportSettings> = {}): ReportSettings => ({
  hasRecipients: true,
  skip: false,
  intervalMs: 6 * HOUR,
  ...settings,
});

/** The time in a report's key (`summary:<ms>`, `status:<status>:<ms>`). */
export const keyTime = (key: string) => Number(key.split(':').at(-1));
