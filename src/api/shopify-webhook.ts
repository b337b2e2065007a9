import { createHmac, timingSafeEqual } from 'node:crypto';
import { ComebackError } from '../errors.js';
import type { CustomerInput, OrderInput, RefundInput } from '../ingest/index.js';
import { normaliseEmail, orderStatus, phoneToE164 } from '../ingest/index.js';
import { isIsoCurrency, MAX_AMOUNT_MINOR } from '../shared/currencies.js';
import { parseTimestamp } from '../shared/dates.js';
import { normaliseCurrency, parseAmount } from '../shared/money.js';
import type { OrderStatus } from '../store/index.js';

const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * `JSON.parse`, except that integers beyond 2^53 (Shopify's ids, e.g. 820982911946154508) come back as
 * their exact decimal strings instead of the nearest double. Strings are matched whole before numbers,
 * so a digit run inside a string is never touched; the result is then checked by `JSON.parse` itself.
 */
export function parseJsonKeepingBigIntegers(text: string): unknown {
  const safe = text.replace(JSON_TOKEN, (token) =>
    token.startsWith('"') || !/^-?\d+$/.test(token) || Number.isSafeInteger(Number(token)) ? token : `"${token}"`,
  );
  return JSON.parse(safe);
}

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
  if (minor === undefined || Math.abs(minor) > MAX_AMOUNT_MINOR) {
    throw bad(field, `"${raw}" is not an amount of at most ${MAX_AMOUNT_MINOR} minor units`);
  }
  return minor;
}

/** Like `money`, refusing a negative amount (an order total, a refund). */
function nonNegative(value: unknown, field: string, currency: string, fallback?: number): number {
  const minor = money(value, field, currency, fallback);
  if (minor < 0) throw bad(field, `"${text(value)}" is negative`);
  return minor;
}

/** The shop-money amount of a Shopify `*_set` (`{ shop_money, presentment_money }`), else the plain field. */
function shopMoney(json: Json, name: string): unknown {
  return object(object(json[`${name}_set`])?.shop_money)?.amount ?? json[name];
}

function presentmentMoney(json: Json, name: string): unknown {
  return object(object(json[`${name}_set`])?.presentment_money)?.amount;
}

function currencyOf(value: unknown, field: string): string {
  const code = normaliseCurrency(text(value) ?? '');
  if (!code || !isIsoCurrency(code)) throw bad(field, `"${String(value ?? '')}" is not an ISO 4217 currency code`);
  return code;
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
    phone: phoneToE164(text(customer.phone) ?? text(address?.phone), text(address?.country_code)),
    firstName: text(customer.first_name),
    lastName: text(customer.last_name),
    city: text(address?.city),
    country: text(address?.country_code) ?? text(address?.country),
    consents,
  };
}

/** A Shopify order with what the webhook needs beyond the importers' `OrderInput`. */
export interface ShopifyOrder extends OrderInput {
  /** `"test": true`: an order of the Bogus gateway or a test mode, kept out of every figure. */
  test: boolean;
  /** Shopify's `updated_at`: which of two states of the order is the newer. */
  updatedAt: number | undefined;
  /** The customer's currency and the total in it, when it differs from the shop currency. */
  presentment: { currency: string; totalMinor: number } | undefined;
}

/**
 * A Shopify order (the `orders/create`, `orders/updated` and `orders/cancelled` payload) as an
 * `OrderInput`; the external id is the order id, as the CSV importer keys exports that have an `Id`
 * column. Amounts are the shop-money ones (`*_set.shop_money`, in `currency`, the shop's currency); the
 * presentment total is kept beside. `refundedMinor` is left to the caller, which knows what the store
 * has already counted.
 */
