import type { ConnectionTestResult } from '../api/types';

/** The outcome of a connection test, announced to screen readers. */
export function ConnectionTestResultView({ result }: { result: ConnectionTestResult | undefined }) {
  if (!result) return null;
  return (
    <p className={`message ${result.ok ? 'message-ok' : 'message-error'}`} role="status" data-testid="connection-test">
      {result.ok ? 'Connection test passed' : 'Connection test failed'}
      {result.message ? `: ${result.message}` : '.'}
      {!result.ok && result.code ? <span className="muted"> ({result.code})</span> : null}
    </p>
  );
}
