import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import type { WorkerChildConfig } from './worker-child';

const CHILD = path.join(__dirname, 'worker-child.ts');

/** A worker process (`worker-child.ts`) and what it printed. */
export interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything it wrote on standard output and standard error so far. */
  output(): string;
  /** Its JSON log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves once it polls the task queue; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | number | null>;
  /** SIGTERM (a graceful drain), SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts a worker process: node with the tsx loader, so a signal hits the process that runs the worker. */
export function spawnWorker(config: WorkerChildConfig): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, MAILFERRY_WORKER_CHILD: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('worker ready')) resolve();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('exit', () => reject(new Error(`worker exited before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return {
    child,
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    ready,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
