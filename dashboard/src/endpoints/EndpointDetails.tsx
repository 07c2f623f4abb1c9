import { useState } from 'react';
import { errorText } from '../api/api-error';
import type { ConnectionTestResult, Endpoint } from '../api/types';
import { useSession } from '../auth/session-context';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { StatusBadge } from '../components/StatusBadge';
import { formatDateTime } from '../format';
import { routeHref } from '../hooks/use-route';
import { ConnectionTestResultView } from './ConnectionTestResultView';
import { limitsInEffect, mintsTokens } from './endpoint-form-state';
import { blockedReason } from './running-batches';

interface Props {
  endpoint: Endpoint;
  onEdit(): void;
  onDeleted(): void;
}

/** One endpoint's settings, the batches that use it, and its commands (blocked while a batch using it runs). */
export function EndpointDetails({ endpoint, onEdit, onDeleted }: Props) {
  const { api, canMutate } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [test, setTest] = useState<ConnectionTestResult | undefined>();
  const blocked = blockedReason(endpoint);

  async function remove() {
    setConfirming(false);
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteEndpoint(endpoint.id);
      onDeleted();
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  }

  async function runTest() {
    setBusy(true);
    setTest(undefined);
    setError(undefined);
    try {
      setTest(await api.testEndpoint(endpoint.id));
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  }

  const rows: [string, string][] = [
    ['Type', endpoint.type.toUpperCase()],
    ['Provider', endpoint.provider],
    ['Server', `${endpoint.host}:${endpoint.port}`],
    ['Encryption', endpoint.security],
    ['Accept untrusted certificates', endpoint.acceptUntrustedCerts ? 'Yes' : 'No'],
    ['Authentication', endpoint.authMethod],
    ['Admin user', endpoint.adminUser ?? 'none'],
    [
      mintsTokens(endpoint.authMethod) ? 'Key or secret' : 'Admin password',
      endpoint.hasAdminPassword ? 'stored (never shown)' : 'none',
    ],
    ...(endpoint.tenantId ? [['Tenant', endpoint.tenantId] as [string, string]] : []),
    ...(endpoint.clientId ? [['Client id', endpoint.clientId] as [string, string]] : []),
    ...(endpoint.authorityHost ? [['Authority host', endpoint.authorityHost] as [string, string]] : []),
    ['Max concurrent migrations', String(endpoint.maxConcurrentMigrations)],
    ['Max concurrent incremental syncs', String(endpoint.maxConcurrentIncrementalSyncs)],
    ['Download rate limits', limitsInEffect(endpoint, 'download')],
    ['Upload rate limits', limitsInEffect(endpoint, 'upload')],
    ['Created', formatDateTime(endpoint.createdAt)],
    ['Updated', formatDateTime(endpoint.updatedAt)],
  ];

  return (
    <section className="details" aria-labelledby="endpoint-title">
      <div className="details-head">
        <h2 id="endpoint-title">{endpoint.name}</h2>
      </div>
      {canMutate && blocked && (
        <p className="message message-warn" id="endpoint-blocked" role="note">
          {blocked}
        </p>
      )}
      {canMutate && (
        <div className="command-bar" role="toolbar" aria-label="Endpoint commands">
          <button
            type="button"
            onClick={onEdit}
            disabled={busy || Boolean(blocked)}
            aria-describedby={blocked ? 'endpoint-blocked' : undefined}
          >
            Edit endpoint
          </button>
          <button
            type="button"
            className="danger-outline"
            onClick={() => setConfirming(true)}
            disabled={busy || Boolean(blocked)}
            aria-describedby={blocked ? 'endpoint-blocked' : undefined}
          >
            Delete endpoint
          </button>
          <button type="button" onClick={runTest} disabled={busy}>
            Test connection
          </button>
        </div>
      )}
      <ConnectionTestResultView result={test} />
      {error && (
        <p className="message message-error" role="alert">
          {error}
        </p>
      )}
      <dl className="detail-list">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h3>Batches using this endpoint</h3>
      {endpoint.batches && endpoint.batches.length > 0 ? (
        <ul className="plain-list">
          {endpoint.batches.map((batch) => (
            <li key={batch.id}>
              <a href={routeHref({ page: 'batches', batchId: batch.id })}>{batch.name}</a>{' '}
              <StatusBadge status={batch.status} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No batch uses this endpoint.</p>
      )}
      <ConfirmDialog
        open={confirming}
        title="Delete migration endpoint?"
        message={`Delete "${endpoint.name}" and its stored admin password? Batches cannot use it afterwards.`}
        confirmLabel="Delete"
        danger
        onCancel={() => setConfirming(false)}
        onConfirm={() => void remove()}
      />
    </section>
  );
}
