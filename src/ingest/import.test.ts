import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { duckOne } from '../../test/duck.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { samplePath } from '../shared/paths.js';
import type { Db } from '../store/index.js';
import type { FormatName } from './formats/index.js';
import { importFile } from './import.js';

const NOW = Date.UTC(2026, 0, 1);
const RETAIL = samplePath('online-retail', 'online-retail-sample.csv.gz');
const CDNOW = samplePath('cdnow', 'CDNOW_sample.txt');
const SHOPIFY = samplePath('shopify', 'orders_export_1.devstore.redacted.csv');
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/import');

/** Everything an import writes, reduced to numbers: a second import must leave it identical. */
async function snapshot(db: Db) {
  const one = async (query: string) =>
    Number((await sql<{ v: number }>`${sql.raw(query)}`.execute(db)).rows[0]?.v ?? 0);
  return {
    customers: await one('select count(*) as v from customers'),
    identities: await one('select count(*) as v from customer_identities'),
    orders: await one('select count(*) as v from orders'),
    lines: await one('select count(*) as v from order_lines'),
    refunds: await one('select count(*) as v from refunds'),
    products: await one('select count(*) as v from products'),
    total: await one('select coalesce(sum(total_minor), 0) as v from orders'),
    refunded: await one('select coalesce(sum(refunded_minor), 0) as v from orders'),
    lineTotal: await one('select coalesce(sum(total_minor), 0) as v from order_lines'),
    statuses: await one(`select count(*) as v from orders where status = 'paid'`),
    imports: await one('select count(*) as v from imports'),
  };
}

