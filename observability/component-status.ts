import type { Logger } from './logger';

/**
 * What a process knows of the parts it depends on (PostgreSQL, Temporal, the IMAP servers): up or down, since
 * when, and the last error. A change is logged once each way, never once per failed retry: `<part> unreachable`
 * (warn) when it goes down, `<part> reachable again` (info, with how long it was down) when it comes back. The
 * line's field is `part` (the loggers' `component` names the process's role: api, worker).
 */
export interface ComponentState {
  ok: boolean;
  /** ISO time of the last change (or of the first report). */
  since: string;
  /** While down: the error that says why (a connection error names host and port at most). */
  lastError?: string;
}

/**
 * Checks overlap (a slow one times out after a quick one answered), so each report says when its check began
 * (`checkedAt`, ms since the epoch; default now): one that began before the last change is out of date and ignored.
 */
export interface ComponentMonitor {
  /** The part answered. */
  up(component: string, checkedAt?: number): void;
  /** The part failed: logged only if it was up (or not known yet). */
  down(component: string, error: unknown, checkedAt?: number): void;
  /** Every part reported so far, by name. */
  all(): Record<string, ComponentState>;
}

/** The names of the parts every process watches, as logged and as GET /health's `components` keys. */
export const POSTGRES_COMPONENT = 'PostgreSQL';
export const TEMPORAL_COMPONENT = 'Temporal';
/** An endpoint's IMAP server. */
export const imapComponent = (endpoint: { name: string; host: string; port: number }): string =>
  `IMAP server ${endpoint.name} (${endpoint.host}:${endpoint.port})`;

/** GET /health's one entry for every IMAP server: it answers without a token, so it names no endpoint or host. */
export const IMAP_SERVERS_COMPONENT = 'IMAP servers';

/**
 * The parts as an unauthenticated caller may see them: PostgreSQL and Temporal as they are, the IMAP servers as one
 * entry (down while any is down, since the latest change, with how many are unreachable). Each server's name and
 * state is in the token-protected GET /components.
 */
export function publicComponents(all: Record<string, ComponentState>): Record<string, ComponentState> {
  const imap = Object.entries(all).filter(([name]) => name.startsWith('IMAP server '));
  const shown = Object.fromEntries(Object.entries(all).filter(([name]) => !name.startsWith('IMAP server ')));
  if (imap.length === 0) return shown;
  const down = imap.filter(([, state]) => !state.ok);
  const since = imap
    .map(([, state]) => state.since)
    .sort()
    .at(-1)!;
  shown[IMAP_SERVERS_COMPONENT] =
    down.length === 0
      ? { ok: true, since }
      : { ok: false, since, lastError: `${down.length} of ${imap.length} IMAP servers unreachable (see /components)` };
  return shown;
}

const messageOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 300);

export function createComponentMonitor(logger: Logger): ComponentMonitor {
  const states = new Map<string, ComponentState>();
  return {
    up(component, checkedAt = Date.now()) {
      const was = states.get(component);
      if (was?.ok || (was && checkedAt < Date.parse(was.since))) return;
      const now = new Date();
      states.set(component, { ok: true, since: now.toISOString() });
      if (was) {
        logger.info(`${component} reachable again`, {
          part: component,
          downForMs: now.getTime() - Date.parse(was.since),
        });
      }
    },
    down(component, error, checkedAt = Date.now()) {
      const was = states.get(component);
      if (was?.ok && checkedAt < Date.parse(was.since)) return;
      const lastError = messageOf(error);
      if (was && !was.ok) {
        states.set(component, { ...was, lastError });
        return;
      }
      states.set(component, { ok: false, since: new Date().toISOString(), lastError });
      logger.warn(`${component} unreachable`, { part: component, error: lastError });
    },
    all: () => Object.fromEntries(states),
  };
}

/** A check of one part: resolves when it answers. */
export type Probe = () => Promise<unknown>;

/**
 * Runs each probe (the set `probes` returns each round, the last one while it fails; null ends the watch) every
 * `intervalMs` (bounded by `timeoutMs`) and reports the outcome to the monitor, so that a
 * process notices a lost and a regained part even while nothing else uses it. Returns the function that stops it;
 * it resolves once every probe still out has settled.
 */
export function watchComponents(
  monitor: ComponentMonitor,
  probes: () => Promise<Record<string, Probe> | null>,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): () => Promise<void> {
  const intervalMs = options.intervalMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 3000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Probes still out, even past their timeout: stopping waits for them before the caller closes what they use. */
  const unsettled = new Set<Promise<unknown>>();
  const checkOne = async (component: string, probe: Probe) => {
    let deadline: NodeJS.Timeout | undefined;
    const checkedAt = Date.now();
    const probing = probe();
    unsettled.add(probing);
    probing.then(
      () => unsettled.delete(probing),
      () => unsettled.delete(probing),
    );
    try {
      await Promise.race([
        probing,
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (!stopped) monitor.up(component, checkedAt);
    } catch (err) {
      // A check cut short by the process's own shutdown (a pool already ended) says nothing of the part.
      if (!stopped) monitor.down(component, err, checkedAt);
    } finally {
      clearTimeout(deadline);
    }
  };
  let current: Record<string, Probe> = {};
  const round = async () => {
    const next = await probes().catch(() => current);
    if (next === null) return;
    current = next;
    await Promise.all(Object.entries(current).map(([component, probe]) => checkOne(component, probe)));
    if (!stopped) timer = setTimeout(() => void round(), intervalMs).unref();
  };
  void round();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await Promise.allSettled([...unsettled]);
  };
}
