import { useState, type ReactNode } from 'react';
import { Modal } from './Modal';

interface Props {
  /** The heading's id, which names the dialog. */
  titleId: string;
  title: string;
  submitLabel: string;
  /**
   * Sends the form: resolves to the words of a problem (the API's refusal, a field to correct), shown in the
   * dialog so the admin can change the form and try again, or to undefined, which closes the dialog.
   */
  onSubmit(): Promise<string | undefined>;
  onClose(): void;
  children: ReactNode;
}

/** A modal form (on {@link Modal}): a heading, the fields, the problem of the last try, and Cancel / submit. */
export function FormDialog({ titleId, title, submitLabel, onSubmit, onClose, children }: Props) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();

  async function submit() {
    setBusy(true);
    setProblem(undefined);
    const found = await onSubmit();
    setBusy(false);
    if (found) setProblem(found);
    else onClose();
  }

  return (
    <Modal labelledBy={titleId} onClose={onClose}>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy) void submit();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
        {problem && (
          <div className="message message-error" role="alert">
            {problem}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Sending…' : submitLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
