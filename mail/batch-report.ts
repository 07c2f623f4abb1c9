import { percentageSynced } from '../domain/batch-counts';
import type { MailboxCounts } from '../domain/batch-messages';
import { STATUS_LABELS, type BatchStatus } from '../domain/batch-status';

/** What one e-mailed report says about its batch: the seed's batch statistics and the failed mailboxes. */
export interface BatchReportFacts {
  kind: 'status' | 'summary';
  name: string;
  status: BatchStatus;
  counts: MailboxCounts;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  initialSyncAt: Date | null;
  initialSyncDurationMs: number | null;
  lastSyncedAt: Date | null;
  endpoints: { role: 'source' | 'destination'; name: string; host: string }[];
  lastError: string | null;
  /** The first failed mailboxes, and how many failed in all. */
  failed: { email: string; code: string | null; error: string | null }[];
  failedTotal: number;
}

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

export function reportSubject(f: Pick<BatchReportFacts, 'kind' | 'name' | 'status'>): string {
  const label = STATUS_LABELS[f.status] ?? f.status;
  return f.kind === 'summary'
    ? `mailferry: batch ${f.name} summary (${label})`
    : `mailferry: batch ${f.name} is ${label}`;
}

/** The report's plain-text body. */
export function reportText(f: BatchReportFacts): string {
  const c = f.counts;
  const stats: [string, string][] = [
    ['Type', 'IMAP'],
    ['Direction', 'Onboarding'],
    ['Status', STATUS_LABELS[f.status] ?? f.status],
    ['Requested', String(c.total)],
    ['Synced mailboxes', `${c.synced} of ${c.total} (${percentageSynced(c.synced, c.total)} %)`],
    ['Finalized mailboxes', `${c.finalized} of ${c.total}`],
    ['Failed mailboxes', String(c.failed)],
    ['Created by', f.createdBy],
    ['Create time', when(f.createdAt)],
    ['Start time', when(f.startedAt)],
    ['Initial sync time', when(f.initialSyncAt)],
    ['Initial sync duration', f.initialSyncDurationMs === null ? '-' : formatElapsed(f.initialSyncDurationMs)],
    ['Last sync time', when(f.lastSyncedAt)],
    ...f.endpoints.map((e): [string, string] => [`Associated endpoint (${e.role})`, `${e.name} (${e.host})`]),
  ];
  const width = Math.max(...stats.map(([k]) => k.length));
  const lines = [
    f.kind === 'summary'
      ? `Summary of migration batch ${f.name}.`
      : `Migration batch ${f.name} is ${STATUS_LABELS[f.status] ?? f.status}.`,
    '',
    ...stats.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`),
  ];
  if (f.lastError) lines.push('', `Last error: ${f.lastError}`);
  if (f.failedTotal > 0) {
    lines.push('', `Failed mailboxes (${f.failedTotal}):`);
    for (const m of f.failed) lines.push(`  ${m.email}: ${m.code ?? 'ERROR'} ${m.error ?? ''}`.trimEnd());
    if (f.failedTotal > f.failed.length) {
      lines.push(`  … and ${f.failedTotal - f.failed.length} more (see the attached report)`);
    }
  }
  lines.push('', 'The migration users report of the batch is attached (CSV, one line per mailbox).', '');
  return lines.join('\n');
}

/** 5400000 → `1h 30m`, 42000 → `42s`. */
function formatElapsed(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}
