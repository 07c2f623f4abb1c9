import { useState } from 'react';
import type { MailboxRow } from '../api/types';
import { describedBy, Field } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import type { SendMailboxAction } from './mailbox-actions';

interface Props {
  mailbox: MailboxRow;
  /** Whether the status table lets the mailbox be resumed now (Failed, Stopped): then the form offers it. */
  canResume: boolean;
  onSend: SendMailboxAction;
  onClose(): void;
}

/**
 * Set password…: a new password for the mailbox's source (or destination) login, typically after AUTH_FAILED
 * ("credentials rejected; update the password"). It is sealed by the API and never shown again; a Failed or
 * Stopped mailbox can be resumed with it at once.
 */
export function SetPasswordDialog({ mailbox, canResume, onSend, onClose }: Props) {
  const [side, setSide] = useState<'source' | 'destination'>('source');
  const [password, setPassword] = useState('');
  const [resume, setResume] = useState(canResume);
  const [error, setError] = useState<string | undefined>();

  async function submit(): Promise<string | undefined> {
    if (password === '') {
      setError('Enter the new password.');
      return 'Correct the marked field.';
    }
    setError(undefined);
    const resumed = canResume && resume;
    return onSend(
      { command: 'set-password', body: { side, password, resume: resumed } },
      `New ${side} password of ${mailbox.emailAddress} saved${resumed ? '; the mailbox resumes' : ''}.`,
    );
  }

  return (
    <FormDialog
      titleId="password-title"
      title={`Password of ${mailbox.emailAddress}`}
      submitLabel="Save password"
      onClose={onClose}
      onSubmit={submit}
    >
      <fieldset>
        <legend>Login</legend>
        {(['source', 'destination'] as const).map((value) => (
          <div key={value} className="checkbox">
            <input
              id={`password-side-${value}`}
              type="radio"
              name="password-side"
              checked={side === value}
              onChange={() => setSide(value)}
            />
            <label htmlFor={`password-side-${value}`}>
              {value === 'source' ? 'Source server' : 'Destination server'}
            </label>
          </div>
        ))}
      </fieldset>
      <Field id="password-new" label="New password" hint="Stored sealed; it is never shown again." error={error}>
        <input
          id="password-new"
          type="password"
          autoComplete="new-password"
          value={password}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy('password-new', 'hint', error)}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      {canResume && (
        <div className="checkbox">
          <input
            id="password-resume"
            type="checkbox"
            checked={resume}
            onChange={(event) => setResume(event.target.checked)}
          />
          <label htmlFor="password-resume">Resume the mailbox now</label>
        </div>
      )}
    </FormDialog>
  );
}
