import type { Static } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../errors.js';
import type { OrderInput } from '../ingest/index.js';
import { phoneToE164 } from '../ingest/phone.js';
import { isIsoCurrency, MAX_AMOUNT_MINOR } from '../shared/currencies.js';
import { parseTimestamp } from '../shared/dates.js';
import { normaliseCurrency } from '../shared/money.js';

/** A non-negative amount in minor units, at most `MAX_AMOUNT_MINOR` (so 1e308 and 2^53 + 1 are refused). */
const Minor = (description: string) =>
  Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR, description: `${description}, in minor units (cents)` });
/** A line amount may be negative only on discount and adjustment lines (checked below). */
const SignedMinor = (description: string) =>
  Type.Integer({
    minimum: -MAX_AMOUNT_MINOR,
    maximum: MAX_AMOUNT_MINOR,
    description: `${description}, in minor units; negative only on discount and adjustment lines`,
  });

/** The body of `POST /orders`: amounts are integers in the currency's minor unit. */
export const OrderBody = Type.Object({
  externalId: Type.String({ minLength: 1, maxLength: 255, description: 'your order id; the idempotency key' }),
  name: Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'the order name people see, e.g. Shopify #1001' }),
  ),
  placedAt: Type.String({ description: 'ISO 8601 with offset, e.g. 2026-01-15T10:37:33-05:00' }),
  currency: Type.String({ pattern: '^[A-Za-z]{3}$', description: 'an active ISO 4217 code' }),
  status: Type.Union(
    [
      Type.Literal('pending'),
      Type.Literal('paid'),
      Type.Literal('partially_refunded'),
      Type.Literal('refunded'),
      Type.Literal('cancelled'),
    ],
    { description: 'paid and partially_refunded orders count as sales' },
  ),
  totalMinor: Minor('what the customer paid'),
  subtotalMinor: Type.Optional(Minor('before shipping, tax and order discounts')),
  shippingMinor: Type.Optional(Minor('shipping')),
  taxMinor: Type.Optional(Minor('tax')),
  discountMinor: Type.Optional(Minor('discounts')),
  refundedMinor: Type.Optional(Minor('refunded so far')),
  discountCodes: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 50 })),
  email: Type.Optional(Type.String({ maxLength: 320 })),
  country: Type.Optional(Type.String({ maxLength: 100 })),
  cancelledAt: Type.Optional(Type.String()),
  customer: Type.Optional(
    Type.Object({
      externalId: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 255,
          description: "your customer id, looked up among the ids of the server's --user-id-source (default api)",
        }),
      ),
      email: Type.Optional(Type.String({ maxLength: 320 })),
      phone: Type.Optional(Type.String({ maxLength: 50 })),
      firstName: Type.Optional(Type.String({ maxLength: 200 })),
      lastName: Type.Optional(Type.String({ maxLength: 200 })),
      birthday: Type.Optional(Type.String({ pattern: '^(\\d{4}|-)-\\d{2}-\\d{2}$' })),
      country: Type.Optional(Type.String({ maxLength: 100 })),
      city: Type.Optional(Type.String({ maxLength: 200 })),
      acceptsEmailMarketing: Type.Optional(Type.Boolean()),
      acceptsSmsMarketing: Type.Optional(Type.Boolean()),
    }),
  ),
  lines: Type.Array(
    Type.Object({
      sku: Type.Optional(Type.String({ maxLength: 255 })),
      title: Type.Optional(Type.String({ maxLength: 500 })),
      category: Type.Optional(Type.String({ maxLength: 255 })),
      quantity: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
      unitPriceMinor: SignedMinor('price of one unit'),
      discountMinor: Type.Optional(Minor('line discount')),
      totalMinor: Type.Optional(SignedMinor('line total; default quantity × unit price − discount')),
      kind: Type.Optional(
        Type.Union([
          Type.Literal('product'),
          Type.Literal('shipping'),
          Type.Literal('fee'),
          Type.Literal('discount'),
          Type.Literal('adjustment'),
        ]),
      ),
    }),
    { maxItems: 1000 },
  ),
});

