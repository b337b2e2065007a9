import { createHmac, timingSafeEqual } from 'node:crypto';
import { ComebackError } from '../errors.js';
import type { CustomerInput, OrderInput, RefundInput } from '../ingest/index.js';
import { normaliseEmail, normalisePhone, SHOPIFY_FINANCIAL_STATUS } from '../ingest/index.js';
import { parseTimestamp } from '../shared/dates.js';
import { normaliseCurrency, parseAmount } from '../shared/money.js';
import type { OrderStatus } from '../store/index.js';

/** Whether `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body under the app's secret. */
export function verifyShopifyHmac(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(header.trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(object).filter((v): v is Json => v !== undefined) : [];
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function bad(field: string, message: string): ComebackError {
  return new ComebackError('bad_input', message, { location: { field } });
}

function instant(value: unknown, field: string) {
  const raw = text(value);
  const parsed = raw ? parseTimestamp(raw) : undefined;
  if (!parsed) throw bad(field, `"${String(value)}" is not an ISO 8601 timestamp`);
  return parsed;
}

function money(value: unknown, field: string, currency: string, fallback?: number): number {
  const raw = text(value);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw bad(field, 'is missing');
  }
  const minor = parseAmount(raw, currency);
  if (minor === undefined) throw bad(field, `"${raw}" is not an amount`);
  return minor;
}

/** Shopify's consent object (`{ state: 'subscribed' | … }`) or the older `accepts_marketing` boolean. */
function consentOf(state: unknown, legacy: unknown): boolean | undefined {
  const s = text(object(state)?.state);
  if (s) return s === 'subscribed';
  return typeof legacy === 'boolean' ? legacy : undefined;
}

/** A Shopify customer object as the importers' `CustomerInput` (identity source `shopify`). */
export function shopifyCustomer(customer: Json, fallbackEmail: string | undefined, at: number): CustomerInput {
  const address = object(customer.default_address);
  const consents: CustomerInput['consents'] = [];
  const email = consentOf(customer.email_marketing_consent, customer.accepts_marketing);
  if (email !== undefined) consents.push({ channel: 'email', granted: email, at, source: 'shopify-webhook' });
  const sms = consentOf(customer.sms_marketing_consent, undefined);
  if (sms !== undefined) consents.push({ channel: 'sms', granted: sms, at, source: 'shopify-webhook' });
  return {
    externalId: text(customer.id),
    email: normaliseEmail(text(customer.email) ?? fallbackEmail),
    phone: normalisePhone(text(customer.phone) ?? text(address?.phone)),
    firstName: text(customer.first_name),
    lastName: text(customer.last_name),
    city: text(address?.city),
    country: text(address?.country_code) ?? text(address?.country),
    consents,
  };
}

/**
 * A Shopify order (the `orders/create` and `orders/updated` payload) as an `OrderInput`; the external
 * id is the order id, as the CSV importer keys exports that have an `Id` column. `refundedMinor` is
 * left to the caller, which knows what the store has already counted.
 */
export function shopifyOrder(order: Json): OrderInput {
  const externalId = text(order.id);
  if (!externalId) throw bad('id', 'the order has no id');
  const currency = normaliseCurrency(text(order.currency) ?? '');
  if (!currency) throw bad('currency', `"${String(order.currency)}" is not a currency code`);
  const created = instant(order.created_at, 'created_at');
  const cancelledAt = text(order.cancelled_at) ? instant(order.cancelled_at, 'cancelled_at').epochMs : undefined;
  const email = normaliseEmail(text(order.email) ?? text(order.contact_email));
  const customerJson = object(order.customer);
  const billing = object(order.billing_address);
  let customer: CustomerInput | undefined;
  if (customerJson) {
    customer = shopifyCustomer(customerJson, email, created.epochMs);
    customer.firstName ??= text(billing?.first_name);
    customer.lastName ??= text(billing?.last_name);
    customer.city ??= text(billing?.city);
    customer.country ??= text(billing?.country_code);
    customer.phone ??= normalisePhone(text(billing?.phone));
  } else if (email) {
    customer = { email };
  }
  let status: OrderStatus = SHOPIFY_FINANCIAL_STATUS[text(order.financial_status) ?? ''] ?? 'pending';
  if (cancelledAt !== undefined) status = 'cancelled';
  const shippingSet = object(object(order.total_shipping_price_set)?.shop_money);
  const shipping =
    shippingSet?.amount !== undefined
      ? money(shippingSet.amount, 'total_shipping_price_set', currency)
      : list(order.shipping_lines).reduce(
          (sum, l, i) => sum + money(l.price, `shipping_lines[${i}].price`, currency, 0),
          0,
        );
  return {
    externalId,
    customer,
    email,
    placedAt: created.epochMs,
    placedOffset: created.offsetMinutes,
    currency,
    subtotalMinor: money(order.subtotal_price, 'subtotal_price', currency, 0),
    shippingMinor: shipping,
    taxMinor: money(order.total_tax, 'total_tax', currency, 0),
    discountMinor: money(order.total_discounts, 'total_discounts', currency, 0),
    totalMinor: money(order.total_price, 'total_price', currency),
    status,
    discountCodes: list(order.discount_codes)
      .map((d) => text(d.code))
      .filter((c): c is string => c !== undefined),
    country: text(billing?.country_code) ?? text(object(order.shipping_address)?.country_code),
    cancelledAt,
    lines: list(order.line_items).map((item, i) => {
      const quantity = Number(item.quantity ?? 0);
      if (!Number.isInteger(quantity)) throw bad(`line_items[${i}].quantity`, 'is not a whole number');
      const price = money(item.price, `line_items[${i}].price`, currency);
      const discount = money(item.total_discount, `line_items[${i}].total_discount`, currency, 0);
      return {
        lineNo: i + 1,
        sku: text(item.sku),
        title: text(item.title) ?? text(item.name),
        category: text(item.vendor),
        quantity,
        unitPriceMinor: price,
        discountMinor: discount,
        totalMinor: quantity * price - discount,
        kind: 'product' as const,
      };
    }),
  };
}

/**
 * A Shopify refund (the `refunds/create` payload, or an entry of an order's `refunds`) as a
 * `RefundInput`. The amount is the money that went back: the successful `refund` transactions; a
 * refund without transactions (recorded but paid back elsewhere) counts its line items' subtotal and tax.
 */
export function shopifyRefund(refund: Json, orderCurrency: string | undefined, path = ''): RefundInput {
  const field = (name: string) => `${path}${name}`;
  const externalId = text(refund.id);
  if (!externalId) throw bad(field('id'), 'the refund has no id');
  const orderExternalId = text(refund.order_id);
  const transactions = list(refund.transactions).filter(
    (t) => text(t.kind) === 'refund' && (text(t.status) ?? 'success') === 'success',
  );
  const items = list(refund.refund_line_items);
  const currency = normaliseCurrency(
    text(transactions[0]?.currency) ??
      text(object(object(items[0]?.subtotal_set)?.shop_money)?.currency_code) ??
      orderCurrency ??
      '',
  );
  if (!currency) throw bad(field('transactions'), 'the refund names no currency and its order is not in the store');
  const amountMinor =
    transactions.length > 0
      ? transactions.reduce((sum, t, i) => sum + money(t.amount, field(`transactions[${i}].amount`), currency), 0)
      : items.reduce(
          (sum, item, i) =>
            sum +
            money(item.subtotal, field(`refund_line_items[${i}].subtotal`), currency, 0) +
            money(item.total_tax, field(`refund_line_items[${i}].total_tax`), currency, 0),
          0,
        );
  return {
    externalId,
    orderExternalId,
    amountMinor,
    currency,
    refundedAt: instant(refund.processed_at ?? refund.created_at, field('created_at')).epochMs,
    reason: text(refund.note),
  };
}
