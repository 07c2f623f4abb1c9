/** Durations as operators write them (`24h`, `60d`, `90s`, `1500ms`): settings and batch options alike. */

const UNITS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
const PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export const DURATION_EXAMPLE = 'a duration such as 24h, 60d or 90s';

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const match = PATTERN.exec(text);
  return match ? Number(match[1]) * UNITS[match[2] as keyof typeof UNITS] : null;
}

/** The spelling with the largest whole unit: 86400000 → `1d`, 5400000 → `90m`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNITS)) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
