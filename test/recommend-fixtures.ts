import type { OrderInput } from '../src/ingest/index.js';
import { MS_PER_DAY } from '../src/shared/dates.js';

/**
 * A paid EUR order for the recommendation tests: one line per SKU at 10.00, placed at the start of day
 * `d` (days since the epoch, UTC), by the customer with that external id and `<id>@example.com`, or by a
 * guest when `customer` is undefined.
 */
export function euroOrder(externalId: string, customer: string | undefined, d: number, skus: string[]): OrderInput {
  return {
    externalId,
    customer: customer ? { externalId: customer, email: `${customer}@example.com` } : undefined,
    placedAt: d * MS_PER_DAY,
    placedOffset: 0,
    currency: 'EUR',
    subtotalMinor: 1000 * skus.length,
    shippingMinor: 0,
    taxMinor: 0,
    discountMinor: 0,
    totalMinor: 1000 * skus.length,
    status: 'paid',
    discountCodes: [],
    lines: skus.map((sku, i) => ({
      lineNo: i + 1,
      sku,
      title: sku,
      quantity: 1,
      unitPriceMinor: 1000,
      discountMinor: 0,
      totalMinor: 1000,
      kind: 'product' as const,
    })),
  };
}
