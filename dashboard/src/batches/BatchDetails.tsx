import type { ReactNode } from 'react';
import type { BatchDetail, EndpointRef, ProgressPoint } from '../api/types';
import { StatusBadge } from '../components/StatusBadge';
import { formatCount, formatDateTime, formatDuration, timeZoneName } from '../format';
import { routeHref } from '../hooks/use-route';
import { ProgressChart } from './ProgressChart';

interface Props {
  batch: BatchDetail;
  progress: ProgressPoint[] | undefined;
}

function EndpointLink({ endpoint }: { endpoint: EndpointRef | undefined }) {
  if (!endpoint) return <>—</>;
  return (
    <>
      <a href={routeHref({ page: 'endpoints', endpointId: endpoint.id })}>{endpoint.name}</a>{' '}
      <span className="muted">({endpoint.host})</span>
    </>
  );
}

/**
 * The recorded samples end where the read model last wrote one; the details were fetched just now, so the
 * chart ends with the counts shown above (once the batch has started).
 */
function withCurrentCounts(points: ProgressPoint[], batch: BatchDetail): ProgressPoint[] {
  if (!batch.startedAt) return points;
  const last = points[points.length - 1];
  const now = { at: new Date().toISOString(), synced: batch.synced, failed: batch.failed, finalized: batch.finalized };
  return [...points, { ...now, itemsSynced: last?.itemsSynced ?? 0 }];
}

const PASS_NAMES: Record<string, string> = {
  initial: 'Initial sync',
  incremental: 'Incremental sync',
  final: 'Final sync',
};

/** Work that waits this long for a worker is not a worker being busy: none is running. */
const WAITING_FOR_WORKER_NOTICE_MS = 60_000;

/** Since when the batch's work has waited for a worker, when that is longer than a minute. */
function waitingTooLong(batch: BatchDetail): string | undefined {
  const since = batch.waitingForWorkerSince;
  if (!since || Date.now() - Date.parse(since) < WAITING_FOR_WORKER_NOTICE_MS) return undefined;
  return since;
}

function of(value: number, total: number): string {
  return `${formatCount(value)} of ${formatCount(total)}`;
}

/** The seed's "Migration batch statistics" for the selected batch, plus its workflow and a progress chart. */
export function BatchDetails({ batch, progress }: Props) {
  const rows: [string, ReactNode][] = [
    ['Type', batch.type],
    ['Direction', batch.direction],
    ['Status', <StatusBadge key="s" status={batch.status} label={batch.statusLabel} />],
    ['Requested', formatCount(batch.requested ?? batch.total)],
    ['Synced mailboxes', of(batch.synced, batch.total)],
    ['Finalized mailboxes', of(batch.finalized, batch.total)],
    ['Failed mailboxes', of(batch.failed, batch.total)],
    [
      'Items synced',
      batch.items
        ? `${formatCount(batch.items.synced)}: ${formatCount(batch.items.mail)} mail, ${formatCount(batch.items.calendar)} calendar items, ${formatCount(batch.items.contacts)} contacts`
        : '—',
    ],
    ['Created by', batch.createdBy || '—'],
    ['Created time', formatDateTime(batch.createdAt)],
    ['Start time', formatDateTime(batch.startedAt)],
    ['Initial sync time', formatDateTime(batch.initialSyncAt)],
    ['Initial sync duration', formatDuration(batch.initialSyncDurationMs)],
    ['Last synced time', formatDateTime(batch.lastSyncedAt)],
    ['Start after', formatDateTime(batch.startAfter)],
    ['Complete after', formatDateTime(batch.completeAfter)],
    ['Source endpoint', <EndpointLink key="src" endpoint={batch.sourceEndpoint} />],
    ['Destination endpoint', <EndpointLink key="dst" endpoint={batch.destinationEndpoint} />],
  ];
  if (batch.pass) {
    rows.splice(3, 0, [
      'Current pass',
      `${PASS_NAMES[batch.pass.kind] ?? batch.pass.kind}: ${formatCount(batch.pass.finished)} of ${formatCount(batch.total)} mailboxes done, since ${formatDateTime(batch.pass.startedAt)}`,
    ]);
  }
  rows.push([
    'Data consistency',
    batch.verification
      ? `Verifying: ${formatCount(batch.verification.finished)} mailboxes done`
      : `Perfect ${formatCount(batch.grades.Perfect)}, Good ${formatCount(batch.grades.Good)}, ` +
        `Investigate ${formatCount(batch.grades.Investigate)}, Poor ${formatCount(batch.grades.Poor)}, ` +
        `not verified ${formatCount(batch.grades.unverified)}`,
  ]);
  if (batch.nextIncrementalSyncAt) rows.push(['Next incremental sync', formatDateTime(batch.nextIncrementalSyncAt)]);
  if (batch.autoStopAt) rows.push(['Stops for inactivity at', formatDateTime(batch.autoStopAt)]);
  if (batch.removeAt) rows.push(['Removed automatically at', formatDateTime(batch.removeAt)]);
  const leftOut = [batch.skipCalendar && 'calendars', batch.skipTasks && 'tasks', batch.skipContacts && 'contacts'];
  rows.push(['Left out', leftOut.filter(Boolean).join(', ') || 'Nothing']);
  rows.push([
    'E-mailed reports',
    batch.skipReports || batch.notificationEmails.length === 0
      ? 'Off'
      : `To ${batch.notificationEmails.join(', ')}, summary every ${batch.reportInterval}` +
        (batch.lastReportAt ? `; last sent ${formatDateTime(batch.lastReportAt)}` : ''),
  ]);
  const waitingSince = waitingTooLong(batch);

  return (
    <section className="details" aria-labelledby="details-title">
      <div className="details-head">
        <h2 id="details-title">{batch.name}</h2>
        <a className="button" href={routeHref({ page: 'report', batchId: batch.id })}>
          View details
        </a>
      </div>
      {waitingSince && (
        <p className="message message-warn" role="status" data-testid="waiting-for-worker">
          Waiting for a worker since {formatDateTime(waitingSince)}: no worker has picked up this batch&apos;s work.
          Start a worker (<code>npm run worker</code>) and it continues.
        </p>
      )}
      {batch.lastError && (
        <p className="message message-error" role="status">
          Last error: {batch.lastError}
        </p>
      )}
      {batch.lastReportError && (
        <p className="message message-error" role="status">
          Last report error: {batch.lastReportError}
        </p>
      )}
      <dl className="detail-list" data-testid="batch-details">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
        <div>
          <dt>Workflow</dt>
          <dd>
            {batch.temporalUiUrl ? (
              <a href={batch.temporalUiUrl} target="_blank" rel="noreferrer noopener">
                Open {batch.workflowId} in Temporal Web UI<span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            ) : (
              <code>{batch.workflowId}</code>
            )}
          </dd>
        </div>
      </dl>
      <p className="muted small">Times are in your time zone, {timeZoneName()}.</p>
      <h3>Progress</h3>
      {progress ? (
        <ProgressChart points={withCurrentCounts(progress, batch)} total={batch.total} />
      ) : (
        <p className="muted">Loading progress…</p>
      )}
    </section>
  );
}
