interface Props {
  status: string;
  label?: string;
}

/** A status in words with a colour cue (the words carry the meaning; the colour only helps scanning). */
export function StatusBadge({ status, label }: Props) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{label ?? status}</span>;
}
