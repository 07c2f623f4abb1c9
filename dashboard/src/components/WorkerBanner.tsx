import { useSession } from '../auth/session-context';
import { usePolling } from '../hooks/use-polling';

/** /health asks Temporal twice and PostgreSQL once: often enough to notice a stopped worker, cheap enough. */
const HEALTH_INTERVAL_MS = 15_000;

/**
 * A banner on every screen while nothing will make batches progress: no worker polls the task queue, or the
 * workflow service is down. Says nothing when /health cannot be read at all (the screens show that error).
 */
export function WorkerBanner() {
  const { api } = useSession();
  const health = usePolling(() => api.health(), [api], { intervalMs: HEALTH_INTERVAL_MS });
  const checks = health.data;
  if (!checks || health.error) return null;
  let text: string | undefined;
  if (!checks.temporal.ok) text = 'The workflow service (Temporal) is not reachable: batches will not progress.';
  else if (!checks.workers.ok) text = 'No worker is running: batches will not progress.';
  if (!text) return null;
  return (
    <div className="banner" role="alert" data-testid="worker-banner">
      <strong>{text}</strong> Start one with <code>npm run worker</code> (or <code>npm start</code>); see the deployment
      guide.
    </div>
  );
}
