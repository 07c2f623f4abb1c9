#!/usr/bin/env node
import { runCli } from './run';

/** Entry point: `npm run cli -- batches list`. Reads MAILFERRY_URL / MAILFERRY_TOKEN. */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

void runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin,
}).then((code) => {
  process.exitCode = code;
});