for (const dialect of DIALECTS) {
  describe(`importing the shipped samples on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('Online Retail: invoices, lines, customers, guests and cancellations match DuckDB over the raw file', async () => {
      const summary = await importFile(t.store.db, RETAIL, { format: 'online-retail', now: NOW });
      const raw = `read_csv('${RETAIL}', all_varchar = true)`;
      const cents = `cast(round(cast("UnitPrice" as decimal(18, 4)) * 100) as bigint)`;
      const expected = await duckOne(`
        select
          count(distinct "InvoiceNo") filter (where "InvoiceNo" not like 'C%' and "InvoiceNo" not like 'A%') as orders,
          count(*) filter (where "InvoiceNo" not like 'C%' and "InvoiceNo" not like 'A%') as lines,
          count(*) filter (where "InvoiceNo" like 'C%') as refunds,
          count(distinct "CustomerID") as customers,
          count(distinct "InvoiceNo") filter (where "CustomerID" is null and "InvoiceNo" not like 'C%' and "InvoiceNo" not like 'A%') as guest_orders,
          sum(cast("Quantity" as bigint) * ${cents}) filter (where "InvoiceNo" not like 'C%' and "InvoiceNo" not like 'A%') as total,
          sum(abs(cast("Quantity" as bigint)) * ${cents}) filter (where "InvoiceNo" like 'C%') as refund_total,
          count(distinct "StockCode") filter (where "InvoiceNo" not like 'C%' and "InvoiceNo" not like 'A%'
            and upper("StockCode") not in ('POST', 'DOT', 'C2', 'D', 'M', 'S', 'B', 'CRUK', 'BANK CHARGES', 'AMAZONFEE')
            and upper("StockCode") not like 'GIFT\\_%' escape '\\' and cast("Quantity" as bigint) >= 0) as products
        from ${raw}`);
      const db = t.store.db;
      const got = await snapshot(db);
      assert.equal(got.orders, expected.orders);
      assert.equal(got.lines, expected.lines);
      // Each cancellation line is stored as pieces `ID#1`, `ID#2`…: one per order it was allocated to.
      const cancellationLines = await sql<{ n: number }>`
        select count(*) as n from refunds where external_id like '%#1'`.execute(db);
      assert.equal(Number(cancellationLines.rows[0]?.n), expected.refunds);
      assert.equal(got.customers, expected.customers);
      assert.equal(got.identities, expected.customers, 'each CustomerID is one identity');
      assert.equal(got.total, expected.total);
      assert.equal(got.lineTotal, expected.total);
      assert.equal(got.products, expected.products);
      assert.equal(summary.orders, expected.orders);
      const guests = await db
        .selectFrom('orders')
        .select(sql<number>`count(*)`.as('n'))
        .where('customer_id', 'is', null)
        .executeTakeFirstOrThrow();
      assert.equal(Number(guests.n), expected.guest_orders);
      const refundSum = await db
        .selectFrom('refunds')
        .select(sql<number>`sum(amount_minor)`.as('s'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(refundSum.s), expected.refund_total);
      // A matched cancellation refunds an earlier order of the same customer.
      const mismatched = await sql<{ n: number }>`
        select count(*) as n from refunds r join orders o on o.id = r.order_id
        where o.customer_id <> r.customer_id or o.placed_at > r.refunded_at`.execute(db);
      assert.equal(Number(mismatched.rows[0]?.n), 0);
      const byOrder = await sql<{ n: number }>`
        select count(*) as n from orders o
        where o.refunded_minor <> coalesce((select sum(amount_minor) from refunds r where r.order_id = o.id), 0)`.execute(
        db,
      );
      assert.equal(Number(byOrder.rows[0]?.n), 0, "an order's refunded amount is the sum of its refunds");
      const status = await sql<{ n: number }>`
        select count(*) as n from orders
        where (refunded_minor = 0 and status <> 'paid')
           or (refunded_minor > 0 and refunded_minor < total_minor and status <> 'partially_refunded')
           or (refunded_minor > 0 and refunded_minor >= total_minor and status <> 'refunded')`.execute(db);
      assert.equal(Number(status.rows[0]?.n), 0);
      assert.equal(summary.skipped, 0);
      // Never more refunded than an order's total, nor more units of a product than the order bought.
      const over = await sql<{ n: number }>`
        select count(*) as n from orders where refunded_minor > total_minor and refunded_minor > 0`.execute(db);
      assert.equal(Number(over.rows[0]?.n), 0);
      const units = await sql<{ n: number }>`
        select count(*) as n from (
          select r.order_id, r.sku, sum(r.quantity) as back,
            (select sum(l.quantity) from order_lines l where l.order_id = r.order_id and l.sku = r.sku and l.quantity > 0) as bought
          from refunds r where r.order_id is not null group by r.order_id, r.sku) t
        where back > bought`.execute(db);
      assert.equal(Number(units.rows[0]?.n), 0);
      // The reconciliation: the file's net is every row's quantity × price (DuckDB over the raw file);
      // what was stored is the orders' totals less their refunds; cancellations that found no units
      // explain the rest (a cancellation line has at most one piece without an order: its last).
      const file = await duckOne(`select sum(cast("Quantity" as bigint) * ${cents}) as net from ${raw}`);
      const stored = await sql<{ v: number }>`select sum(total_minor - refunded_minor) as v from orders`.execute(db);
      const unmatched = await sql<{ v: number; n: number }>`
        select coalesce(sum(amount_minor), 0) as v, count(*) as n
        from refunds where order_id is null`.execute(db);
      assert.equal(summary.reconciliation.length, 1);
      const r = summary.reconciliation[0]!;
      assert.equal(r.currency, 'GBP');
      assert.equal(r.fileNetMinor, file.net);
      assert.equal(r.storedNetMinor, Number(stored.rows[0]?.v));
      assert.equal(r.unexplainedMinor, 0);
      const explainedUnmatched = r.explained.find((e) => e.reason.startsWith('refunds that matched no order'));
      assert.equal(-(explainedUnmatched?.minor ?? 0), Number(unmatched.rows[0]?.v));
      assert.equal(explainedUnmatched?.count ?? 0, Number(unmatched.rows[0]?.n));
    });

    test('CDNOW: every row is a purchase, repeated rows included', async () => {
      const db = t.store.db;
      const before = await snapshot(db);
      await importFile(db, CDNOW, { format: 'cdnow', now: NOW });
      const text = readFileSync(CDNOW, 'utf8').trim().split(/\r?\n/);
      const customers = new Set(text.map((l) => l.trim().split(/\s+/)[1]));
      const cents = text.reduce((s, l) => {
        const [whole, frac = ''] = (l.trim().split(/\s+/)[4] ?? '0').split('.');
        return s + Number(whole) * 100 + Number(frac.padEnd(2, '0'));
      }, 0);
      const after = await snapshot(db);
      assert.equal(after.orders - before.orders, 6919);
      assert.equal(text.length, 6919);
      assert.equal(after.customers - before.customers, customers.size);
      assert.equal(customers.size, 2357);
      assert.equal(after.total - before.total, cents);
      const usd = await db
        .selectFrom('orders')
        .select(sql<number>`count(*)`.as('n'))
        .where('currency', '=', 'USD')
        .executeTakeFirstOrThrow();
      assert.equal(Number(usd.n), 6919);
      // Every CDNOW row is a sale: all paid, so the revenue figures count them.
      const statuses = await db
        .selectFrom('orders')
        .select(['status', sql<number>`count(*)`.as('n')])
        .where('source', '=', 'cdnow')
        .groupBy('status')
        .execute();
      assert.deepEqual(
        statuses.map((r) => [r.status, Number(r.n)]),
        [['paid', 6919]],
      );
      const first = await db
        .selectFrom('orders')
        .select(['placed_at', 'placed_date', 'total_minor'])
        .where('source', '=', 'cdnow')
        .where('external_id', '=', '1-19970101-1')
        .executeTakeFirstOrThrow();
      assert.deepEqual(first, { placed_at: Date.UTC(1997, 0, 1), placed_date: '1997-01-01', total_minor: 2933 });
    });

    test('Shopify: multi-line orders, guest order without e-mail, INR, consent from the newest order', async () => {
      const db = t.store.db;
      await importFile(db, SHOPIFY, { format: 'shopify', now: NOW });
      const raw = `read_csv('${SHOPIFY}', all_varchar = true)`;
      const expected = await duckOne(`
        select count(distinct "Name") as orders, count(*) as lines,
               sum(cast(round(cast("Total" as decimal(18, 2)) * 100) as bigint)) as total,
               count(distinct lower("Email")) as customers,
               count(distinct "Name") filter (where "Email" is null) as guests
        from ${raw}`);
      const orders = await db.selectFrom('orders').selectAll().where('source', '=', 'shopify').execute();
      assert.equal(orders.length, expected.orders);
      // Shopify's order name (#1051) is kept beside its numeric id, for people to recognise the order.
      const names = await duckOne(`select string_agg(distinct "Name", ',' order by "Name") as names from ${raw}`);
      assert.equal(
        orders
          .map((o) => o.name)
          .sort()
          .join(','),
        names.names,
      );
      assert.ok(orders.every((o) => o.external_id !== o.name));
      assert.equal(
        orders.reduce((s, o) => s + o.total_minor, 0),
        expected.total,
      );
      assert.ok(orders.every((o) => o.currency === 'INR' && o.status === 'paid'));
      assert.equal(orders.filter((o) => o.customer_id === null).length, expected.guests);
      const lines = await db
        .selectFrom('order_lines')
        .innerJoin('orders', 'orders.id', 'order_lines.order_id')
        .select(sql<number>`count(*)`.as('n'))
        .where('orders.source', '=', 'shopify')
        .executeTakeFirstOrThrow();
      assert.equal(Number(lines.n), expected.lines);
      const emails = await db.selectFrom('customers').select('email').where('email', 'like', 'customer-%').execute();
      assert.equal(emails.length, expected.customers);
      const a = await db
        .selectFrom('customers')
        .innerJoin('customer_consents', 'customer_consents.customer_id', 'customers.id')
        .select(['granted', 'updated_at'])
        .where('email', '=', 'customer-a@example.com')
        .executeTakeFirstOrThrow();
      const newest = await duckOne(`
        select "Accepts Marketing" as accepts from ${raw}
        where lower("Email") = 'customer-a@example.com' and "Created at" is not null
        order by strptime("Created at", '%Y-%m-%d %H:%M:%S %z') desc limit 1`);
      assert.equal(a.granted, newest.accepts === 'yes' ? 1 : 0);
      const order1051 = orders.find((o) => o.external_id === '6798481555755');
      assert.equal(order1051?.placed_offset, -300, 'the offset of Created at is kept');
    });

    test("Shopify's customers export joins the orders' customer by e-mail and brings consent per channel", async () => {
      const db = t.store.db;
      const before = await snapshot(db);
      const summary = await importFile(db, join(FIXTURES, 'shopify-customers.csv'), { format: 'shopify', now: NOW });
      assert.equal(summary.customersCreated, 1, 'customer A existed already (from the orders export)');
      const after = await snapshot(db);
      assert.equal(after.customers, before.customers + 1);
      const a = await db
        .selectFrom('customers')
        .innerJoin('customer_identities', 'customer_identities.customer_id', 'customers.id')
        .select(['customers.id', 'external_id', 'phone', 'city'])
        .where('email', '=', 'customer-a@example.com')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        { ...a, id: 0 },
        { id: 0, external_id: '7712345678901', phone: '+919845012345', city: 'Bengaluru' },
      );
      const consents = await db
        .selectFrom('customer_consents')
        .innerJoin('customers', 'customers.id', 'customer_consents.customer_id')
        .select(['channel', 'granted'])
        .where('email', '=', 'dana@example.com')
        .orderBy('channel')
        .execute();
      assert.deepEqual(consents, [
        { channel: 'email', granted: 0 },
        { channel: 'sms', granted: 1 },
      ]);
    });

    test('re-importing every sample changes nothing', async () => {
      const db = t.store.db;
      const before = await snapshot(db);
      await importFile(db, RETAIL, { format: 'online-retail', now: NOW + 1 });
      await importFile(db, CDNOW, { format: 'cdnow', now: NOW + 1 });
      await importFile(db, SHOPIFY, { format: 'shopify', now: NOW + 1 });
      await importFile(db, join(FIXTURES, 'shopify-customers.csv'), { format: 'shopify', now: NOW + 1 });
      const after = await snapshot(db);
      assert.deepEqual({ ...after, imports: 0 }, { ...before, imports: 0 });
      assert.equal(after.imports, before.imports + 4, 'each import is recorded');
    });
  });

  describe(`importing other shops' files on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('WooCommerce: KRW without decimals, registered and guest customers, refunds, cancellations, coupons', async () => {
      const db = t.store.db;
      await importFile(db, join(FIXTURES, 'woocommerce-orders.csv'), {
        format: 'woocommerce',
        now: NOW,
        timeZone: 'Asia/Seoul',
      });
      const orders = await db
        .selectFrom('orders')
        .selectAll()
        .where('source', '=', 'woocommerce')
        .orderBy('external_id')
        .execute();
      assert.deepEqual(
        orders.map((o) => [o.external_id, o.total_minor, o.refunded_minor, o.status, o.currency, o.discount_codes]),
        [
          ['1001', 48_000, 0, 'paid', 'KRW', '[]'],
          ['1002', 28_000, 0, 'paid', 'KRW', '["WELCOME5"]'],
          ['1003', 15_000, 5_000, 'partially_refunded', 'KRW', '[]'],
          ['1004', 18_000, 0, 'cancelled', 'KRW', '[]'],
        ],
      );
      assert.equal(orders[0]!.placed_date, '2024-03-01');
      assert.equal(orders[0]!.placed_at, Date.UTC(2024, 2, 1, 1, 15), '10:15 in Seoul is 01:15 UTC');
      assert.equal(orders[0]!.customer_id, orders[2]!.customer_id, 'user 17 is one customer, whatever the e-mail case');
      const minji = await db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', orders[0]!.customer_id!)
        .executeTakeFirstOrThrow();
      assert.equal(minji.email, 'minji@example.com');
      assert.equal(minji.phone, '+821012345678');
      const lines = await db.selectFrom('order_lines').selectAll().where('order_id', '=', orders[1]!.id).execute();
      assert.deepEqual(
        lines.map((l) => [l.sku, l.quantity, l.unit_price_minor, l.discount_minor, l.total_minor]),
        [['TEA-100', 2, 15_000, 5_000, 25_000]],
      );
    });

    test('WooCommerce: the shipping, tax and discount totals are stored as the export states them', async () => {
      const db = t.store.db;
      const dir = tempDir();
      after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'woo-tax.csv');
      writeFileSync(
        file,
        'order_id,order_date,status,shipping_total,tax_total,cart_discount,order_total,order_subtotal,order_currency,billing_email,line_item_1\n' +
          '2001,2024-04-01 09:00:00,wc-completed,4.99,2.50,1.00,31.49,25.00,USD,tax@example.com,name:Mug|sku:MUG-1|quantity:1|total:25.00|sub_total:25.00\n',
      );
      await importFile(db, file, { format: 'woocommerce', now: NOW });
      const order = await db
        .selectFrom('orders')
        .select(['shipping_minor', 'tax_minor', 'discount_minor', 'subtotal_minor', 'total_minor', 'currency'])
        .where('source', '=', 'woocommerce')
        .where('external_id', '=', '2001')
        .executeTakeFirstOrThrow();
      assert.deepEqual(order, {
        shipping_minor: 499,
        tax_minor: 250,
        discount_minor: 100,
        subtotal_minor: 2500,
        total_minor: 3149,
        currency: 'USD',
      });
    });

    test('generic CSV with --map: BOM, CRLF, a quoted line break, JPY, an order over two lines', async () => {
      const db = t.store.db;
      const map = {
        'Order Ref': 'order_id',
        Ordered: 'placed_at',
        'Buyer Email': 'email',
        Amount: 'total',
        Item: 'title',
        Qty: 'quantity',
        Price: 'unit_price',
        Cur: 'currency',
      };
      const summary = await importFile(db, join(FIXTURES, 'generic-orders.csv'), { format: 'csv', now: NOW, map });
      assert.equal(summary.orders, 3);
      const orders = await db
        .selectFrom('orders')
        .selectAll()
        .where('source', '=', 'csv')
        .orderBy('external_id')
        .execute();
      assert.deepEqual(
        orders.map((o) => [o.external_id, o.total_minor, o.currency, o.placed_offset]),
        [
          ['A-1', 3300, 'JPY', 540],
          ['A-2', 5000, 'JPY', 540],
          ['A-3', 1000, 'JPY', 540],
        ],
      );
      const whisk = await db
        .selectFrom('order_lines')
        .select('title')
        .where('order_id', '=', orders[0]!.id)
        .executeTakeFirstOrThrow();
      assert.equal(whisk.title, 'Matcha\r\nwhisk');
      assert.equal(orders[0]!.customer_id, orders[2]!.customer_id);
      const a2 = await db
        .selectFrom('order_lines')
        .select(['title', 'total_minor'])
        .where('order_id', '=', orders[1]!.id)
        .orderBy('line_no')
        .execute();
      assert.deepEqual(a2, [
        { title: 'Bowl', total_minor: 4000 },
        { title: 'Scoop', total_minor: 1000 },
      ]);
    });

    test('a malformed file stops at its line and writes nothing', async () => {
      const db = t.store.db;
      const cases: Array<[string, FormatName, RegExp]> = [
        ['missing-column.csv', 'online-retail', /missing-column\.csv:1: header: missing column "Quantity"/],
        ['bad-date.csv', 'online-retail', /bad-date\.csv:3: InvoiceDate: "2010-12-32 08:28:00" is not a date/],
        ['bad-number.csv', 'online-retail', /bad-number\.csv:4: Quantity: "six" is not a whole number/],
        ['truncated-quote.csv', 'online-retail', /truncated-quote\.csv:3: a quoted field is not closed/],
        ['latin1.csv', 'online-retail', /latin1\.csv:3: the file is not valid UTF-8/],
        ['empty.csv', 'online-retail', /empty\.csv:1: (header: )?the file is empty/],
        // Every format says so at the header of an empty file, before any row is counted.
        ['empty.csv', 'shopify', /empty\.csv:1: header: the file is empty/],
        ['empty.csv', 'woocommerce', /empty\.csv:1: header: the file is empty/],
        ['empty.csv', 'csv', /empty\.csv:1: header: the file is empty/],
        ['woocommerce-no-quantity.csv', 'woocommerce', /woocommerce-no-quantity\.csv:2: line_item quantity: is empty/],
        ['header-only.csv', 'online-retail', /header-only\.csv:2: the file has a header and no rows/],
        ['short-row.csv', 'online-retail', /short-row\.csv:3: row: has 6 columns, the header has 8/],
        ['cdnow-bad-date.txt', 'cdnow', /cdnow-bad-date\.txt:3: date: "19970231" is not a date/],
      ];
      const before = await snapshot(db);
      for (const [file, format, message] of cases) {
        await assert.rejects(
          importFile(db, join(FIXTURES, 'malformed', file), { format, now: NOW }),
          (error: unknown) => {
            assert.ok(error instanceof ComebackError, `${file}: ${String(error)}`);
            assert.equal(error.kind, 'bad_input');
            assert.match(error.describe(), message);
            return true;
          },
        );
      }
      assert.deepEqual(await snapshot(db), before, 'no row of any malformed file was written');
    });

    test('--encoding latin1 reads the Latin-1 file; --skip-invalid keeps the good rows and writes the bad', async () => {
      const db = t.store.db;
      await importFile(db, join(FIXTURES, 'malformed', 'latin1.csv'), {
        format: 'online-retail',
        now: NOW,
        encoding: 'latin1',
      });
      const line = await db
        .selectFrom('order_lines')
        .select('title')
        .where('sku', '=', '22633')
        .executeTakeFirstOrThrow();
      assert.equal(line.title, 'CAFé SET');

      const dir = tempDir();
      const copy = join(dir, 'bad-number.csv');
      const { copyFileSync } = await import('node:fs');
      copyFileSync(join(FIXTURES, 'malformed', 'bad-number.csv'), copy);
      const summary = await importFile(db, copy, {
        format: 'online-retail',
        now: NOW,
        skipInvalid: true,
        currency: 'EUR',
      });
      assert.equal(summary.rejected, 1);
      assert.equal(summary.orders, 1);
      const rejects = readFileSync(`${copy}.rejects.csv`, 'utf8').trim().split('\n');
      assert.equal(rejects.length, 2);
      assert.match(rejects[1]!, /^4,Quantity,"""six"" is not a whole number",536366,22633/);
    });
  });
}
