import type { OrderLineKind, OrderStatus } from '../store/schema.js';
import type { Acquisition } from './acquisition.js';
import type { ProductInput } from './products.js';

/**
 * The normalised shapes every importer produces and the writer stores. Parsers turn a format's rows
 * into these; nothing here knows which format it came from except `source`.
 */

/** Who placed an order, as far as the source knows. */
export interface CustomerInput {
  /** The id in the source system (`CustomerID`, Shopify customer id); absent for guests. */
  externalId?: string;
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  birthday?: string;
  country?: string;
  city?: string;
  address?: string;
  /** The postal code as written. */
  postcode?: string;
  consents?: ConsentInput[];
}

export interface ConsentInput {
  channel: 'email' | 'sms';
  granted: boolean;
  at: number;
  source: string;
}

export interface LineInput {
  lineNo: number;
  sku?: string;
  title?: string;
  category?: string;
  quantity: number;
  unitPriceMinor: number;
  discountMinor: number;
  totalMinor: number;
  kind: OrderLineKind;
}

export interface OrderInput {
  externalId: string;
  /** Undefined for a guest order that names nobody (no customer id, no e-mail). */
  customer: CustomerInput | undefined;
  email?: string;
  placedAt: number;
  placedOffset: number;
  currency: string;
  subtotalMinor: number;
  shippingMinor: number;
  taxMinor: number;
  discountMinor: number;
  totalMinor: number;
  /**
   * The refunded amount when the format states it on the order (Shopify's `Refunded Amount`).
   * Undefined when refunds arrive as their own records, so that re-importing the order keeps them.
   */
  refundedMinor?: number;
  status: OrderStatus;
  discountCodes: string[];
  country?: string;
  cancelledAt?: number;
  /** Payment method, referring and landing site, channel, UTM parameters: where the export has them. */
  acquisition?: Acquisition;
  /** The order's name as the store shows it (Shopify's `#1001`), when it differs from `externalId`. */
  name?: string;
  lines: LineInput[];
}

/** A refund or cancellation that arrives as its own record. */
export interface RefundInput {
  externalId: string;
  /** The refunded order, when the record names it. */
  orderExternalId?: string;
  /**
   * When the record does not name its order (an Online Retail `C` invoice line), the cancelled
   * `quantity` of `sku` is allocated across the customer's orders placed at or before `before`: first
   * those that bought it at `unitPriceMinor`, latest first, then the others, latest first; never more
   * units of an order than it bought less those already refunded (a guest's cancellation matches
   * nothing, and is kept as such).
   */
  match?: {
    customer?: CustomerInput;
    sku: string;
    before: number;
    quantity: number;
    unitPriceMinor: number;
    /**
     * A manual credit that names no product (Online Retail's `M` lines): it takes units only of lines
     * at its unit price (a manual unit is an amount, not a product), and when the customer never bought
     * its sku at that price, it may refund their latest earlier order with exactly its amount left.
     */
    wholeOrder?: boolean;
  };
  customer?: CustomerInput;
  /** The product and units taken back, when the record says. */
  sku?: string;
  quantity?: number;
  amountMinor: number;
  currency: string;
  refundedAt: number;
  reason?: string;
}

/** One parsed record of an import, with the line of the file it started on. */
export type ImportRecord =
  | { kind: 'order'; line: number; order: OrderInput }
  | { kind: 'refund'; line: number; refund: RefundInput }
  | { kind: 'customer'; line: number; customer: CustomerInput }
  | { kind: 'product'; line: number; product: ProductInput };

/** Lower-cases and trims an e-mail address; undefined when it does not look like one. */
export function normaliseEmail(value: string | undefined): string | undefined {
  const email = value?.trim().toLowerCase();
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) return undefined;
  return email;
}

/** Keeps the digits of a phone number and a leading `+`; undefined when fewer than 6 digits remain. */
export function normalisePhone(value: string | undefined): string | undefined {
  const raw = value?.trim() ?? '';
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 6) return undefined;
  return raw.startsWith('+') || raw.startsWith("'+") ? `+${digits}` : digits;
}

/** Lower-cases and folds white space in a postal address, so two spellings of one address compare equal. */
export function normaliseAddress(parts: Array<string | undefined>): string | undefined {
  const text = parts
    .map((p) => p?.trim())
    .filter((p): p is string => Boolean(p))
    .join(', ')
    .toLowerCase()
    .replace(/\s+/g, ' ');
  return text === '' ? undefined : text;
}
