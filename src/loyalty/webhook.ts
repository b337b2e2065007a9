import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Redemption } from './redemption.queries.js';

/** The header that carries the signature of a webhook body. */
export const SIGNATURE_HEADER = 'X-Comeback-Signature';

/** The smallest interface a delivery needs: POST a body with headers, say what came back. */
export interface Sender {
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number }>;
}

/** A `Sender` over the global `fetch`, with a time limit per delivery. */
export function fetchSender({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Sender {
  return {
    async post(url, body, headers) {
      const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      return { status: response.status };
    },
  };
}

/** `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks a signature header in constant time; what a store's receiver does. */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The body and headers that tell a store to create the discount a redemption issued. */
export function redemptionWebhook(
  redemption: Redemption,
  { secret, now }: { secret: string; now: number },
): { body: string; headers: Record<string, string> } {
  const { reward } = redemption;
  const body = JSON.stringify({
    type: 'loyalty.redemption.created',
    sentAt: new Date(now).toISOString(),
    data: {
      code: redemption.code,
      customerId: redemption.customerId,
      reward: {
        key: reward.key,
        name: reward.name,
        type: reward.type,
        amountMinor: reward.amountMinor ?? null,
        percent: reward.percent ?? null,
        sku: reward.sku ?? null,
      },
      currency: redemption.currency,
      minOrderMinor: redemption.minOrderMinor,
      singleUse: true,
      issuedAt: new Date(redemption.issuedAt).toISOString(),
      expiresAt: new Date(redemption.expiresAt).toISOString(),
    },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: signBody(body, secret),
      'X-Comeback-Event': 'loyalty.redemption.created',
    },
  };
}

/** Delivers the redemption webhook; a non-2xx answer is reported, not thrown, so a caller can retry. */
export async function sendRedemptionWebhook(
  sender: Sender,
  url: string,
  redemption: Redemption,
  options: { secret: string; now: number },
): Promise<{ ok: boolean; status: number }> {
  const { body, headers } = redemptionWebhook(redemption, options);
  const { status } = await sender.post(url, body, headers);
  return { ok: status >= 200 && status < 300, status };
}
