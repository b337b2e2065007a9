import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { DIALECTS, freshDatabase, tempDir } from '../../test/setup.js';
import { importFile, recordEvents } from '../ingest/index.js';
import { evaluateModel } from '../predict/index.js';
import type { Db } from '../store/index.js';
import {
  CDNOW_BGNBD,
  SIMULATE_SOURCE,
  simulatedEvents,
  simulateStore,
  writeShopifyExport,
  writeSimulation,
} from './index.js';

const NOW = Date.UTC(2026, 0, 1);

async function exportHash(dir: string, name: string, seed: number, customers = 300): Promise<string> {
  const file = join(dir, name);
  const out = createWriteStream(file);
  await writeShopifyExport(out, { customers, months: 12, seed, currency: 'USD', now: NOW });
  out.end();
  await finished(out);
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Orders and lines as rows of text, sorted, keyed by what the source names (no database ids). */
async function dump(db: Db): Promise<{ orders: string[]; lines: string[]; customers: string[] }> {
  const orders = await db
    .selectFrom('orders')
    .leftJoin('customers', 'customers.id', 'orders.customer_id')
    .select([
      'orders.external_id',
      'orders.placed_at',
      'orders.total_minor',
      'orders.refunded_minor',
      'orders.status',
      'orders.currency',
      'customers.email',
    ])
    .execute();
  const lines = await db
    .selectFrom('order_lines')
    .innerJoin('orders', 'orders.id', 'order_lines.order_id')
    .leftJoin('products', 'products.id', 'order_lines.product_id')
    .select([
      'orders.external_id',
      'order_lines.line_no',
      'order_lines.quantity',
      'order_lines.unit_price_minor',
      'order_lines.total_minor',
      'products.sku',
    ])
    .execute();
  const customers = await db.selectFrom('customers').select(['email', 'first_name', 'last_name', 'country']).execute();
  const text = (rows: object[]) => rows.map((r) => JSON.stringify(Object.values(r).map(String))).sort();
  return { orders: text(orders), lines: text(lines), customers: text(customers) };
}

describe('comeback simulate', () => {
  it('the same seed writes the same export byte for byte; another seed another one', async () => {
    const dir = tempDir();
    const a = await exportHash(dir, 'a.csv', 7);
    const b = await exportHash(dir, 'b.csv', 7);
    const c = await exportHash(dir, 'c.csv', 8);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  for (const dialect of DIALECTS) {
    it(`${dialect.name}: writing the database and importing the Shopify export give the same store; a second run adds nothing`, {
      skip: dialect.skip,
    }, async () => {
      const options = { customers: 250, months: 12, seed: 11, currency: 'EUR', now: NOW };
      const direct = await freshDatabase(dialect.name);
      const viaFile = await freshDatabase(dialect.name);
      try {
        const stats = await writeSimulation(direct.store.db, options);
        const again = await writeSimulation(direct.store.db, options);
        assert.deepEqual(again, stats, 'the same counts drawn again');
        const counted = await direct.store.db
          .selectFrom('orders')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(counted.n), stats.orders, 'the second run stored nothing new');
        const events = await sql<{ n: number }>`select count(*) as n from events`.execute(direct.store.db);
        assert.equal(Number(events.rows[0]?.n), stats.events);
        assert.ok(stats.events > stats.orders, 'sessions with views and carts around the orders');

        const file = join(tempDir(), 'store.csv');
        const out = createWriteStream(file);
        const exported = await writeShopifyExport(out, options);
        out.end();
        await finished(out);
        assert.equal(exported.orders, stats.orders);
        const summary = await importFile(viaFile.store.db, file, { format: 'shopify', now: NOW });
        assert.equal(summary.orders, stats.orders);
        assert.equal(summary.lines, stats.lines);
        assert.equal(summary.customersCreated, stats.customers);
        const x = await dump(direct.store.db);
        const y = await dump(viaFile.store.db);
        assert.deepEqual(y.orders, x.orders);
        assert.deepEqual(y.lines, x.lines);
        assert.deepEqual(y.customers, x.customers);
        // Refunds were drawn and stored as such.
        assert.ok(x.orders.some((o) => o.includes('"refunded"')));
        assert.ok(x.orders.some((o) => o.includes('"partially_refunded"')));
      } finally {
        await direct.drop();
        await viaFile.drop();
      }
    });

    it(`${dialect.name}: the events simulate writes in bulk are the rows recordEvents stores for the same calls, first-seen instants included`, {
      skip: dialect.skip,
    }, async () => {
      const options = { customers: 180, months: 6, seed: 5, currency: 'USD', now: NOW, batchSize: 70 };
      const bulk = await freshDatabase(dialect.name);
      const reference = await freshDatabase(dialect.name);
      try {
        const stats = await writeSimulation(bulk.store.db, options);
        // The reference: the same orders (browsing draws from a stream of its own), then every customer's
        // calls through the API's path, one customer at a time.
        await writeSimulation(reference.store.db, { ...options, events: false });
        for (const customer of simulateStore(options)) {
          await recordEvents(reference.store.db, simulatedEvents(customer), {
            now: NOW,
            userIdSource: SIMULATE_SOURCE,
          });
        }
        const events = async (db: Db) =>
          (
            await db
              .selectFrom('events')
              .leftJoin('customers', 'customers.id', 'events.customer_id')
              .select([
                'events.message_id',
                'events.type',
                'events.event',
                'customers.email',
                'events.anonymous_id',
                'events.session_id',
                'events.properties',
                'events.occurred_at',
                'events.received_at',
                'events.utm_source',
                'events.referrer',
              ])
              .execute()
          )
            .map((r) => JSON.stringify(Object.values(r).map(String)))
            .sort();
        const seen = async (db: Db) =>
          (await db.selectFrom('customers').select(['email', 'first_seen_at']).execute())
            .map((r) => `${r.email} ${r.first_seen_at}`)
            .sort();
        const a = await events(bulk.store.db);
        assert.equal(a.length, stats.events);
        assert.deepEqual(a, await events(reference.store.db));
        assert.deepEqual(await seen(bulk.store.db), await seen(reference.store.db));
        // Some customer was first seen browsing, before the first order.
        const earlier = await sql<{ n: number }>`select count(*) as n from customers c
          where c.first_seen_at < (select min(placed_at) from orders o where o.customer_id = c.id)`.execute(
          bulk.store.db,
        );
        assert.ok(Number(earlier.rows[0]?.n) > 0);
        // A second run stores no event twice.
        await writeSimulation(bulk.store.db, options);
        assert.deepEqual(await events(bulk.store.db), a);
      } finally {
        await bulk.drop();
        await reference.drop();
      }
    });
    it(`${dialect.name}: BG/NBD fitted on a simulated store of 3,000 customers recovers the CDNOW parameters`, {
      skip: dialect.skip,
    }, async () => {
      const { store, drop } = await freshDatabase(dialect.name);
      try {
        // Refunds off: a fully refunded order is not a purchase to the summary, which would thin the
        // process the parameters describe.
        await writeSimulation(store.db, {
          customers: 3000,
          months: 18,
          seed: 2005,
          currency: 'USD',
          now: NOW,
          events: false,
          refundShare: 0,
          partialRefundShare: 0,
          batchSize: 1000,
        });
        const { fit } = await evaluateModel(store.db, { model: 'bgnbd', unit: 'week' });
        assert.equal(fit.customers, 3000);
        assert.ok(fit.converged);
        for (const name of ['r', 'alpha', 'a', 'b'] as const) {
          const estimate = fit.params[name] ?? Number.NaN;
          const se = fit.stderr[name] ?? Number.NaN;
          assert.ok(Number.isFinite(se) && se > 0, `${name}: a standard error`);
          // Two standard errors: a 95% band for each; the seed is fixed, so the test is deterministic.
          assert.ok(
            Math.abs(estimate - CDNOW_BGNBD[name]) <= 2 * se,
            `${name}: ${estimate} ± ${se} against the true ${CDNOW_BGNBD[name]}`,
          );
        }
      } finally {
        await drop();
      }
    });
  }
});
