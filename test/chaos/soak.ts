/**
 * `npm run chaos -- --minutes 30`: the chaos suite (chaos.test.ts) for release checks, not in CI. It runs the same
 * rounds as `npm test` does once, each on fresh mailboxes, until the minutes are over, and prints each round's
 * recovery times. `--seed N` replays a schedule.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
};

const options = new Command('chaos')
  .description('runs the chaos suite for a number of minutes')
  .option('--minutes <n>', 'how long to keep running rounds', positive, 30)
  .option('--seed <n>', 'the seed of the schedule (printed by every run)', positive)
  .parse()
  .opts<{ minutes: number; seed?: number }>();

const root = path.resolve(__dirname, '..', '..');
const result = spawnSync('npx', ['jest', '--ci', 'test/chaos/chaos.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    MAILFERRY_CHAOS_MINUTES: String(options.minutes),
    ...(options.seed ? { MAILFERRY_CHAOS_SEED: String(options.seed) } : {}),
  },
});
process.exit(result.status ?? 1);
