/**
 * `npm run build:workflows`: builds the workflow bundle that workers load (worker/workflow-bundle.ts), unless the
 * one in dist/workflows is still up to date with its sources. Prints what it built, and with `--verbose` also
 * that nothing needed building.
 */
import path from 'node:path';
import { buildWorkflowBundle, freshWorkflowBundle } from '../worker/workflow-bundle';

async function main(): Promise<void> {
  const found = await freshWorkflowBundle();
  if ('codePath' in found) {
    if (process.argv.includes('--verbose'))
      console.log(`workflow bundle up to date: ${path.relative(process.cwd(), found.codePath)}`);
    return;
  }
  const built = await buildWorkflowBundle();
  console.log(`workflow bundle built (${found.stale}): ${path.relative(process.cwd(), built)}`);
}

main().catch((err: unknown) => {
  console.error(`build:workflows failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
