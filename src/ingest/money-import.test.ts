import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { duckOne } from '../../test/duck.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { type ImportOptions, importFile } from './import.js';

const NOW = Date.UTC(2026, 0, 1);
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/import');
const CANCELLATIONS = join(FIXTURES, 'online-retail-cancellations.csv');

/** `FILE:LINE: field: reason` of a refused import. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ComebackError, String(error));
    assert.equal(error.kind, 'bad_input');
    return error.describe();
  }
  assert.fail('the import was not refused');
}

async function orders(db: Db, source: string) {
  const rows = await db
    .selectFrom('orders')
    .select(['external_id', 'total_minor', 'refunded_minor', 'status', 'currency'])
    .where('source', '=', source)
    .orderBy('external_id')
    .execute();
  return rows.map((o) => [o.external_id, Number(o.total_minor), Number(o.refunded_minor), o.status, o.currency]);
}

for (const dialect of DIALECTS) {
  describe(`money that must add up, on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let dir: string;
    let n = 0;
    /** Writes a CSV into a fresh file and imports it with the generic format. */
    const csvImport = (text: string, options: Partial<ImportOptions> = {}) => {
      n += 1;
      const file = join(dir, `orders-${n}.csv`);
      writeFileSync(file, text);
      return { file, run: () => importFile(t.store.db, file, { format: 'csv', now: NOW, ...options }) };
    };
    before(async () => {
      t = await freshDatabase(dialect.name);
      dir = tempDir();
    });
    after(async () => {
      await t?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('Online Retail: a cancellation takes back units of the latest earlier invoices, never more than bought', async () => {
      const db = t.store.db;
      const summary = await importFile(db, CANCELLATIONS, { format: 'online-retail', now: NOW });
      // Totals by hand: 537216 = 12×1.65 + 6×2.55 + 12×0.85 = 45.30; 537217 = 2×4×14.95 + 2×4×5.95 = 167.20;
      // 537407 = 6×2.55 + 2×4×5.95 + 2×4×14.95 + 12×0.85 = 192.70; 600001 = 6×2.55 + 12.75 = 28.05;
      // 700001 = 2×12.75 + 3×2.55 = 33.15 (its two rows around 700002); 700002 = 24×0.55 = 13.20.
      // C537402 takes all of 537217 (167.20) and 47580 + 22196 of 537216 (15.30 + 10.20); C537406 cancels
      // 537217's units again and finds none left (537407 comes later); C537408 (14:55, the same minute as
      // 537407) takes 25.50 of 537407; C600002 cancels 12 units of which 600001 bought 6: 15.30 back,
      // the cake stand stays sold, and 15.30 matches nothing.
      assert.deepEqual(await orders(db, 'online-retail'), [
        ['537216', 4530, 2550, 'partially_refunded', 'GBP'],
        ['537217', 16720, 16720, 'refunded', 'GBP'],
        ['537407', 19270, 2550, 'partially_refunded', 'GBP'],
        ['600001', 2805, 1530, 'partially_refunded', 'GBP'],
        ['700001', 3315, 0, 'paid', 'GBP'],
        ['700002', 1320, 0, 'paid', 'GBP'],
      ]);
      assert.equal(summary.orders, 6, 'the split invoice 700001 counts once');
      const lines700001 = await db
        .selectFrom('order_lines as l')
        .innerJoin('orders as o', 'o.id', 'l.order_id')
        .select(['l.line_no', 'l.sku', 'l.total_minor'])
        .where('o.external_id', '=', '700001')
        .orderBy('l.line_no')
        .execute();
      assert.deepEqual(
        lines700001.map((l) => [l.line_no, l.sku, Number(l.total_minor)]),
        [
          [1, '22423', 2550],
          [2, '85123A', 765],
        ],
      );
      const unmatched = await db
        .selectFrom('refunds')
        .select(['external_id', 'amount_minor', 'quantity', 'sku'])
        .where('order_id', 'is', null)
        .orderBy('external_id')
        .execute();
      assert.deepEqual(
        unmatched.map((r) => [r.external_id, Number(r.amount_minor), r.quantity, r.sku]),
        [
          ['C537406:1#1', 2380, 4, '22926'],
          ['C537406:2#1', 2380, 4, '22927'],
          ['C537406:3#1', 5980, 4, '22847'],
          ['C537406:4#1', 5980, 4, '22849'],
          ['C600002:1#2', 1530, 6, '85123A'],
        ],
      );
      const cake = await db
        .selectFrom('refunds')
        .select(['quantity', 'amount_minor'])
        .where('external_id', '=', 'C600002:1#1')
        .executeTakeFirstOrThrow();
      assert.deepEqual([cake.quantity, Number(cake.amount_minor)], [6, 1530]);

      // The reconciliation: file net = Σ quantity × price of every row (DuckDB) = 11,125.66;
      // stored = 479.60 of orders − 233.50 applied = 246.10; the bad-debt row (+11,062.06) and the five
      // cancellation lines that matched nothing (−182.50) explain the difference exactly.
      const file = await duckOne(
        `select sum(cast("Quantity" as bigint) * cast(round(cast("UnitPrice" as decimal(18, 4)) * 100) as bigint)) as net
         from read_csv('${CANCELLATIONS}', all_varchar = true)`,
      );
      assert.equal(file.net, 1_112_566);
      assert.deepEqual(summary.reconciliation, [
        {
          currency: 'GBP',
          fileNetMinor: 1_112_566,
          storedNetMinor: 24_610,
          explained: [
            { reason: 'skipped: bad-debt adjustment invoices (A…) are not sales', count: 1, minor: 1_106_206 },
            {
              reason: 'refunds that matched no order (or exceeded what their orders had left), kept without an order',
              count: 5,
              minor: -18_250,
            },
          ],
          unexplainedMinor: 0,
          notSales: [],
          refundedOnOrders: { count: 0, minor: 0 },
        },
      ]);

      // Again: nothing changes, and the reconciliation says why the refunds were not applied twice.
      const again = await importFile(db, CANCELLATIONS, { format: 'online-retail', now: NOW + 1 });
      assert.deepEqual(await orders(db, 'online-retail'), [
        ['537216', 4530, 2550, 'partially_refunded', 'GBP'],
        ['537217', 16720, 16720, 'refunded', 'GBP'],
        ['537407', 19270, 2550, 'partially_refunded', 'GBP'],
        ['600001', 2805, 1530, 'partially_refunded', 'GBP'],
        ['700001', 3315, 0, 'paid', 'GBP'],
        ['700002', 1320, 0, 'paid', 'GBP'],
      ]);
      assert.equal(again.refunds, 0);
      // The same stored net as the first import: the refunds it stored count as stored then.
      const r = again.reconciliation[0]!;
      assert.equal(r.storedNetMinor, 24_610);
      assert.deepEqual(r.explained, [
        { reason: 'skipped: bad-debt adjustment invoices (A…) are not sales', count: 1, minor: 1_106_206 },
        {
          reason: 'refunds that matched no order (or exceeded what their orders had left), kept without an order',
          count: 5,
          minor: -18_250,
        },
        {
          reason: 'refunds stored by an earlier import, counted as stored then, not applied again',
          count: 13,
          minor: 0,
        },
      ]);
      assert.equal(r.unexplainedMinor, 0);
    });

    test('Online Retail: a manual credit (M) of exactly what an earlier order has left refunds that order', async () => {
      const db = t.store.db;
      const file = join(dir, 'manual-credit.csv');
      // From the UCI file: C556445 credits £38,970 "Manual" three minutes after 556444 (60 × £649.50).
      // 556500 (2 × £649.50 = £1,299) has no £100 left to match C556501, which stays without an order;
      // another customer's £1,299 credit (C556503) does not touch 15098's order; nor does a product's
      // credit (C556601) take back the £15 bank charge 556600 though the amounts are equal.
      writeFileSync(
        file,
        [
          'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
          '556444,22502,PICNIC BASKET WICKER 60 PIECES,60,2011-06-10 15:28:00,649.5,15098.0,United Kingdom',
          'C556445,M,Manual,-1,2011-06-10 15:31:00,38970.0,15098.0,United Kingdom',
          '556500,22502,PICNIC BASKET WICKER 60 PIECES,2,2011-06-11 10:00:00,649.5,15098.0,United Kingdom',
          'C556501,M,Manual,-1,2011-06-11 11:00:00,100.0,15098.0,United Kingdom',
          'C556503,M,Manual,-1,2011-06-11 12:00:00,1299.0,12345.0,United Kingdom',
          // A product's credit of exactly an order's amount is no manual credit: 12 × £1.25 stays unmatched.
          '556600,BANK CHARGES,Bank Charges,1,2011-06-12 10:00:00,15.0,15098.0,United Kingdom',
          'C556601,22094,RED RETROSPOT TISSUE BOX,-12,2011-06-12 11:00:00,1.25,15098.0,United Kingdom',
          '',
        ].join('\n'),
      );
      await importFile(db, file, { format: 'online-retail', now: NOW });
      const ours = (await orders(db, 'online-retail')).filter((o) =>
        ['556444', '556500', '556600'].includes(String(o[0])),
      );
      assert.deepEqual(ours, [
        ['556444', 3_897_000, 3_897_000, 'refunded', 'GBP'],
        ['556500', 129_900, 0, 'paid', 'GBP'],
        ['556600', 1_500, 0, 'paid', 'GBP'],
      ]);
      const refunds = await db
        .selectFrom('refunds as r')
        .leftJoin('orders as o', 'o.id', 'r.order_id')
        .select(['r.external_id', 'o.external_id as order', 'r.amount_minor'])
        .where('r.external_id', 'in', ['C556445:1#1', 'C556501:1#1', 'C556503:1#1', 'C556601:1#1'])
        .orderBy('r.external_id')
        .execute();
      assert.deepEqual(
        refunds.map((r) => [r.external_id, r.order, Number(r.amount_minor)]),
        [
          ['C556445:1#1', '556444', 3_897_000],
          ['C556501:1#1', null, 10_000],
          ['C556503:1#1', null, 129_900],
          ['C556601:1#1', null, 1_500],
        ],
      );
    });

    /** Each refund piece of the cancellation invoices `invoices` as [id, its order (null: none), units, amount]. */
    async function pieces(db: Db, invoices: string[]) {
      const rows = await db
        .selectFrom('refunds as r')
        .leftJoin('orders as o', 'o.id', 'r.order_id')
        .select(['r.external_id', 'o.external_id as order', 'r.quantity', 'r.amount_minor'])
        .where((eb) => eb.or(invoices.map((inv) => eb('r.external_id', 'like', `${inv}:%`))))
        .orderBy('r.external_id')
        .execute();
      return rows.map((r) => [r.external_id, r.order, r.quantity, Number(r.amount_minor)]);
    }

    test('Online Retail: a cancellation takes back units bought at its unit price first, then at other prices', async () => {
      const db = t.store.db;
      const file = join(dir, 'same-price.csv');
      // As C556448 in the UCI file: 60 small baskets at £4.95 cancelled after a later invoice of one
      // basket at £649.50. The £4.95 invoice 900001 is older but takes them all; the latest invoice,
      // 900002, bought the stock code at another price, and gives back its unit only when 900001 has
      // none left (C900004: one unit from 900002, as a price may change between sale and return, and
      // one unit that matches nothing).
      writeFileSync(
        file,
        [
          'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
          '900001,22502,PICNIC BASKET WICKER SMALL,60,2011-06-10 15:22:00,4.95,90001.0,United Kingdom',
          '900002,22502,PICNIC BASKET WICKER 60 PIECES,1,2011-06-10 15:33:00,649.5,90001.0,United Kingdom',
          'C900003,22502,PICNIC BASKET WICKER SMALL,-60,2011-06-10 15:39:00,4.95,90001.0,United Kingdom',
          'C900004,22502,PICNIC BASKET WICKER SMALL,-2,2011-06-10 16:00:00,4.95,90001.0,United Kingdom',
          '',
        ].join('\n'),
      );
      await importFile(db, file, { format: 'online-retail', now: NOW });
      assert.deepEqual(await pieces(db, ['C900003', 'C900004']), [
        ['C900003:1#1', '900001', 60, 29_700],
        ['C900004:1#1', '900002', 1, 495],
        ['C900004:1#2', null, 1, 495],
      ]);
      const ours = (await orders(db, 'online-retail')).filter((o) => ['900001', '900002'].includes(String(o[0])));
      assert.deepEqual(ours, [
        ['900001', 29_700, 29_700, 'refunded', 'GBP'],
        ['900002', 64_950, 495, 'partially_refunded', 'GBP'],
      ]);
    });

    test('Online Retail: a manual credit (M) takes units only of M lines at its price, else the whole-order rule', async () => {
      const db = t.store.db;
      const file = join(dir, 'manual-price.csv');
      // As C572659 in the UCI file: a £80 manual credit from a customer whose only M line is 2 × £0.50.
      // An M unit is an amount, not a product: the credit takes back no unit of 910001 (it would refund
      // its £10.95 and leave £69.05 unmatched), and no order has exactly £80 left, so it stays unmatched
      // whole; a £0.50 credit (C910003) takes back one of those units. Customer 90003 has the same M
      // line on 920002 and an earlier invoice of exactly £80 (920001): the £80 credit refunds 920001.
      // As C548830: 930001's two M lines (£1 and £2) are each taken back by a credit of their price, and
      // a second £2 credit (C930003) finds no £2 unit left and stays unmatched.
      writeFileSync(
        file,
        [
          'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
          '910001,22788,BROCANTE COAT RACK,1,2011-10-20 10:00:00,9.95,90002.0,United Kingdom',
          '910001,M,Manual,2,2011-10-20 10:00:00,0.5,90002.0,United Kingdom',
          'C910002,M,Manual,-1,2011-10-25 12:30:00,80.0,90002.0,United Kingdom',
          'C910003,M,Manual,-1,2011-10-25 12:40:00,0.5,90002.0,United Kingdom',
          '920001,22788,BROCANTE COAT RACK,8,2011-10-19 10:00:00,10.0,90003.0,United Kingdom',
          '920002,22469,HEART OF WICKER SMALL,1,2011-10-20 10:00:00,9.95,90003.0,United Kingdom',
          '920002,M,Manual,2,2011-10-20 10:00:00,0.5,90003.0,United Kingdom',
          'C920003,M,Manual,-1,2011-10-25 12:30:00,80.0,90003.0,United Kingdom',
          '930001,22788,BROCANTE COAT RACK,1,2011-10-20 10:00:00,9.95,90004.0,United Kingdom',
          '930001,M,Manual,1,2011-10-20 10:00:00,1.0,90004.0,United Kingdom',
          '930001,M,Manual,1,2011-10-20 10:00:00,2.0,90004.0,United Kingdom',
          'C930002,M,Manual,-1,2011-10-25 12:30:00,1.0,90004.0,United Kingdom',
          'C930002,M,Manual,-1,2011-10-25 12:30:00,2.0,90004.0,United Kingdom',
          'C930003,M,Manual,-1,2011-10-25 12:40:00,2.0,90004.0,United Kingdom',
          '',
        ].join('\n'),
      );
      await importFile(db, file, { format: 'online-retail', now: NOW });
      assert.deepEqual(await pieces(db, ['C910002', 'C910003', 'C920003', 'C930002', 'C930003']), [
        ['C910002:1#1', null, 1, 8_000],
        ['C910003:1#1', '910001', 1, 50],
        ['C920003:1#1', '920001', 1, 8_000],
        ['C930002:1#1', '930001', 1, 100],
        ['C930002:2#1', '930001', 1, 200],
        ['C930003:1#1', null, 1, 200],
      ]);
      const ours = (await orders(db, 'online-retail')).filter((o) =>
        ['910001', '920001', '920002', '930001'].includes(String(o[0])),
      );
      assert.deepEqual(ours, [
        ['910001', 1_095, 50, 'partially_refunded', 'GBP'],
        ['920001', 8_000, 8_000, 'refunded', 'GBP'],
        ['920002', 1_095, 0, 'paid', 'GBP'],
        ['930001', 1_295, 300, 'partially_refunded', 'GBP'],
      ]);
    });

    test('the database refuses refunded above total, or negative', async () => {
      const db = t.store.db;
      const id = (
        await db.selectFrom('orders').select('id').where('external_id', '=', '700002').executeTakeFirstOrThrow()
      ).id;
      await db.updateTable('orders').set({ refunded_minor: 1320 }).where('id', '=', id).execute();
      await assert.rejects(
        db.updateTable('orders').set({ refunded_minor: 1321 }).where('id', '=', id).execute(),
        /orders_refunded_within_total/,
      );
      await assert.rejects(
        db.updateTable('orders').set({ refunded_minor: -1 }).where('id', '=', id).execute(),
        /orders_refunded_within_total/,
      );
      await assert.rejects(
        db.updateTable('orders').set({ total_minor: 1319 }).where('id', '=', id).execute(),
        /orders_refunded_within_total/,
      );
      await db.updateTable('orders').set({ refunded_minor: 0 }).where('id', '=', id).execute();
    });

    test('generic CSV: a ;-separated file with decimal commas, detected', async () => {
      const { run } = csvImport(
        'order_id;placed_at;email;currency;total\nE-1;2024-05-01;anna@example.de;EUR;12,50\n' +
          'E-2;2024-05-02;ben@example.de;EUR;1.234,56\nE-3;2024-05-03;anna@example.de;EUR;7,5\n',
      );
      const summary = await run();
      assert.equal(summary.delimiter, ';');
      assert.deepEqual(await orders(t.store.db, 'csv'), [
        ['E-1', 1250, 0, 'paid', 'EUR'],
        ['E-2', 123_456, 0, 'paid', 'EUR'],
        ['E-3', 750, 0, 'paid', 'EUR'],
      ]);
    });

    test('generic CSV: quoted decimal commas in a comma-separated file; ambiguous amounts refused, or told', async () => {
      const comma = csvImport(
        'order_id,placed_at,currency,total\nD-1,2024-05-04,EUR,"12,50"\nD-2,2024-05-04,EUR,"1.234,56"\n',
      );
      await comma.run();
      const rows = (await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('D-'));
      assert.deepEqual(rows, [
        ['D-1', 1250, 0, 'paid', 'EUR'],
        ['D-2', 123_456, 0, 'paid', 'EUR'],
      ]);
      const text = 'order_id,placed_at,currency,total\nX-1,2024-05-05,EUR,"1,234"\nX-2,2024-05-05,EUR,"12,50"\n';
      const ambiguous = csvImport(text);
      assert.match(await refusal(ambiguous.run()), /orders-\d+\.csv:2: total: "1,234" is ambiguous/);
      const mixed = csvImport(
        'order_id,placed_at,currency,total\nM-1,2024-05-05,EUR,"12,50"\nM-2,2024-05-05,EUR,"1,234.56"\n',
      );
      assert.match(
        await refusal(mixed.run()),
        /orders-\d+\.csv:3: total: "1,234\.56" reads only with a decimal point, but the decimal mark is a comma \(proved by line 2\)/,
      );
      const point = csvImport(text, { decimal: 'point' });
      assert.match(await refusal(point.run()), /:3: total: "12,50" reads only with a decimal comma/);
      assert.equal((await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('X-')).length, 0);
      await csvImport(text, { decimal: 'comma' }).run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('X-')),
        [
          ['X-1', 123, 0, 'paid', 'EUR'],
          ['X-2', 1250, 0, 'paid', 'EUR'],
        ],
      );
    });

    test('generic CSV: a delimiter that cannot be told is refused; --delimiter decides', async () => {
      const text = 'order_id;placed_at,currency;total,note\nT-1;2024-05-06,EUR;5,x\n';
      assert.match(await refusal(csvImport(text).run()), /:1: header: cannot tell the delimiter/);
      const told = csvImport('order_id|placed_at|currency|total\nT-2|2024-05-06|EUR|5.00\n', { delimiter: '|' });
      assert.equal((await told.run()).delimiter, '|');
    });

    test('generic CSV: refunds are stored as their size, never above the total, and set the status', async () => {
      const { run } = csvImport(
        'order_id,placed_at,currency,total,refunded,status\n' +
          'R-1,2024-05-07,EUR,20.00,-5.00,paid\n' +
          'R-2,2024-05-07,EUR,20.00,20.00,paid\n' +
          'R-3,2024-05-07,EUR,20.00,,refunded\n' +
          'R-4,2024-05-07,EUR,20.00,19.99,refunded\n' +
          'R-5,2024-05-07,EUR,20.00,0.00,paid\n',
      );
      await run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('R-')),
        [
          ['R-1', 2000, 500, 'partially_refunded', 'EUR'],
          ['R-2', 2000, 2000, 'refunded', 'EUR'],
          ['R-3', 2000, 2000, 'refunded', 'EUR'],
          ['R-4', 2000, 1999, 'partially_refunded', 'EUR'],
          ['R-5', 2000, 0, 'paid', 'EUR'],
        ],
      );
      const net = await sql<{ v: number }>`
        select sum(total_minor - refunded_minor) as v from orders where external_id like 'R-%'`.execute(t.store.db);
      assert.equal(Number(net.rows[0]?.v), 1500 + 0 + 0 + 1 + 2000);
      const tooMuch = csvImport('order_id,placed_at,currency,total,refunded\nR-9,2024-05-07,EUR,20.00,30.00\n');
      assert.match(
        await refusal(tooMuch.run()),
        /orders-\d+\.csv:2: refunded: 3000 minor units is more than the order's total of 2000/,
      );
      const exact = csvImport('order_id,placed_at,currency,total,refunded\nR-8,2024-05-07,EUR,20.00,20.01\n');
      assert.match(await refusal(exact.run()), /:2: refunded: 2001 minor units is more than/);
    });

    test('generic CSV: an order whose rows come back after another order is refused at that line', async () => {
      const { run } = csvImport(
        'order_id,placed_at,currency,sku,quantity,unit_price\n' +
          'S-1,2024-05-08,EUR,A,1,10.00\nS-2,2024-05-08,EUR,B,1,5.00\nS-1,2024-05-08,EUR,C,1,3.00\n',
      );
      assert.match(
        await refusal(run()),
        /orders-\d+\.csv:4: order_id: order "S-1" started at line 2 and other orders came between/,
      );
      assert.equal((await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('S-')).length, 0);
    });

    test('bounds: unknown currencies, amounts beyond 10^12 minor units, negative totals and quantities refused', async () => {
      const cases: Array<[string, RegExp]> = [
        ['B-1,2024-05-09,ZZZ,5.00,1,', /:2: currency: "ZZZ" is not an ISO 4217 currency code/],
        ['B-2,2024-05-09,EUR,10000000000.01,1,', /:2: total: "10000000000\.01" is beyond the maximum of 1000000000000/],
        ['B-3,2024-05-09,EUR,-5.00,1,', /:2: total: is negative/],
        ['B-4,2024-05-09,EUR,5.00,10000001,0.01', /:2: quantity: "10000001" is beyond the maximum of 10000000/],
        ['B-5,2024-05-09,EUR,1e308,1,', /:2: total: "1e308" is not a number/],
        ['B-7,2024-05-09,EUR,5.00,1.000,0.01', /:2: quantity: "1\.000" is ambiguous/],
      ];
      for (const [row, message] of cases) {
        const { run } = csvImport(`order_id,placed_at,currency,total,quantity,unit_price\n${row}\n`);
        assert.match(await refusal(run()), message);
      }
      await csvImport('order_id,placed_at,currency,total\nB-6,2024-05-09,EUR,10000000000.00\n').run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => String(o[0]).startsWith('B-')),
        [['B-6', 1_000_000_000_000, 0, 'paid', 'EUR']],
      );
    });

    test('re-importing a changed order: a corrected total and an added refund replace what was stored', async () => {
      const header = 'order_id,placed_at,currency,total,refunded,email\n';
      await csvImport(`${header}C-1,2024-05-10,EUR,20.00,,carl@example.com\n`).run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => o[0] === 'C-1'),
        [['C-1', 2000, 0, 'paid', 'EUR']],
      );
      await csvImport(`${header}C-1,2024-05-10,EUR,25.00,5.00,carl@example.com\n`).run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => o[0] === 'C-1'),
        [['C-1', 2500, 500, 'partially_refunded', 'EUR']],
      );
      await csvImport(`${header}C-1,2024-05-10,EUR,25.00,25.00,carl@example.com\n`).run();
      assert.deepEqual(
        (await orders(t.store.db, 'csv')).filter((o) => o[0] === 'C-1'),
        [['C-1', 2500, 2500, 'refunded', 'EUR']],
      );
      // Online Retail: a cancellation added to the file later is applied on re-import, once.
      const extended = join(dir, 'online-retail-extended.csv');
      const { readFileSync } = await import('node:fs');
      writeFileSync(
        extended,
        `${readFileSync(CANCELLATIONS, 'utf8')}C700003,22423,REGENCY CAKESTAND 3 TIER,-1,2011-02-02 09:00:00,12.75,88888.0,France\n`,
      );
      await importFile(t.store.db, extended, { format: 'online-retail', now: NOW + 2 });
      await importFile(t.store.db, extended, { format: 'online-retail', now: NOW + 3 });
      assert.deepEqual(
        (await orders(t.store.db, 'online-retail')).filter((o) => o[0] === '700001'),
        [['700001', 3315, 1275, 'partially_refunded', 'GBP']],
      );
    });

    test('CDNOW: a damaged first row is refused, not taken for a header; the header is not a row', async () => {
      const damaged = join(dir, 'cdnow-damaged.txt');
      writeFileSync(damaged, ' 00x01 19970101  1   11.77\n 00002 19970112  1   12.00\n');
      assert.match(
        await refusal(importFile(t.store.db, damaged, { format: 'cdnow', now: NOW })),
        /cdnow-damaged\.txt:1: customer: "00x01" is not a customer id/,
      );
      const master = join(dir, 'cdnow-master.txt');
      writeFileSync(
        master,
        ' customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00002 19970112  1   12.00\n 00002 19970112  5   77.00\n',
      );
      const summary = await importFile(t.store.db, master, { format: 'cdnow', now: NOW });
      assert.equal(summary.rows, 3);
      assert.equal(summary.orders, 3);
    });
  });
}
