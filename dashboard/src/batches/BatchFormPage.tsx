import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../api/api-error';
import { fieldErrorsFromApi } from '../api/field-errors';
import type { CsvLineError, Endpoint } from '../api/types';
import { useSession } from '../auth/session-context';
import { ErrorMessage } from '../components/ErrorMessage';
import { describedBy, Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { timeZoneName } from '../format';
import { navigate, routeHref } from '../hooks/use-route';
import {
  createInput,
  editInput,
  EMPTY_FORM,
  formFromBatch,
  SKIP_SETTINGS,
  validateForm,
  type BatchFormState,
  type FieldErrors,
} from './batch-form-state';
import { CsvInput } from './CsvInput';
import { EndpointSelect } from './EndpointSelect';

interface Props {
  /** Edit this batch; without it the form creates a new one. */
  batchId?: string;
}

/** New migration batch / Edit batch. */
export function BatchFormPage({ batchId }: Props) {
  const { api, canMutate } = useSession();
  const creating = !batchId;
  const [endpoints, setEndpoints] = useState<Endpoint[] | undefined>();
  const [original, setOriginal] = useState<BatchFormState | undefined>(creating ? EMPTY_FORM : undefined);
  const [form, setForm] = useState<BatchFormState>(EMPTY_FORM);
  const [loadError, setLoadError] = useState<unknown>();
  /** Changing it loads the endpoints (and the batch) again: Try again after a failed load. */
  const [loadKey, setLoadKey] = useState(0);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [csvErrors, setCsvErrors] = useState<CsvLineError[]>([]);
  const [submitError, setSubmitError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setLoadError(undefined);
    Promise.all([api.listEndpoints(), batchId ? api.getBatch(batchId) : Promise.resolve(undefined)]).then(
      ([list, batch]) => {
        if (!live) return;
        setEndpoints(list);
        if (batch) {
          const state = formFromBatch(batch);
          setOriginal(state);
          setForm(state);
        }
      },
      (error) => live && setLoadError(error),
    );
    return () => {
      live = false;
    };
  }, [api, batchId, loadKey]);

  const set = <K extends keyof BatchFormState>(key: K, value: BatchFormState[K]) =>
    setForm((current) => ({ ...current, [key]: value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const errors = validateForm(form, creating);
    setFieldErrors(errors);
    setSubmitError(undefined);
    if (Object.keys(errors).length > 0) {
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      if (creating) {
        setCsvErrors([]);
        const created = await api.createBatch(createInput(form));
        navigate({ page: 'batches', batchId: created.id });
      } else if (original && batchId) {
        const changes = editInput(form, original);
        if (Object.keys(changes).length > 0) await api.editBatch(batchId, changes);
        navigate({ page: 'batches', batchId });
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CSV_INVALID') {
        const details = error.details as { problems?: CsvLineError[]; errors?: CsvLineError[] } | undefined;
        const lines = details?.problems ?? details?.errors ?? [];
        setCsvErrors(lines.length ? lines : [{ message: error.message }]);
      } else {
        const fields = fieldErrorsFromApi(error) as FieldErrors;
        setFieldErrors(fields);
        setSubmitError(error);
      }
      window.requestAnimationFrame(focusFirstInvalid);
    } finally {
      setBusy(false);
    }
  }

  const title = creating ? 'New migration batch' : `Edit batch ${original?.name ?? ''}`;
  if (!canMutate) {
    return (
      <p className="message message-info">Your token is read-only (viewer): batches cannot be created or edited.</p>
    );
  }
  if (loadError) {
    return <ErrorMessage error={loadError} title="Cannot open the form" onRetry={() => setLoadKey((key) => key + 1)} />;
  }
  if (!endpoints || !original) return <Loading what="the form" />;

  const err = fieldErrors;
  return (
    <form className="form-page" onSubmit={submit} noValidate aria-labelledby="form-title">
      <h1 id="form-title">{title}</h1>
      {endpoints.length === 0 && (
        <p className="message message-info">
          No migration endpoints exist yet. <a href="#/endpoints">Create the source and destination endpoints</a> first.
        </p>
      )}
      {submitError !== undefined && (
        <p className="message message-error" role="alert">
          {errorText(submitError)}
        </p>
      )}

      <fieldset>
        <legend>Batch</legend>
        <Field
          id="batch-name"
          label="Name"
          error={err.name}
          hint={
            creating ? 'Unique; letters, digits, spaces, dots, hyphens and underscores.' : 'A batch keeps its name.'
          }
        >
          <input
            id="batch-name"
            value={form.name}
            maxLength={64}
            readOnly={!creating}
            onChange={(event) => set('name', event.target.value)}
            aria-invalid={err.name ? true : undefined}
            aria-describedby={describedBy('batch-name', 'hint', err.name)}
          />
        </Field>
        <div className="two-columns">
          <EndpointSelect
            id="source-endpoint"
            label="Source endpoint"
            value={form.sourceEndpointId}
            endpoints={endpoints}
            error={err.sourceEndpointId}
            onChange={(id) => set('sourceEndpointId', id)}
          />
          <EndpointSelect
            id="destination-endpoint"
            label="Destination endpoint"
            value={form.destinationEndpointId}
            endpoints={endpoints}
            error={err.destinationEndpointId}
            onChange={(id) => set('destinationEndpointId', id)}
          />
        </div>
      </fieldset>

      {creating && (
        <>
          <CsvInput
            value={form.csv}
            fileName={form.csvFileName}
            errors={csvErrors}
            onChange={(text, fileName) => {
              setForm((current) => ({ ...current, csv: text, csvFileName: fileName }));
            }}
          />
          {err.csv && (
            <p className="field-error" role="alert">
              {err.csv}
            </p>
          )}
        </>
      )}

      <fieldset>
        <legend>Schedule</legend>
        <div className="two-columns">
          <Field
            id="start-after"
            label="Start after"
            hint={`Optional; your time zone (${timeZoneName()}).`}
            error={err.startAfter}
          >
            <input
              id="start-after"
              type="datetime-local"
              value={form.startAfter}
              disabled={!creating && !original}
              onChange={(event) => set('startAfter', event.target.value)}
              aria-describedby={describedBy('start-after', 'hint', err.startAfter)}
            />
          </Field>
          <Field
            id="complete-after"
            label="Complete after"
            hint="Optional; the batch completes on its own after this time."
            error={err.completeAfter}
          >
            <input
              id="complete-after"
              type="datetime-local"
              value={form.completeAfter}
              onChange={(event) => set('completeAfter', event.target.value)}
              aria-invalid={err.completeAfter ? true : undefined}
              aria-describedby={describedBy('complete-after', 'hint', err.completeAfter)}
            />
          </Field>
        </div>
        {creating && (
          <div className="checkbox">
            <input
              id="auto-start"
              type="checkbox"
              checked={form.autoStart}
              onChange={(event) => set('autoStart', event.target.checked)}
            />
            <label htmlFor="auto-start">Start automatically (AutoStart)</label>
          </div>
        )}
        <div className="checkbox">
          <input
            id="auto-complete"
            type="checkbox"
            checked={form.autoComplete}
            onChange={(event) => set('autoComplete', event.target.checked)}
          />
          <label htmlFor="auto-complete">Complete automatically after the initial sync (AutoComplete)</label>
        </div>
      </fieldset>

      <fieldset>
        <legend>Limits and folders</legend>
        <div className="two-columns">
          <Field
            id="bad-item-limit"
            label="Bad item limit"
            hint="Items that may fail per mailbox before it fails."
            error={err.badItemLimit}
          >
            <input
              id="bad-item-limit"
              inputMode="numeric"
              value={form.badItemLimit}
              onChange={(event) => set('badItemLimit', event.target.value)}
              aria-invalid={err.badItemLimit ? true : undefined}
              aria-describedby={describedBy('bad-item-limit', 'hint', err.badItemLimit)}
            />
          </Field>
          <Field
            id="large-item-limit"
            label="Large item limit"
            hint="Items over the size limit that may be skipped."
            error={err.largeItemLimit}
          >
            <input
              id="large-item-limit"
              inputMode="numeric"
              value={form.largeItemLimit}
              onChange={(event) => set('largeItemLimit', event.target.value)}
              aria-invalid={err.largeItemLimit ? true : undefined}
              aria-describedby={describedBy('large-item-limit', 'hint', err.largeItemLimit)}
            />
          </Field>
          <Field
            id="folder-include"
            label="Include folders"
            hint="One per line; empty: all folders."
            error={err.folderInclude}
          >
            <textarea
              id="folder-include"
              rows={3}
              value={form.folderInclude}
              onChange={(event) => set('folderInclude', event.target.value)}
              aria-describedby={describedBy('folder-include', 'hint', err.folderInclude)}
            />
          </Field>
          <Field
            id="folder-exclude"
            label="Exclude folders"
            hint="One per line, e.g. Junk or Trash."
            error={err.folderExclude}
          >
            <textarea
              id="folder-exclude"
              rows={3}
              value={form.folderExclude}
              onChange={(event) => set('folderExclude', event.target.value)}
              aria-describedby={describedBy('folder-exclude', 'hint', err.folderExclude)}
            />
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>Reports</legend>
        <div className="two-columns">
          <Field
            id="notification-emails"
            label="Notification e-mails"
            hint="One address per line: they get a report when the batch is synced, completed or failed."
            error={err.notificationEmails}
          >
            <textarea
              id="notification-emails"
              rows={3}
              value={form.notificationEmails}
              onChange={(event) => set('notificationEmails', event.target.value)}
              aria-invalid={err.notificationEmails ? true : undefined}
              aria-describedby={describedBy('notification-emails', 'hint', err.notificationEmails)}
            />
          </Field>
          <Field
            id="report-interval"
            label="Report interval"
            hint="A summary while the batch syncs, e.g. 24h or 7d."
            error={err.reportInterval}
          >
            <input
              id="report-interval"
              value={form.reportInterval}
              onChange={(event) => set('reportInterval', event.target.value)}
              aria-invalid={err.reportInterval ? true : undefined}
              aria-describedby={describedBy('report-interval', 'hint', err.reportInterval)}
            />
          </Field>
        </div>
        <div className="checkbox">
          <input
            id="skip-reports"
            type="checkbox"
            checked={form.skipReports}
            onChange={(event) => set('skipReports', event.target.checked)}
          />
          <label htmlFor="skip-reports">Send no reports (SkipReports)</label>
        </div>
      </fieldset>

      <fieldset>
        <legend>Calendars and contacts</legend>
        <p className="hint">
          Copied over CalDAV and CardDAV after the mail when both endpoints have those services. Leave out:
        </p>
        {SKIP_SETTINGS.map(([key, label]) => (
          <div className="checkbox" key={key}>
            <input
              id={`skip-${key}`}
              type="checkbox"
              checked={form[key]}
              onChange={(event) => set(key, event.target.checked)}
            />
            <label htmlFor={`skip-${key}`}>{label}</label>
          </div>
        ))}
      </fieldset>

      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : creating ? 'Create batch' : 'Save changes'}
        </button>
        <a className="button" href={routeHref(batchId ? { page: 'batches', batchId } : { page: 'batches' })}>
          Cancel
        </a>
      </div>
    </form>
  );
}

function focusFirstInvalid() {
  const target = document.querySelector<HTMLElement>('[aria-invalid="true"], .csv-errors');
  if (target) {
    if (!target.hasAttribute('tabindex') && !/INPUT|SELECT|TEXTAREA/.test(target.tagName)) target.tabIndex = -1;
    target.focus();
  }
}