export type OrderBodyType = Static<typeof OrderBody>;

/**
 * Turns a validated order body into the importers' `OrderInput`, checking what a schema cannot: a real
 * ISO 4217 currency, refunds within the total, line totals within bounds and non-negative except on
 * discount and adjustment lines. Throws `bad_input` naming the field.
 */
export function orderBodyToInput(body: OrderBodyType): OrderInput {
  const bad = (field: string, message: string) => new ComebackError('bad_input', message, { location: { field } });
  const code = normaliseCurrency(body.currency);
  if (!code || !isIsoCurrency(code))
    throw bad('currency', `"${body.currency}" is not an active ISO 4217 currency code`);
  if ((body.refundedMinor ?? 0) > body.totalMinor) {
    throw bad('refundedMinor', `${body.refundedMinor} is more than the order's total ${body.totalMinor}`);
  }
  body.lines.forEach((line, i) => {
    const total = lineTotal(line);
    const signed = line.kind === 'discount' || line.kind === 'adjustment';
    if (!signed && line.unitPriceMinor < 0) throw bad(`lines[${i}].unitPriceMinor`, 'is negative on a product line');
    if (!Number.isSafeInteger(total) || Math.abs(total) > MAX_AMOUNT_MINOR) {
      throw bad(`lines[${i}].totalMinor`, `the line total is beyond ${MAX_AMOUNT_MINOR} minor units`);
    }
    if (!signed && total < 0) throw bad(`lines[${i}].totalMinor`, 'is negative on a product line');
  });
  const placed = parseTimestamp(body.placedAt);
  if (!placed) throw bad('placedAt', `"${body.placedAt}" is not an ISO 8601 timestamp`);
  const cancelled = body.cancelledAt === undefined ? undefined : parseTimestamp(body.cancelledAt);
  if (body.cancelledAt !== undefined && !cancelled)
    throw bad('cancelledAt', `"${body.cancelledAt}" is not an ISO 8601 timestamp`);
  const currency = code;
  const c = body.customer;
  const consents = c
    ? (
        [
          ['email', c.acceptsEmailMarketing],
          ['sms', c.acceptsSmsMarketing],
        ] as const
      ).flatMap(([channel, granted]) =>
        granted === undefined ? [] : [{ channel, granted, at: placed.epochMs, source: 'api' }],
      )
    : [];
  return {
    externalId: body.externalId,
    name: body.name,
    customer: c
      ? {
          externalId: c.externalId,
          email: c.email ?? body.email,
          phone: phoneToE164(c.phone, c.country),
          firstName: c.firstName,
          lastName: c.lastName,
          birthday: c.birthday,
          country: c.country,
          city: c.city,
          consents,
        }
      : body.email
        ? { email: body.email }
        : undefined,
    email: body.email ?? c?.email,
    placedAt: placed.epochMs,
    placedOffset: placed.offsetMinutes,
    currency,
    subtotalMinor: body.subtotalMinor ?? body.lines.reduce((sum, l) => sum + lineTotal(l), 0),
    shippingMinor: body.shippingMinor ?? 0,
    taxMinor: body.taxMinor ?? 0,
    discountMinor: body.discountMinor ?? 0,
    totalMinor: body.totalMinor,
    refundedMinor: body.refundedMinor ?? 0,
    status: body.status,
    discountCodes: body.discountCodes ?? [],
    country: body.country,
    cancelledAt: cancelled?.epochMs,
    lines: body.lines.map((line, i) => ({
      lineNo: i + 1,
      sku: line.sku,
      title: line.title,
      category: line.category,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      discountMinor: line.discountMinor ?? 0,
      totalMinor: lineTotal(line),
      kind: line.kind ?? 'product',
    })),
  };
}

function lineTotal(line: { quantity: number; unitPriceMinor: number; discountMinor?: number; totalMinor?: number }) {
  return line.totalMinor ?? line.quantity * line.unitPriceMinor - (line.discountMinor ?? 0);
}
