import type { OrderStatus } from '../store/schema.js';

/**
 * The one map from the order statuses shops write to ours, for every importer and webhook: Shopify's
 * `financial_status`, WooCommerce's `status` (without its `wc-` prefix) and the words a generic CSV
 * uses. New importers add their shop's words here (one line each) rather than keeping a map of their
 * own. Keys are lower case; a status not listed is refused by the caller (or read as pending where
 * the shop's format says so).
 */
export const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  // paid
  paid: 'paid',
  completed: 'paid',
  complete: 'paid',
  fulfilled: 'paid',
  processing: 'paid',
  // not paid yet
  pending: 'pending',
  authorized: 'pending',
  partially_paid: 'pending',
  'on-hold': 'pending',
  'checkout-draft': 'pending',
  // refunds
  refunded: 'refunded',
  partially_refunded: 'partially_refunded',
  'partially refunded': 'partially_refunded',
  'partially-refunded': 'partially_refunded',
  // never paid or called off
  cancelled: 'cancelled',
  canceled: 'cancelled',
  voided: 'cancelled',
  expired: 'cancelled',
  failed: 'cancelled',
};

/** The status a shop's word stands for (case and spaces ignored, a `wc-` prefix dropped), or undefined. */
export function orderStatus(text: string): OrderStatus | undefined {
  const key = text.trim().toLowerCase().replace(/^wc-/, '');
  return Object.hasOwn(ORDER_STATUS, key) ? ORDER_STATUS[key] : undefined;
}
