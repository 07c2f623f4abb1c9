import type { ProgressPoint } from '../api/types';
import { formatCount, formatDateTime, formatTime } from '../format';

interface Props {
  points: ProgressPoint[];
  total: number;
}

const WIDTH = 480;
const HEIGHT = 180;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

const SERIES = [
  { key: 'synced', label: 'Synced', className: 'series-synced' },
  { key: 'failed', label: 'Failed', className: 'series-failed' },
  { key: 'finalized', label: 'Finalized', className: 'series-finalized' },
] as const;

/**
 * Mailboxes synced, failed and finalized over time, as plain SVG lines. A table with the same numbers follows
 * for screen readers (and anyone who wants exact values).
 */
export function ProgressChart({ points, total }: Props) {
  const samples = points
    .map((point) => ({ ...point, time: new Date(point.at).getTime() }))
    .filter((point) => Number.isFinite(point.time))
    .sort((a, b) => a.time - b.time);
  if (samples.length === 0) {
    return <p className="muted">No progress recorded yet. The chart fills in once the batch starts syncing.</p>;
  }
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const t0 = first.time;
  const t1 = Math.max(last.time, t0 + 1000);
  const yMax = Math.max(1, total, ...samples.map((s) => Math.max(s.synced, s.failed, s.finalized)));
  const x = (time: number) => PAD.left + ((time - t0) / (t1 - t0)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - (value / yMax) * (HEIGHT - PAD.top - PAD.bottom);
  const path = (key: (typeof SERIES)[number]['key']) =>
    samples.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(s.time).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="chart-caption">
        {[0, 0.5, 1].map((fraction) => (
          <g key={fraction}>
            <line
              className="grid"
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(yMax * fraction)}
              y2={y(yMax * fraction)}
            />
            <text className="axis" x={PAD.left - 6} y={y(yMax * fraction) + 4} textAnchor="end">
              {formatCount(Math.round(yMax * fraction))}
            </text>
          </g>
        ))}
        <text className="axis" x={PAD.left} y={HEIGHT - 8}>
          {formatTime(t0)}
        </text>
        <text className="axis" x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end">
          {formatTime(t1)}
        </text>
        {SERIES.map((series) => (
          <path key={series.key} className={`series ${series.className}`} d={path(series.key)} />
        ))}
        {samples.length === 1 &&
          SERIES.map((series) => (
            <circle
              key={series.key}
              className={`series-dot ${series.className}`}
              cx={x(first.time)}
              cy={y(first[series.key])}
              r={3}
            />
          ))}
      </svg>
      <figcaption id="chart-caption">
        Mailboxes over time (of {formatCount(total)}), from {formatDateTime(first.at)} to {formatDateTime(last.at)}:{' '}
        {SERIES.map((series) => (
          <span key={series.key} className={`legend ${series.className}`}>
            {series.label} {formatCount(last[series.key])}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
