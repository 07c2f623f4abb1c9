#!/usr/bin/env node
import { promptSecret } from './prompt';
import { runCli } from './run';

/** Entry point of `mailferry` (cli/mailferry.cjs) and `npm run cli -- …`: hands over the environment and terminal. */
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
  ...(process.stdin.isTTY
    ? { promptSecret: (question: string) => promptSecret(process.stdin, process.stderr, question) }
    : {}),
  isTTY: process.stdout.isTTY,
  stdoutStream: process.stdout,
}).then((code) => {
  process.exitCode = code;
});
