/** The API token lives in sessionStorage only: it ends with the browser tab and is never written anywhere else. */
const KEY = 'mailferry.apiToken';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
