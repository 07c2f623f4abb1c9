interface Props {
  value: number;
  label: string;
}

/** A percentage as a bar with its number; the number is also the accessible value. */
export function ProgressBar({ value, label }: Props) {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(value) ? value : 0));
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(clamped)}
      >
        <div className="progress-fill" style={{ width: `${clamped}%` }} />
      </div>
      <span className="progress-text">{Math.round(clamped)}%</span>
    </div>
  );
}
