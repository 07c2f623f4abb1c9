/**
 * The product as a user runs it, for the benches: `npm start`'s compiled entry point through the start tests'
 * harness (its own process, embedded PostgreSQL, the Temporal dev server), driven through its HTTP API only.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildCompiled,
  freePorts,
  killProducts,
  startProduct,
  stopProduct,
  type Product,
} from '../test/e2e/start-harness';

export interface RunningProduct {
  product: Product;
  url: string;
  /** The embedded Temporal dev server's frontend (host:port). */
  temporalAddress: string;
  token: string;
  postgresUrl: string;
  /** One API call with the initial admin token; a status of 400 or more throws with the reply. */
  call(method: string, route: string, json?: unknown): Promise<any>;
  stop(): Promise<void>;
}

/** Builds and starts the product on `dataDir` and free ports; resolves once it prints that it is running. */
export async function startRealProduct(dataDir: string): Promise<RunningProduct> {
  const ports = await freePorts();
  buildCompiled();
  // BENCH_CPU_PROF (a directory): the product's process writes a V8 CPU profile there when it stops, as the engine's does.
  const nodeFlags = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const product = startProduct(dataDir, ports, {}, { compiled: true, nodeFlags });
  await product.running;
  const token = (await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).trim();
  const url = `http://127.0.0.1:${ports.api}/api/v1`;
  return {
    product,
    url,
    temporalAddress: `127.0.0.1:${ports.temporal}`,
    token,
    postgresUrl: `postgres://postgres:mailferry@127.0.0.1:${ports.postgres}/mailferry`,
    async call(method, route, json) {
      const res = await fetch(url + route, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
        body: json ? JSON.stringify(json) : undefined,
      });
      const body = (await res.json()) as any;
      if (res.status >= 400) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      await stopProduct(product, 30_000).catch(() => killProducts());
    },
  };
}

/**
 * Waits until the batch has settled after `since` (a pass ended: Synced, SyncedWithErrors or Failed, with
 * `lastSyncedAt` past `since` when the batch had synced before); returns the batch as the API gives it. It polls
 * the batch list every `pollMs`, which reads the read model only, and asks for the batch itself (a workflow query
 * and a describe in Temporal) only when the list shows it settled: polling that at 10/s would put Temporal and the
 * workflow thread to work beside the sync being measured.
 */
export async function waitForPass(
  product: RunningProduct,
  batch: { id: string; name: string },
  since: string | null,
  pollMs = 100,
): Promise<any> {
  const settled = (status: string) => ['Synced', 'SyncedWithErrors', 'Failed'].includes(status);
  for (;;) {
    const list = await product.call('GET', `/batches?search=${encodeURIComponent(batch.name)}`);
    const row = (list.items as Array<{ id: string; status: string }>).find((b) => b.id === batch.id);
    if (row && settled(row.status)) {
      const detail = await product.call('GET', `/batches/${batch.id}`);
      if (settled(detail.status) && (since === null || (detail.lastSyncedAt !== null && detail.lastSyncedAt > since)))
        return detail;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** A process of the product's tree: its pid, the program it belongs to and the fields of /proc/<pid>/stat after the name. */
export interface TreeProcess {
  pid: number;
  program: string;
  stat: string[];
}

/**
 * The processes of `rootPid`'s tree alive now (from /proc), each named by the program it belongs to: the product's
 * own process, PostgreSQL (its postmaster and backends), the Temporal dev server, the watchdog's shell, or its name.
 */
export async function processTree(rootPid: number): Promise<TreeProcess[]> {
  const all = new Map<number, { ppid: number; name: string; stat: string[] }>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // pid (name) state ppid … utime(14) stime(15): the name may hold spaces and parentheses.
    const stat = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (stat.length < 13) continue;
    all.set(pid, { ppid: Number(stat[1]), name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), stat });
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = all.get(p)?.ppid ?? 0, hops++) if (p === rootPid) return true;
    return false;
  };
  const programOf = (pid: number, name: string) =>
    pid === rootPid
      ? 'mailferry (worker+API)'
      : /^postgres/.test(name)
        ? 'PostgreSQL'
        : /^temporal/.test(name)
          ? 'Temporal'
          : name === 'sh'
            ? 'watchdog'
            : name;
  return [...all]
    .filter(([pid]) => inTree(pid))
    .map(([pid, { name, stat }]) => ({ pid, program: programOf(pid, name), stat }));
}

/** CPU seconds (user + system) of `rootPid`'s tree alive now, by program ({@link processTree}). */
export async function treeCpuByProgram(rootPid: number): Promise<Record<string, number>> {
  const ticks = 100; // USER_HZ on Linux
  const byProgram: Record<string, number> = {};
  for (const { program, stat } of await processTree(rootPid))
    byProgram[program] = (byProgram[program] ?? 0) + (Number(stat[11]) + Number(stat[12])) / ticks;
  return byProgram;
}

/** The difference of two {@link treeCpuByProgram} readings, as "mailferry 3.10, PostgreSQL 0.52, …" (seconds). */
export function cpuSplit(before: Record<string, number>, after: Record<string, number>): string {
  return Object.entries(after)
    .map(([program, cpu]) => [program, cpu - (before[program] ?? 0)] as const)
    .filter(([, cpu]) => cpu >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([program, cpu]) => `${program} ${cpu.toFixed(2)}`)
    .join(', ');
}

/**
 * The workflow's history events from `sinceMs` on, each as milliseconds after it and its type (with the activity's
 * or the marker's name): where a pass's orchestration time goes, for BENCH_TIMING.
 */
export async function workflowEventsSince(
  product: RunningProduct,
  workflowId: string,
  sinceMs: number,
): Promise<string> {
  const { Connection, WorkflowClient } = await import('@temporalio/client');
  const { temporal } = (await import('@temporalio/proto')).default;
  const connection = await Connection.connect({ address: product.temporalAddress });
  try {
    const history = await new WorkflowClient({ connection }).getHandle(workflowId).fetchHistory();
    const names = new Map<string, string>();
    const parts: string[] = [];
    for (const e of history.events ?? []) {
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) names.set(String(e.eventId), scheduled.activityType?.name ?? '?');
      if (at < sinceMs) continue;
      const type = String(temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? e.eventType)
        .replace('EVENT_TYPE_', '')
        .toLowerCase();
      const activity =
        scheduled?.activityType?.name ??
        names.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')) ??
        names.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? ''));
      const marker = e.markerRecordedEventAttributes?.markerName;
      parts.push(`+${at - sinceMs} ${type}${activity ? `(${activity})` : marker ? `(${marker})` : ''}`);
    }
    return parts.join(', ');
  } finally {
    await connection.close();
  }
}