export function shopifyOrder(order: Json): ShopifyOrder {
  const externalId = text(order.id);
  if (!externalId) throw bad('id', 'the order has no id');
  const currency = currencyOf(
    object(object(order.total_price_set)?.shop_money)?.currency_code ?? order.currency,
    'currency',
  );
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
    customer.phone ??= phoneToE164(text(billing?.phone), text(billing?.country_code));
  } else if (email) {
    customer = { email };
  }
  let status: OrderStatus = orderStatus(text(order.financial_status) ?? '') ?? 'pending';
  if (cancelledAt !== undefined) status = 'cancelled';
  const shippingSet = object(object(order.total_shipping_price_set)?.shop_money);
  const shipping =
    shippingSet?.amount !== undefined
      ? nonNegative(shippingSet.amount, 'total_shipping_price_set', currency)
      : list(order.shipping_lines).reduce(
          (sum, l, i) => sum + nonNegative(shopMoney(l, 'price'), `shipping_lines[${i}].price`, currency, 0),
          0,
        );
  const presentmentCode = text(order.presentment_currency);
  const presentmentTotal = presentmentMoney(order, 'total_price');
  const presentment =
    presentmentCode !== undefined && presentmentTotal !== undefined && presentmentCode.toUpperCase() !== currency
      ? (() => {
          const code = currencyOf(presentmentCode, 'presentment_currency');
          return {
            currency: code,
            totalMinor: nonNegative(presentmentTotal, 'total_price_set.presentment_money', code),
          };
        })()
      : undefined;
  const updated = text(order.updated_at) ? instant(order.updated_at, 'updated_at').epochMs : undefined;
  return {
    test: order.test === true,
    updatedAt: updated,
    presentment,
    externalId,
    name: text(order.name),
    customer,
    email,
    placedAt: created.epochMs,
    placedOffset: created.offsetMinutes,
    currency,
    subtotalMinor: nonNegative(shopMoney(order, 'subtotal_price'), 'subtotal_price', currency, 0),
    shippingMinor: shipping,
    taxMinor: nonNegative(shopMoney(order, 'total_tax'), 'total_tax', currency, 0),
    discountMinor: nonNegative(shopMoney(order, 'total_discounts'), 'total_discounts', currency, 0),
    totalMinor: nonNegative(shopMoney(order, 'total_price'), 'total_price', currency),
    status,
    discountCodes: list(order.discount_codes)
      .map((d) => text(d.code))
      .filter((c): c is string => c !== undefined),
    country: text(billing?.country_code) ?? text(object(order.shipping_address)?.country_code),
    cancelledAt,
    lines: list(order.line_items).map((item, i) => {
      const quantity = Number(item.quantity ?? 0);
      if (!Number.isSafeInteger(quantity) || quantity < 0 || quantity > 1_000_000) {
        throw bad(`line_items[${i}].quantity`, 'is not a whole number from 0 to 1000000');
      }
      const price = nonNegative(shopMoney(item, 'price'), `line_items[${i}].price`, currency);
      const discount = nonNegative(shopMoney(item, 'total_discount'), `line_items[${i}].total_discount`, currency, 0);
      if (quantity * price - discount > MAX_AMOUNT_MINOR) {
        throw bad(`line_items[${i}].price`, `the line total exceeds ${MAX_AMOUNT_MINOR} minor units`);
      }
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

/** The order a refund belongs to, as far as the store knows it. */
export interface RefundOrderContext {
  currency: string;
  presentmentCurrency: string | null;
  totalMinor: number;
  presentmentTotalMinor: number | null;
}

/** A Shopify refund with what the webhook keeps beside the money that moved. */
export interface ShopifyRefund extends RefundInput {
  /** Every transaction of the refund is a test one (Bogus gateway): kept out of the figures. */
  test: boolean;
  /** The amount in the customer's currency, when the money moved in another currency than the shop's. */
  presentment: { currency: string; amountMinor: number } | undefined;
  /** What the refund lines (subtotal + tax, shop money) amount to; differs from `amountMinor` when no or other money moved. */
  linesMinor: number;
  /** True when `currency` is still the presentment currency (its order, with the rate, has not arrived). */
  unconverted: boolean;
}

/**
 * A Shopify refund (the `refunds/create` payload, or an entry of an order's `refunds`) as a refund.
 * Only refund transactions move money (Shopify: "the existence of a Refund object doesn't guarantee
 * that the money has been returned"): the amount is the sum of the successful `refund` transactions;
 * refund lines without transactions (a restock, money returned elsewhere) count 0 and are kept as
 * `linesMinor`. Transactions are in the presentment currency: when that differs from the shop's, the
 * shop amount is the lines' shop money when the presentment sums agree, else the order's own rate
 * (shop total ÷ presentment total), else (order not known yet) it stays unconverted until the order comes.
 */
export function shopifyRefund(refund: Json, order: RefundOrderContext | undefined, path = ''): ShopifyRefund {
  const field = (name: string) => `${path}${name}`;
  const externalId = text(refund.id);
  if (!externalId) throw bad(field('id'), 'the refund has no id');
  const orderExternalId = text(refund.order_id);
  const all = list(refund.transactions).filter((t) => text(t.kind) === 'refund');
  const transactions = all.filter((t) => (text(t.status) ?? 'success') === 'success');
  const items = list(refund.refund_line_items);
  const lineShopCurrency = text(object(object(items[0]?.subtotal_set)?.shop_money)?.currency_code);
  const shopCurrency =
    order?.currency ?? (lineShopCurrency ? currencyOf(lineShopCurrency, field('refund_line_items')) : undefined);
  const paidCurrency =
    transactions[0]?.currency !== undefined
      ? currencyOf(transactions[0].currency, field('transactions[0].currency'))
      : undefined;
  const currency = shopCurrency ?? paidCurrency;
  if (!currency) throw bad(field('transactions'), 'the refund names no currency and its order is not in the store');
  const linesMinor = items.reduce(
    (sum, item, i) =>
      sum +
      nonNegative(shopMoney(item, 'subtotal'), field(`refund_line_items[${i}].subtotal`), currency, 0) +
      nonNegative(shopMoney(item, 'total_tax'), field(`refund_line_items[${i}].total_tax`), currency, 0),
    0,
  );
  let amountMinor = 0;
  let presentment: ShopifyRefund['presentment'];
  let unconverted = false;
  if (transactions.length > 0) {
    const inShop = transactions.every((t) => object(object(t.amount_set)?.shop_money)?.amount !== undefined);
    if (inShop || paidCurrency === undefined || paidCurrency === currency) {
      amountMinor = transactions.reduce(
        (sum, t, i) => sum + nonNegative(shopMoney(t, 'amount'), field(`transactions[${i}].amount`), currency),
        0,
      );
    } else {
      const paid = transactions.reduce(
        (sum, t, i) => sum + nonNegative(t.amount, field(`transactions[${i}].amount`), paidCurrency),
        0,
      );
      presentment = { currency: paidCurrency, amountMinor: paid };
      const linesPresentment = items.reduce(
        (sum, item) =>
          sum +
          (parseAmount(text(presentmentMoney(item, 'subtotal')) ?? '0', paidCurrency) ?? 0) +
          (parseAmount(text(presentmentMoney(item, 'total_tax')) ?? '0', paidCurrency) ?? 0),
        0,
      );
      if (items.length > 0 && linesPresentment === paid && shopCurrency !== undefined) amountMinor = linesMinor;
      else if (order?.presentmentTotalMinor) {
        amountMinor = Math.round((paid * order.totalMinor) / order.presentmentTotalMinor);
      } else {
        amountMinor = paid;
        unconverted = true;
      }
    }
  }
  return {
    externalId,
    orderExternalId,
    amountMinor,
    currency: unconverted ? paidCurrency! : currency,
    refundedAt: instant(refund.processed_at ?? refund.created_at, field('created_at')).epochMs,
    reason: text(refund.note),
    test: all.length > 0 && all.every((t) => t.test === true),
    presentment,
    linesMinor,
    unconverted,
  };
}
