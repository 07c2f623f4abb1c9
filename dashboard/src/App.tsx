import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError } from './api/api-error';
import { ApiClient } from './api/client';
import type { Me } from './api/types';
import { SessionContext, type Session } from './auth/session-context';
import { SignIn } from './auth/SignIn';
import { clearToken, loadToken, saveToken } from './auth/token-storage';
import { Loading } from './components/Loading';
import { ErrorMessage } from './components/ErrorMessage';
import { Screens } from './Screens';

type State =
  | { kind: 'checking'; token: string }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; token: string; me: Me }
  | { kind: 'error'; token: string; error: unknown };

/** Holds the session: restores the token from sessionStorage, checks it, and signs out on any 401. */
export function App() {
  const [state, setState] = useState<State>(() => {
    const token = loadToken();
    return token ? { kind: 'checking', token } : { kind: 'signed-out' };
  });

  const signOut = useCallback((notice?: string) => {
    clearToken();
    setState({ kind: 'signed-out', notice });
  }, []);

  const token = state.kind === 'signed-out' ? undefined : state.token;
  const api = useMemo(
    () =>
      token ? new ApiClient(token, () => signOut('Your session ended: the token is no longer accepted.')) : undefined,
    [token, signOut],
  );

  useEffect(() => {
    if (state.kind !== 'checking' || !api) return;
    let live = true;
    api.me().then(
      (me) => live && setState({ kind: 'signed-in', token: state.token, me }),
      (error) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 401) return;
        setState({ kind: 'error', token: state.token, error });
      },
    );
    return () => {
      live = false;
    };
  }, [state, api]);

  const session = useMemo<Session | null>(
    () =>
      state.kind === 'signed-in' && api
        ? { api, me: state.me, canMutate: state.me.role === 'admin', signOut: () => signOut() }
        : null,
    [state, api, signOut],
  );

  if (state.kind === 'signed-out') {
    return (
      <SignIn
        notice={state.notice}
        onSignedIn={(value, me) => {
          saveToken(value);
          setState({ kind: 'signed-in', token: value, me });
        }}
      />
    );
  }
  if (state.kind === 'checking') return <Loading what="your session" />;
  if (state.kind === 'error') {
    return (
      <main className="sign-in">
        <ErrorMessage
          error={state.error}
          title="Cannot check your session"
          onRetry={() => setState({ kind: 'checking', token: state.token })}
        />
        <button type="button" onClick={() => signOut()}>
          Sign in with another token
        </button>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Screens />
    </SessionContext.Provider>
  );
}
