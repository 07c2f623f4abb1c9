import { useState } from 'react';
import type { MailboxOverrides, MailboxRow } from '../api/types';
import { useSession } from '../auth/session-context';
import { ErrorMessage } from '../components/ErrorMessage';
import { describedBy, Field } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { Loading } from '../components/Loading';
import { timeZoneName } from '../format';
import { usePolling } from '../hooks/use-polling';
import {
  setBody,
  setFormFrom,
  SET_FIELDS,
  type SendMailboxAction,
  type SetField,
  type SetForm,
} from './mailbox-actions';

interface Props {
  mailbox: MailboxRow;
  onSend: SendMailboxAction;
  onClose(): void;
}

const INPUTS: Record<
  SetField,
  { label: string; type: 'datetime-local' | 'number' | 'text' | 'yes-no'; hint?: string }
> = {
  startAfter: { label: 'Start after', type: 'datetime-local' },
  badItemLimit: { label: 'Bad item limit', type: 'number' },
  largeItemLimit: { label: 'Large item limit', type: 'number' },
  folderInclude: { label: 'Include folders', type: 'text', hint: 'Comma-separated, e.g. INBOX, Projects/2026' },
  folderExclude: { label: 'Exclude folders', type: 'text', hint: 'Comma-separated, e.g. Trash, Junk' },
  skipCalendar: { label: 'Calendars', type: 'yes-no' },
  skipTasks: { label: 'Tasks', type: 'yes-no' },
  skipContacts: { label: 'Contacts', type: 'yes-no' },
};

/**
 * Set…: the mailbox's own settings, which win over its batch's. Each starts as the mailbox's current override
 * (fetched, since the report row does not carry them) or the batch's value; only what changed is sent.
 */
export function SetMailboxDialog({ mailbox, onSend, onClose }: Props) {
  const { api } = useSession();
  const user = usePolling(() => api.migrationUser(mailbox.id), [api, mailbox.id], { intervalMs: 0 });
  const title = `Settings of ${mailbox.emailAddress}`;
  if (!user.data) {
    return (
      <FormDialog
        titleId="set-title"
        title={title}
        submitLabel="Save"
        onClose={onClose}
        onSubmit={async () => 'The current settings are not loaded yet.'}
      >
        <ErrorMessage error={user.error} title="Settings" onRetry={() => void user.reload()} />
        {user.loading && <Loading what="the mailbox’s settings" />}
      </FormDialog>
    );
  }
  return <SetForms title={title} mailbox={mailbox} overrides={user.data.overrides} onSend={onSend} onClose={onClose} />;
}

function SetForms({
  title,
  mailbox,
  overrides,
  onSend,
  onClose,
}: Props & { title: string; overrides: MailboxOverrides }) {
  const [initial] = useState(() => setFormFrom(overrides));
  const [form, setForm] = useState<SetForm>(initial);
  const [errors, setErrors] = useState<Partial<Record<SetField, string>>>({});
  const change = (field: SetField, patch: Partial<SetForm[SetField]>) =>
    setForm((f) => ({ ...f, [field]: { ...f[field], ...patch } }));

  async function submit(): Promise<string | undefined> {
    const result = setBody(initial, form);
    setErrors(result.errors);
    if (Object.keys(result.errors).length > 0) return 'Correct the marked settings.';
    if (Object.keys(result.body).length === 0) return 'Nothing changed.';
    return onSend({ command: 'set', body: result.body }, `Settings of ${mailbox.emailAddress} saved.`);
  }

  return (
    <FormDialog titleId="set-title" title={title} submitLabel="Save" onClose={onClose} onSubmit={submit}>
      <p className="muted small">
        These win over the batch’s settings for this mailbox only. Times are in your time zone, {timeZoneName()}.
      </p>
      {SET_FIELDS.map((field) => {
        const id = `set-${field}`;
        const { label, type, hint } = INPUTS[field];
        const error = errors[field];
        return (
          <Field key={field} id={id} label={label} hint={hint} error={error}>
            {type === 'yes-no' ? (
              <select
                id={id}
                disabled={form[field].useBatch}
                value={form[field].value}
                aria-invalid={error ? true : undefined}
                aria-describedby={describedBy(id, hint, error)}
                onChange={(event) => change(field, { value: event.target.value })}
              >
                <option value="no">Copy</option>
                <option value="yes">Leave out</option>
              </select>
            ) : (
              <input
                id={id}
                type={type}
                min={type === 'number' ? 0 : undefined}
                step={type === 'number' ? 1 : undefined}
                disabled={form[field].useBatch}
                value={form[field].value}
                aria-invalid={error ? true : undefined}
                aria-describedby={describedBy(id, hint, error)}
                onChange={(event) => change(field, { value: event.target.value })}
              />
            )}
            <div className="checkbox">
              <input
                id={`${id}-batch`}
                type="checkbox"
                checked={form[field].useBatch}
                onChange={(event) => change(field, { useBatch: event.target.checked })}
              />
              <label htmlFor={`${id}-batch`}>
                The batch’s value<span className="visually-hidden"> for {label.toLowerCase()}</span>
              </label>
            </div>
          </Field>
        );
      })}
    </FormDialog>
  );
}
