import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ComebackError } from '../errors.js';

/** The header a storefront sends its signed-in customer in: `<store customer id>.<hex HMAC>`. */
export const MEMBER_HEADER = 'x-comeback-member';

/**
 * The signature a store puts beside its signed-in customer's id: hex HMAC-SHA256 of the id (the
 * store's own customer id, the Segment `userId`) under the publishable key's member secret. Shopify's
 * Liquid computes the same with `{{ customer.id | hmac_sha256: secret }}`.
 */
export function memberSignature(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
}

/**
 * The signed-in member a storefront request names: the user id of a valid `x-comeback-member` header,
 * undefined without the header. A header that does not verify (forged, another key's secret, malformed)
 * is refused (401), so a visitor cannot become another customer by changing the id.
 */
export function memberOf(request: FastifyRequest): string | undefined {
  const header = request.headers[MEMBER_HEADER];
  if (header === undefined) return undefined;
  const principal = request.principal;
  const secret = principal?.kind === 'key' ? principal.memberSecret : null;
  const text = Array.isArray(header) ? header[0] : header;
  const dot = text?.lastIndexOf('.') ?? -1;
  const userId = dot > 0 ? text!.slice(0, dot) : '';
  const signature = dot > 0 ? text!.slice(dot + 1).toLowerCase() : '';
  if (!secret) {
    throw new ComebackError('unauthorized', `${MEMBER_HEADER}: only a publishable key's member secret signs members`, {
      location: { field: MEMBER_HEADER },
    });
  }
  const expected = Buffer.from(memberSignature(secret, userId), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (userId === '' || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ComebackError('unauthorized', `${MEMBER_HEADER}: the signature does not match the customer id`, {
      location: { field: MEMBER_HEADER },
    });
  }
  return userId;
}
