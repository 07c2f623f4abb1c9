import { errorText } from '../api/api-error';

interface Props {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}

export function ErrorMessage({ error, title, onRetry }: Props) {
  if (!error) return null;
  return (
    <div className="message message-error" role="alert">
      {title && <strong>{title}: </strong>}
      {errorText(error)}
      {onRetry && (
        <button type="button" className="link-button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
