import { useCallback, useEffect, useState } from 'react';

const KEY_STORAGE = 'comeback.apiKey';

/** An HTTP error from the API, with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API key pasted at sign-in, kept for this tab only. */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Remembers (or forgets, with null) the API key of this tab. */
export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** The headers that authenticate a request made with a pasted key (a session needs none: it is a cookie). */
export function authHeaders(init?: HeadersInit): Headers {
  const headers = new Headers(init);
  const key = storedKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  return headers;
}

/** Calls the API with the session cookie, or the stored key as a bearer token. */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = authHeaders(init.headers);
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
