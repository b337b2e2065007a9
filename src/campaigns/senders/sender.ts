/**
 * A channel adapter: hands one rendered message to a provider. It returns what happened and throws
 * only for bugs: `sent` with the provider's id, `retry` for what may pass later (network errors,
 * time-outs, 429, 5xx, SMTP 4xx), `failed` for what never will (SMTP 5xx, 4xx answers); `permanent`
 * on a failure says the address itself is bad (a hard bounce), so it is suppressed.
 */
export type SendOutcome =
  | { type: 'sent'; providerId: string | null }
  | { type: 'retry'; reason: string; afterMs?: number }
  | { type: 'failed'; reason: string; permanent: boolean };

/** One message as the outbox holds it. */
export interface OutgoingMessage {
  /** The outbox row's stable `Message-ID`, also the idempotency key for providers that take one. */
  messageId: string;
  channel: string;
  to: string;
  /** The rendered payload stored at enqueue. */
  payload: Record<string, unknown>;
}

/** The smallest interface a channel needs. */
export interface Sender {
  send(message: OutgoingMessage): Promise<SendOutcome>;
  close?(): Promise<void> | void;
}

/**
 * Back-off before retry `attempt` (1 = the first retry): exponential from `baseMs`, capped at `capMs`,
 * with "equal jitter" (half fixed, half random; AWS Architecture Blog, "Exponential Backoff and
 * Jitter", 2015). `random` is a number in [0, 1) supplied by the caller, so the function is pure.
 */
export function backoffMs(attempt: number, random: number, baseMs = 30_000, capMs = 3_600_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Classifies an HTTP answer from a provider. */
export function httpOutcome(status: number, retryAfter: string | null, body: string): SendOutcome | undefined {
  if (status >= 200 && status < 300) return undefined;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  if (status === 429 || status >= 500 || status === 408) {
    return { type: 'retry', reason: `HTTP ${status}`, ...(seconds !== undefined ? { afterMs: seconds } : {}) };
  }
  return { type: 'failed', reason: `HTTP ${status}: ${body.slice(0, 200)}`, permanent: false };
}
