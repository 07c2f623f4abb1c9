import { useCallback, useEffect, useRef, useState } from 'react';

/** How often live data is fetched again while the page is visible. */
export const POLL_INTERVAL_MS = 3000;

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first answer (or error) for the current inputs. */
  loading: boolean;
  /** When the last answer arrived (ms since the epoch). */
  updatedAt: number | undefined;
  /** Fetches now, without waiting for the next tick. */
  reload(): Promise<void>;
}

export interface PollingOptions {
  /** Fetch again this often while the tab is visible; 0 fetches once. Default {@link POLL_INTERVAL_MS}. */
  intervalMs?: number;
  /** Changing it fetches at once (the Refresh button). */
  refreshKey?: number;
  /**
   * Keep showing the previous answer while the answer for new inputs loads (a filter or page change), instead
   * of going back to the loading state. Not for a different object, whose old data would mislead.
   */
  keepPrevious?: boolean;
}

/**
 * Loads `load()` now and then every `intervalMs` while the tab is visible. Requests never overlap, and an answer
 * for stale inputs is dropped.
 */
export function usePolling<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  options: PollingOptions = {},
): Polled<T> {
  const { intervalMs = POLL_INTERVAL_MS, refreshKey = 0, keepPrevious = false } = options;
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | undefined>(undefined);
  const generation = useRef(0);
  const inFlight = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async (force: boolean) => {
    if (inFlight.current && !force) return;
    const mine = generation.current;
    inFlight.current = true;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
      setUpdatedAt(Date.now());
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(caught);
    } finally {
      if (mine === generation.current) {
        inFlight.current = false;
        setLoading(false);
      }
    }
  }, []);

  // The caller's `deps` decide when the inputs changed, as a useEffect dependency list would.
  useEffect(() => {
    generation.current += 1;
    inFlight.current = false;
    setLoading(true);
    if (!keepPrevious) setData(undefined);
    setError(undefined);
    void run(true);
  }, deps);

  useEffect(() => {
    if (refreshKey > 0) void run(true);
  }, [refreshKey, run]);

  useEffect(() => {
    if (!intervalMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void run(false);
    }, intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs, run]);

  const reload = useCallback(() => run(true), [run]);
  return { data, error, loading, updatedAt, reload };
}
