/** A refused API call, with the field the server named (when it named one). */
export interface Refusal {
  status: number;
  message: string;
  field: string | null;
}

/** An API answer as the composer pages read it: the data, or the refusal with its field. */
export type Answer<T> = { ok: true; data: T } | { ok: false; refusal: Refusal };

/**
 * Calls `/api/v1{path}` with the session cookie, JSON in and out; a 4xx or 5xx answer is returned as a
 * refusal carrying `error.message` and `error.field`, so that a form can show it next to the input.
 */
export async function callApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<Answer<T>> {
  const headers = new Headers();
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const response = await fetch(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.ok) return { ok: true, data: body as T };
  const error =
    typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error
      ? (body.error as { message?: unknown; field?: unknown })
      : {};
  return {
    ok: false,
    refusal: {
      status: response.status,
      message: typeof error.message === 'string' ? error.message : response.statusText,
      field: typeof error.field === 'string' ? error.field : null,
    },
  };
}
