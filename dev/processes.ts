/**
 * Looking at other processes by pid, for the start command's clean-up of what an earlier start left behind and
 * for its bounded stop. Linux first (`/proc`), with `ps` where there is no `/proc`.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';

/** True while `pid` exists and is not a zombie (a zombie has ended; only its parent has not collected it yet). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return process.platform !== 'linux'; // gone meanwhile on Linux; no /proc elsewhere
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** The process's command line, arguments joined by spaces; undefined once it is gone. */
export async function commandLine(pid: number): Promise<string | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (raw !== undefined) return raw.replace(/\0+$/, '').split('\0').join(' ');
  if (process.platform === 'linux') return undefined;
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'args=', '-p', String(pid)], (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

/** The process's working directory (Linux only; undefined elsewhere or when not allowed to look). */
export async function workingDirectory(pid: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/cwd`).catch(() => undefined);
}

/** Every pid in `/proc` (empty where there is no `/proc`). */
export async function allPids(): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  return entries.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Waits up to `ms` for `pid` to end; true if it did. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** How {@link terminate} ended a process. */
export type Termination = 'gone' | 'stopped' | 'killed';

/**
 * Sends `signal`, waits up to `graceMs` for the process to end, then sends SIGKILL (which also ends a stopped or
 * hung process) and waits a little more. `gone`: it had ended already; `stopped`: it ended on `signal`.
 */
export async function terminate(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<Termination> {
  if (!(await isRunning(pid))) return 'gone';
  if (!send(pid, signal)) return 'gone';
  if (await waitForExit(pid, graceMs)) return 'stopped';
  send(pid, 'SIGKILL');
  await waitForExit(pid, 2_000);
  return 'killed';
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The process listening on TCP `port` (Linux: the socket's inode from `/proc/net/tcp*`, then the process holding
 * it). Undefined when it cannot be told, e.g. a program of another user seen by a non-root start.
 */
export async function tcpListener(port: number): Promise<{ pid: number; command: string } | undefined> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN.
      if (local && fields[3] === '0A' && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) {
        if (fields[9] && fields[9] !== '0') inodes.add(fields[9]);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of await allPids()) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const command = (await commandLine(pid)) ?? '?';
        return { pid, command: command.length > 80 ? `${command.slice(0, 77)}...` : command };
      }
    }
  }
  return undefined;
}
