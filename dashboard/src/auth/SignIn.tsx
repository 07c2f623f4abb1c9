import { useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../api/api-error';
import { whoAmI } from '../api/client';
import type { Me } from '../api/types';

interface Props {
  onSignedIn(token: string, me: Me): void;
  notice?: string;
}

/** Sign-in with an API token (created with the CLI; the first start prints how to get the admin token). */
export function SignIn({ onSignedIn, notice }: Props) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter an API token.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const me = await whoAmI(value);
      onSignedIn(value, me);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That token was not accepted: it is unknown, mistyped or revoked.'
          : errorText(caught),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title" noValidate>
        <h1 id="sign-in-title">mailferry</h1>
        <p>Sign in to the migration dashboard with an API token.</p>
        {notice && (
          <p className="message message-info" role="status">
            {notice}
          </p>
        )}
        <div className="field">
          <label htmlFor="api-token">API token</label>
          <input
            id="api-token"
            name="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={token}
            onChange={(event) => setToken(event.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'api-token-error' : 'api-token-hint'}
            autoFocus
          />
          <small id="api-token-hint" className="hint">
            Kept in this browser tab only, until you sign out or close it.
          </small>
          {error && (
            <small id="api-token-error" className="field-error" role="alert">
              {error}
            </small>
          )}
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
