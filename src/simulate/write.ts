import type { Writable } from 'node:stream';
import { batchTransaction, type EventInput, ImportWriter, type OrderInput } from '../ingest/index.js';
import { toCsv } from '../shared/csv.js';
import { currencyExponent } from '../shared/money.js';
import { type Db, pgSession } from '../store/index.js';
import { storeSimulatedEvents } from './events.queries.js';
import { type SimulatedCustomer, type SimulationOptions, simulateStore } from './store.js';

/** The customer-id source of simulated customers; events name them by `userId` under it. */
export const SIMULATE_SOURCE = 'simulate';

export interface SimulationStats {
  customers: number;
  orders: number;
  lines: number;
  events: number;
  refunded: number;
}

export interface WriteSimulationOptions extends SimulationOptions {
  /** The moment of the write (recorded on new rows); the caller reads the clock. */
  now: number;
  /** Customers per transaction (default 500). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

function emptyStats(): SimulationStats {
  return { customers: 0, orders: 0, lines: 0, events: 0, refunded: 0 };
}

function count(stats: SimulationStats, customer: SimulatedCustomer): void {
  stats.customers += 1;
  stats.orders += customer.orders.length;
  for (const order of customer.orders) {
    stats.lines += order.lines.length;
    if (order.refundedMinor > 0) stats.refunded += 1;
  }
  stats.events += customer.events.length;
}

/** A simulated customer's orders in the shape every importer produces (the writer's input). */
export function simulatedOrders(customer: SimulatedCustomer, currency: string): OrderInput[] {
  return customer.orders.map((order) => ({
    externalId: order.externalId,
    customer: {
      externalId: customer.externalId,
      email: customer.email,
      firstName: customer.firstName,
      lastName: customer.lastName,
      country: customer.country,
      consents: [
        { channel: 'email', granted: customer.acceptsMarketing, at: customer.arrivedAt, source: SIMULATE_SOURCE },
      ],
    },
    email: customer.email,
    placedAt: order.placedAt,
    placedOffset: 0,
    currency,
    subtotalMinor: order.totalMinor,
    shippingMinor: 0,
    taxMinor: 0,
    discountMinor: 0,
    totalMinor: order.totalMinor,
    refundedMinor: order.refundedMinor,
    status: order.status,
    discountCodes: [],
    country: customer.country,
    lines: order.lines.map((line, i) => ({
      lineNo: i + 1,
      sku: line.sku,
      title: line.title,
      category: line.category,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      discountMinor: 0,
      totalMinor: line.quantity * line.unitPriceMinor,
      kind: 'product',
    })),
  }));
}

/** A simulated customer's browsing as Segment calls, tied to the customer by `userId`. */
export function simulatedEvents(customer: SimulatedCustomer): EventInput[] {
  return customer.events.map((e) => ({
    type: e.type,
    messageId: e.messageId,
    userId: customer.externalId,
    ...(e.type === 'track' ? { event: e.name } : { name: e.name }),
    properties: e.sku ? { sku: e.sku } : {},
    timestamp: new Date(e.at).toISOString(),
  }));
}

/**
 * Writes a simulated store straight into the database through the importers' own write path
 * (`ImportWriter`), `batchSize` customers per transaction (orders, lines and events of a batch commit
 * together); one batch is in memory at a time. On PostgreSQL orders, lines and events go by `COPY` into
 * staging tables and set-based upserts on one session of the pool (as `importFile` does); on SQLite by
 * prepared (multi-row) inserts. Events are the rows `recordEvents` would store for `simulatedEvents`
 * (see `storeSimulatedEvents`). Idempotent like an import: orders are keyed (simulate, external id),
 * events by message id, so running the same seed again changes nothing.
 */
export async function writeSimulation(db: Db, options: WriteSimulationOptions): Promise<SimulationStats> {
  const stats = emptyStats();
  // COPY needs the raw client of the session the transactions run on; inside a caller's transaction, none.
  const session = db.isTransaction ? undefined : await pgSession(db);
  const writeDb = session?.db ?? db;
  const batchSize = options.batchSize ?? (session ? 2000 : 500);
  let batch: SimulatedCustomer[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const customers = batch;
    batch = [];
    await batchTransaction(writeDb, async (trx) => {
      // A writer per batch: its caches hold this batch's customers and products only.
      const writer = new ImportWriter(trx, SIMULATE_SOURCE, options.now).resolveInBatches(true);
      writer.copyThrough(session?.client);
      await writer.writeOrders(customers.flatMap((c) => simulatedOrders(c, options.currency)));
      await writer.finish();
      await storeSimulatedEvents(trx, customers, {
        source: SIMULATE_SOURCE,
        now: options.now,
        copy: session?.client,
      });
    });
    options.onProgress?.(stats.customers, options.customers);
  };
  try {
    for (const customer of simulateStore(options)) {
      count(stats, customer);
      batch.push(customer);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } finally {
    session?.release();
  }
  return stats;
}

/** The columns of Shopify's orders export that `comeback import --format shopify` reads. */
export const SHOPIFY_COLUMNS = [
  'Name',
  'Email',
  'Financial Status',
  'Accepts Marketing',
  'Currency',
  'Subtotal',
  'Shipping',
  'Taxes',
  'Total',
  'Discount Code',
  'Discount Amount',
  'Created at',
  'Lineitem quantity',
  'Lineitem name',
  'Lineitem price',
  'Lineitem sku',
  'Lineitem discount',
  'Billing Name',
  'Billing Country',
  'Refunded Amount',
  'Vendor',
  'Id',
] as const;

/**
 * Writes a simulated store as a Shopify orders export (one row per line item, the order's fields on
 * its first row), streaming with back-pressure. Events have no place in an orders export and are not
 * written. Resolves when every row is handed to `out` (the caller ends it).
 */
export async function writeShopifyExport(out: Writable, options: WriteSimulationOptions): Promise<SimulationStats> {
  const stats = emptyStats();
  const digits = currencyExponent(options.currency);
  const money = (minor: number) => (minor / 10 ** digits).toFixed(digits);
  const write = async (text: string) => {
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  await write(toCsv([[...SHOPIFY_COLUMNS]]));
  let rows: string[][] = [];
  for (const customer of simulateStore({ ...options, events: false })) {
    count(stats, customer);
    for (const order of customer.orders) {
      order.lines.forEach((line, i) => {
        const first = i === 0;
        rows.push([
          `#${order.externalId}`,
          customer.email,
          first ? order.status : '',
          first ? (customer.acceptsMarketing ? 'yes' : 'no') : '',
          options.currency,
          first ? money(order.totalMinor) : '',
          first ? money(0) : '',
          first ? money(0) : '',
          first ? money(order.totalMinor) : '',
          '',
          first ? money(0) : '',
          shopifyTime(order.placedAt),
          String(line.quantity),
          line.title,
          money(line.unitPriceMinor),
          line.sku,
          money(0),
          first ? `${customer.firstName} ${customer.lastName}` : '',
          first ? customer.country : '',
          first ? money(order.refundedMinor) : '',
          line.category,
          first ? order.externalId : '',
        ]);
      });
    }
    if (rows.length >= 2000) {
      await write(toCsv(rows));
      rows = [];
    }
    if (stats.customers % 1000 === 0) options.onProgress?.(stats.customers, options.customers);
  }
  if (rows.length > 0) await write(toCsv(rows));
  options.onProgress?.(stats.customers, options.customers);
  return stats;
}

/** Shopify's export time format: `2024-01-05 10:22:11 +0000`. */
function shopifyTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}
