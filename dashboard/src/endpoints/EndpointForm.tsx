import { useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../api/api-error';
import { fieldErrorsFromApi } from '../api/field-errors';
import type { ConnectionTestResult, Endpoint, Security, TestMailbox } from '../api/types';
import { useSession } from '../auth/session-context';
import { describedBy, Field } from '../components/Field';
import { ConnectionTestResultView } from './ConnectionTestResultView';
import {
  DEFAULT_PORT,
  AUTH_METHODS,
  EMPTY_ENDPOINT,
  endpointInput,
  isMicrosoftApp,
  mintsTokens,
  endpointPatch,
  formFromEndpoint,
  LIMITS,
  PROVIDERS,
  splitKey,
  validateEndpoint,
  type EndpointErrors,
  type EndpointFormState,
} from './endpoint-form-state';

interface Props {
  /** Edit this endpoint; without it the form creates one. */
  endpoint?: Endpoint;
  onSaved(endpoint: Endpoint): void;
  onCancel(): void;
}

/** Create or edit a migration endpoint. Saving runs the server's connection test unless the admin skips it. */
export function EndpointForm({ endpoint, onSaved, onCancel }: Props) {
  const { api } = useSession();
  const original = endpoint ? formFromEndpoint(endpoint) : EMPTY_ENDPOINT;
  const [form, setForm] = useState<EndpointFormState>(original);
  const [errors, setErrors] = useState<EndpointErrors>({});
  const [skipTest, setSkipTest] = useState(false);
  const [test, setTest] = useState<ConnectionTestResult | undefined>();
  const [testUser, setTestUser] = useState('');
  const [testPassword, setTestPassword] = useState('');
  const testMailbox: TestMailbox | undefined = testUser.trim()
    ? { userName: testUser.trim(), password: testPassword || null }
    : undefined;
  const [submitError, setSubmitError] = useState<string | undefined>();
  const [busy, setBusy] = useState<'save' | 'test' | undefined>();
  const prefix = endpoint ? 'edit-endpoint' : 'new-endpoint';

  const set = <K extends keyof EndpointFormState>(key: K, value: EndpointFormState[K]) =>
    setForm((current) => ({ ...current, [key]: value }));

  function setSecurity(security: Security) {
    setForm((current) => ({
      ...current,
      security,
      port: current.port === String(DEFAULT_PORT[current.security]) ? String(DEFAULT_PORT[security]) : current.port,
    }));
  }

  function check(): boolean {
    const found = validateEndpoint(form, !!endpoint?.hasAdminPassword && form.authMethod === original.authMethod);
    setErrors(found);
    return Object.keys(found).length === 0;
  }

  async function runTest() {
    if (!check()) return;
    setBusy('test');
    setTest(undefined);
    setSubmitError(undefined);
    try {
      const unchanged = endpoint && Object.keys(endpointPatch(form, original)).length === 0;
      setTest(
        unchanged && endpoint
          ? await api.testEndpoint(endpoint.id, testMailbox)
          : await api.testSettings({ ...endpointInput(form), testMailbox }),
      );
    } catch (error) {
      setSubmitError(errorText(error));
    } finally {
      setBusy(undefined);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!check()) return;
    setBusy('save');
    setSubmitError(undefined);
    try {
      const saved = endpoint
        ? await api.editEndpoint(endpoint.id, endpointPatch(form, original), skipTest)
        : await api.createEndpoint(
            { ...endpointInput(form), testMailbox: skipTest ? undefined : testMailbox },
            skipTest,
          );
      onSaved(saved);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'ENDPOINT_TEST_FAILED') {
        const result = (error.details as { test?: ConnectionTestResult } | undefined)?.test;
        setTest(result ?? { ok: false, code: error.code, message: error.message });
        setSubmitError('Not saved: the connection test failed. Fix the settings, or save without the test.');
      } else {
        setErrors(fieldErrorsFromApi(error) as EndpointErrors);
        setSubmitError(errorText(error));
      }
    } finally {
      setBusy(undefined);
    }
  }

  const input = (key: keyof EndpointFormState, hint?: string) => ({
    id: `${prefix}-${key}`,
    'aria-invalid': errors[key] ? true : undefined,
    'aria-describedby': describedBy(`${prefix}-${key}`, hint, errors[key]),
  });

  return (
    <form className="endpoint-form" onSubmit={submit} noValidate aria-labelledby={`${prefix}-title`}>
      <h2 id={`${prefix}-title`}>{endpoint ? `Edit endpoint ${endpoint.name}` : 'New migration endpoint'}</h2>
      <div className="two-columns">
        <Field id={`${prefix}-name`} label="Name" error={errors.name}>
          <input {...input('name')} value={form.name} maxLength={100} onChange={(e) => set('name', e.target.value)} />
        </Field>
        <Field id={`${prefix}-provider`} label="Provider" error={errors.provider}>
          <select
            {...input('provider')}
            value={form.provider}
            onChange={(e) => set('provider', e.target.value as EndpointFormState['provider'])}
          >
            {PROVIDERS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${prefix}-host`} label="IMAP server" error={errors.host}>
          <input
            {...input('host')}
            value={form.host}
            autoComplete="off"
            spellCheck={false}
            placeholder="imap.example.com"
            onChange={(e) => set('host', e.target.value)}
          />
        </Field>
        <Field id={`${prefix}-port`} label="Port" error={errors.port}>
          <input
            {...input('port')}
            inputMode="numeric"
            value={form.port}
            onChange={(e) => set('port', e.target.value)}
          />
        </Field>
        <Field id={`${prefix}-security`} label="Encryption" error={errors.security}>
          <select
            {...input('security')}
            value={form.security}
            onChange={(e) => setSecurity(e.target.value as Security)}
          >
            <option value="tls">TLS (implicit, usually port 993)</option>
            <option value="starttls">STARTTLS (usually port 143)</option>
            <option value="none">None (unencrypted)</option>
          </select>
        </Field>
        <Field id={`${prefix}-authMethod`} label="Authentication" error={errors.authMethod}>
          <select
            {...input('authMethod')}
            value={form.authMethod}
            onChange={(e) => set('authMethod', e.target.value as EndpointFormState['authMethod'])}
          >
            {AUTH_METHODS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        {form.authMethod === 'google-service-account' && (
          <Field
            id={`${prefix}-oauthSecret`}
            label="Service account key (JSON)"
            hint={
              endpoint?.hasAdminPassword && original.authMethod === form.authMethod
                ? 'Stored; upload another to replace it.'
                : 'The key file of a service account with domain-wide delegation; write-only: never shown again.'
            }
            error={errors.oauthSecret}
          >
            <input
              {...input('oauthSecret', 'hint')}
              type="file"
              accept="application/json,.json"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void file.text().then((text) => set('oauthSecret', text));
              }}
            />
          </Field>
        )}
        {isMicrosoftApp(form.authMethod) && (
          <>
            <Field id={`${prefix}-tenantId`} label="Tenant (directory) id or domain" error={errors.tenantId}>
              <input
                {...input('tenantId')}
                value={form.tenantId}
                spellCheck={false}
                onChange={(e) => set('tenantId', e.target.value)}
              />
            </Field>
            <Field id={`${prefix}-clientId`} label="Application (client) id" error={errors.clientId}>
              <input
                {...input('clientId')}
                value={form.clientId}
                spellCheck={false}
                onChange={(e) => set('clientId', e.target.value)}
              />
            </Field>
            <Field
              id={`${prefix}-oauthSecret`}
              label={form.authMethod === 'm365-client-credentials' ? 'Client secret' : 'Refresh token'}
              hint={
                endpoint?.hasAdminPassword && original.authMethod === form.authMethod
                  ? 'Stored; leave empty to keep it.'
                  : 'Write-only: never shown again.'
              }
              error={errors.oauthSecret}
            >
              <input
                {...input('oauthSecret', 'hint')}
                type="password"
                autoComplete="new-password"
                value={form.oauthSecret}
                onChange={(e) => set('oauthSecret', e.target.value)}
              />
            </Field>
            <Field
              id={`${prefix}-authorityHost`}
              label="Authority host"
              hint="Optional: https://login.microsoftonline.com unless your tenant is in another cloud."
              error={errors.authorityHost}
            >
              <input
                {...input('authorityHost', 'hint')}
                value={form.authorityHost}
                spellCheck={false}
                onChange={(e) => set('authorityHost', e.target.value)}
              />
            </Field>
          </>
        )}
        <Field
          id={`${prefix}-adminUser`}
          label="Admin (master) user"
          hint="Optional: logs in on behalf of each mailbox. Leave empty when each CSV row has its own password."
          error={errors.adminUser}
        >
          <input
            {...input('adminUser', 'hint')}
            value={form.adminUser}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => set('adminUser', e.target.value)}
          />
        </Field>
        {!mintsTokens(form.authMethod) && (
          <Field
            id={`${prefix}-adminPassword`}
            label="Admin password"
            hint={endpoint?.hasAdminPassword ? 'Stored; leave empty to keep it.' : 'Write-only: never shown again.'}
            error={errors.adminPassword}
          >
            <input
              {...input('adminPassword', 'hint')}
              type="password"
              autoComplete="new-password"
              value={form.adminPassword}
              onChange={(e) => set('adminPassword', e.target.value)}
            />
          </Field>
        )}
        <Field
          id={`${prefix}-maxConcurrentMigrations`}
          label="Max concurrent migrations"
          error={errors.maxConcurrentMigrations}
        >
          <input
            {...input('maxConcurrentMigrations')}
            inputMode="numeric"
            value={form.maxConcurrentMigrations}
            onChange={(e) => set('maxConcurrentMigrations', e.target.value)}
          />
        </Field>
        <Field
          id={`${prefix}-maxConcurrentIncrementalSyncs`}
          label="Max concurrent incremental syncs"
          error={errors.maxConcurrentIncrementalSyncs}
        >
          <input
            {...input('maxConcurrentIncrementalSyncs')}
            inputMode="numeric"
            value={form.maxConcurrentIncrementalSyncs}
            onChange={(e) => set('maxConcurrentIncrementalSyncs', e.target.value)}
          />
        </Field>
        <Field
          id={`${prefix}-caldavUrl`}
          label="CalDAV (calendars)"
          hint={`A host (discovery finds the calendars) or a URL. ${endpoint ? 'Empty: none.' : "Empty: the provider's (Gmail: Google's), else none."}`}
          error={errors.caldavUrl}
        >
          <input
            {...input('caldavUrl', 'hint')}
            value={form.caldavUrl}
            autoComplete="off"
            spellCheck={false}
            placeholder="https://dav.example.com"
            onChange={(e) => set('caldavUrl', e.target.value)}
          />
        </Field>
        <Field
          id={`${prefix}-carddavUrl`}
          label="CardDAV (contacts)"
          hint={`A host or a URL, like CalDAV. ${endpoint ? 'Empty: none.' : "Empty: the provider's, else none."}`}
          error={errors.carddavUrl}
        >
          <input
            {...input('carddavUrl', 'hint')}
            value={form.carddavUrl}
            autoComplete="off"
            spellCheck={false}
            placeholder="https://dav.example.com"
            onChange={(e) => set('carddavUrl', e.target.value)}
          />
        </Field>
      </div>
      <fieldset className="rate-limits">
        <legend>Rate limits</legend>
        <p className="hint" id={`${prefix}-limits-hint`}>
          Respected by every sync of every batch together. Empty: the provider&apos;s published limit; none: no limit.
        </p>
        {errors.limits ? (
          <p className="field-error" role="alert">
            {errors.limits}
          </p>
        ) : null}
        <div className="two-columns">
          {LIMITS.map(([key, label]) => {
            const [direction, name] = splitKey(key);
            const id = `${prefix}-limit-${direction}-${name}`;
            const hint = endpoint ? `In effect: ${endpoint.effectiveRateLimits[direction][name] ?? 'none'}` : undefined;
            return (
              <Field key={key} id={id} label={label} hint={hint}>
                <input
                  id={id}
                  inputMode="decimal"
                  placeholder="default"
                  aria-describedby={[`${prefix}-limits-hint`, describedBy(id, hint)].filter(Boolean).join(' ')}
                  value={form.limits[key]}
                  onChange={(e) => set('limits', { ...form.limits, [key]: e.target.value })}
                />
              </Field>
            );
          })}
        </div>
      </fieldset>
      <div className="checkbox">
        <input
          id={`${prefix}-untrusted`}
          type="checkbox"
          checked={form.acceptUntrustedCerts}
          onChange={(e) => set('acceptUntrustedCerts', e.target.checked)}
        />
        <label htmlFor={`${prefix}-untrusted`}>Accept untrusted certificates (self-signed or expired)</label>
      </div>
      <fieldset className="test-mailbox">
        <legend>Connection test</legend>
        <p className="hint">
          Without a mailbox the test connects
          {form.adminUser ? ' and logs in as the admin user' : ' and reads the greeting'}. Give a mailbox to test a
          login as that user{form.adminUser ? ' through the admin user' : ''}; it is used for the test only and never
          stored.
        </p>
        <div className="two-columns">
          <Field id={`${prefix}-test-user`} label="Test mailbox user name">
            <input
              id={`${prefix}-test-user`}
              value={testUser}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setTestUser(e.target.value)}
            />
          </Field>
          <Field
            id={`${prefix}-test-password`}
            label="Test mailbox password"
            hint={form.adminUser ? 'Not needed with an admin user.' : undefined}
          >
            <input
              id={`${prefix}-test-password`}
              type="password"
              autoComplete="new-password"
              value={testPassword}
              aria-describedby={form.adminUser ? `${prefix}-test-password-hint` : undefined}
              onChange={(e) => setTestPassword(e.target.value)}
            />
          </Field>
        </div>
      </fieldset>
      <div className="checkbox">
        <input
          id={`${prefix}-skip-test`}
          type="checkbox"
          checked={skipTest}
          onChange={(e) => setSkipTest(e.target.checked)}
        />
        <label htmlFor={`${prefix}-skip-test`}>Save without testing the connection</label>
      </div>
      <ConnectionTestResultView result={test} />
      {submitError && (
        <p className="message message-error" role="alert">
          {submitError}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy !== undefined}>
          {busy === 'save'
            ? skipTest
              ? 'Saving…'
              : 'Testing and saving…'
            : endpoint
              ? 'Save changes'
              : 'Create endpoint'}
        </button>
        <button type="button" onClick={runTest} disabled={busy !== undefined}>
          {busy === 'test' ? 'Testing…' : 'Test connection'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
