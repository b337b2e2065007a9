import { applyRefund } from '../src/ingest/index.js';
import type { ProgramConfig } from '../src/loyalty/index.js';
import type { Db } from '../src/store/index.js';

/** A small program for tests: 1 point per £1, 14-day return window, three tiers, four rewards. */
export function testProgramConfig(overrides: Partial<ProgramConfig> = {}): ProgramConfig {
  return {
    name: 'Test Rewards',
    currency: 'GBP',
    pointValueMinor: 1,
    autoEnrol: false,
    earning: { pointsPerUnit: 1, includeShipping: false, includeTax: false, returnWindowDays: 14 },
    actions: {
      signup: { points: 50 },
      birthday: { points: 100 },
      review: { points: 20, limits: { perPeriod: { count: 2, days: 30 } } },
      share: { points: 5, dailyCap: 2 },
      custom: { contest: { points: 30, limits: { perCustomer: 1, budget: 60 } } },
    },
    referral: { referrerPoints: 300, refereePoints: 150 },
    tiers: {
      basis: 'points_earned',
      windowDays: 365,
      graceDays: 30,
      levels: [
        { key: 'blue', name: 'Blue', threshold: 0, multiplier: 1, perks: [] },
        { key: 'gold', name: 'Gold', threshold: 500, multiplier: 1.5, perks: ['free shipping'] },
        { key: 'platinum', name: 'Platinum', threshold: 2000, multiplier: 2, perks: ['free shipping', 'early access'] },
      ],
    },
    rewards: [
      {
        key: 'five-off',
        name: '£5 off',
        type: 'fixed_amount',
        cost: 100,
        amountMinor: 500,
        minOrderMinor: 2000,
        validDays: 30,
      },
      { key: 'ten-percent', name: '10% off', type: 'percentage', cost: 250, percent: 10, validDays: 30 },
      { key: 'ship', name: 'Free shipping', type: 'free_shipping', cost: 60, validDays: 30 },
      { key: 'vip', name: 'Early access', type: 'early_access', cost: 10, validDays: 30, minTier: 'gold' },
    ],
    expiry: { mode: 'none' },
    dormantDays: 90,
    ...overrides,
  };
}

let counter = 0;

/** Inserts a customer and returns its id. */
export async function addCustomer(
  db: Db,
  fields: { email?: string; phone?: string; address?: string; at?: number } = {},
): Promise<number> {
  const at = fields.at ?? Date.UTC(2024, 0, 1);
  const row = await db
    .insertInto('customers')
    .values({
      source: 'test',
      email: fields.email ?? null,
      phone: fields.phone ?? null,
      first_name: null,
      last_name: null,
      birthday: null,
      country: null,
      city: null,
      address: fields.address ?? null,
      first_seen_at: at,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Inserts a paid order (subtotal only unless given) and returns its id. */
export async function addOrder(
  db: Db,
  input: {
    customerId: number;
    placedAt: number;
    subtotalMinor: number;
    shippingMinor?: number;
    taxMinor?: number;
    currency?: string;
    status?: 'paid' | 'pending' | 'cancelled';
    discountCodes?: string[];
  },
): Promise<number> {
  counter += 1;
  const shipping = input.shippingMinor ?? 0;
  const tax = input.taxMinor ?? 0;
  const row = await db
    .insertInto('orders')
    .values({
      source: 'test',
      external_id: `t-${process.pid}-${counter}-${Math.random().toString(36).slice(2)}`,
      customer_id: input.customerId,
      email: null,
      placed_at: input.placedAt,
      placed_offset: 0,
      placed_date: new Date(input.placedAt).toISOString().slice(0, 10),
      currency: input.currency ?? 'GBP',
      subtotal_minor: input.subtotalMinor,
      shipping_minor: shipping,
      tax_minor: tax,
      discount_minor: 0,
      total_minor: input.subtotalMinor + shipping + tax,
      refunded_minor: 0,
      status: input.status ?? 'paid',
      discount_codes: JSON.stringify(input.discountCodes ?? []),
      country: null,
      cancelled_at: null,
      imported_at: input.placedAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Inserts a product (only `sku` and `title` unless given; price in minor units of `currency`) and
 * returns its id.
 */
export async function addProduct(
  db: Db,
  input: { sku: string; title: string; category?: string; priceMinor?: number; currency?: string; at?: number },
): Promise<number> {
  const row = await db
    .insertInto('products')
    .values({
      sku: input.sku,
      title: input.title,
      category: input.category ?? null,
      price_minor: input.priceMinor ?? null,
      currency: input.currency ?? null,
      updated_at: input.at ?? Date.UTC(2024, 0, 1),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * Adds a product line (line `lineNo`, default 1; one unit at `priceMinor`) to an order, the product
 * created by `addProduct` unless `productId` names one; returns the product's id.
 */
export async function addProductLine(
  db: Db,
  input: {
    orderId: number;
    sku: string;
    title: string;
    priceMinor: number;
    lineNo?: number;
    productId?: number;
    category?: string;
  },
): Promise<number> {
  const productId =
    input.productId ?? (await addProduct(db, { sku: input.sku, title: input.title, category: input.category }));
  await db
    .insertInto('order_lines')
    .values({
      order_id: input.orderId,
      line_no: input.lineNo ?? 1,
      product_id: productId,
      sku: input.sku,
      title: input.title,
      quantity: 1,
      unit_price_minor: input.priceMinor,
      discount_minor: 0,
      total_minor: input.priceMinor,
      kind: 'product',
    })
    .execute();
  return productId;
}

/** Records a refund of an order as an importer would. */
export async function refundOrder(db: Db, orderId: number, amountMinor: number, at: number): Promise<void> {
  counter += 1;
  await db
    .insertInto('refunds')
    .values({
      source: 'test',
      external_id: `r-${process.pid}-${counter}-${Math.random().toString(36).slice(2)}`,
      order_id: orderId,
      customer_id: null,
      amount_minor: amountMinor,
      currency: 'GBP',
      refunded_at: at,
      reason: null,
    })
    .execute();
  await applyRefund(db, orderId, amountMinor);
}

/** Cancels an order. */
export async function cancelOrder(db: Db, orderId: number, at: number): Promise<void> {
  await db.updateTable('orders').set({ status: 'cancelled', cancelled_at: at }).where('id', '=', orderId).execute();
}
