/** What a command's outcome says: the words, and whether they report a failure. */
export interface Notice {
  text: string;
  error?: boolean;
}

interface Props {
  notice: Notice | undefined;
  onDismiss(): void;
}

/** Where a page announces the outcome of a command (a polite live region, so screen readers read it out). */
export function NoticeArea({ notice, onDismiss }: Props) {
  return (
    <div className="notice-area" aria-live="polite">
      {notice && (
        <p className={`message ${notice.error ? 'message-error' : 'message-info'}`}>
          {notice.text}
          <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss message">
            ×
          </button>
        </p>
      )}
    </div>
  );
}
