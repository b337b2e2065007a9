import { useCallback, useEffect, useState } from 'react';

/** An HTTP error from the API, with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Forgets an API key an older dashboard kept in this tab: a key is now traded for a session cookie. */
export function forgetStoredKey(): void {
  sessionStorage.removeItem('comeback.apiKey');
}

/** Calls the API with the session cookie (HttpOnly: the page never holds a credential). */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body) headers.set('content-type', 'application/json');
  const response = await fetch(`/api/v1${path}`, { ...init, headers, credentials: 'same-origin' });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message =
      typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error
        ? String((body.error as { message?: unknown }).message ?? response.statusText)
        : response.statusText;
    throw new ApiError(response.status, message);
  }
  return body as T;
}

/** The state of one request: loading, failed or its data. */
export type Loaded<T> = { status: 'loading' } | { status: 'error'; error: Error } | { status: 'ok'; data: T };

/** Fetches `path` whenever it changes; `reload` fetches again. */
export function useApi<T>(path: string | null): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `attempt` is what re-runs the fetch.
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState({ status: 'loading' });
    apiFetch<T>(path).then(
      (data) => live && setState({ status: 'ok', data }),
      (error: unknown) =>
        live && setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, [path, attempt]);
  return [state, useCallback(() => setAttempt((n) => n + 1), [])];
}

/** Runs `load` whenever `key` changes (for pages that combine several requests); `reload` runs it again. */
export function useLoad<T>(key: string, load: () => Promise<T>): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names what `load` fetches; `attempt` re-runs it.
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    load().then(
      (data) => live && setState({ status: 'ok', data }),
      (error: unknown) =>
        live && setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, [key, attempt]);
  return [state, useCallback(() => setAttempt((n) => n + 1), [])];
}
