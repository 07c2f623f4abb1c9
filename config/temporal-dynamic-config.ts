/**
 * Temporal server settings mailferry runs with, the same for the embedded dev server (`--dynamic-config-value`),
 * the tests' servers and docker-compose.yml's dynamic config file (test/deploy/compose.test.ts checks the two agree).
 *
 * `history.transferProcessorMaxPollRPS`: a history shard reads its new transfer tasks (a workflow task or an activity
 * to hand to matching) at most this many times a second; the default, 20, holds each of a batch's workflow tasks
 * for up to 50 ms once the limiter's burst is spent. A batch runs its bookkeeping as a chain of activities, each one
 * waking the workflow again, so every link paid that wait: ten activities in a row took 550 ms instead of 170 ms
 * on the dev server (docs/imap-sync.md). A read happens only when a shard has new tasks, so an idle shard costs
 * nothing more.
 */
export const TEMPORAL_DYNAMIC_CONFIG = {
  'history.transferProcessorMaxPollRPS': 200,
} as const satisfies Record<string, number | boolean>;

/** The settings as `temporal server start-dev` arguments. */
export function devServerDynamicConfigArgs(): string[] {
  return Object.entries(TEMPORAL_DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}
