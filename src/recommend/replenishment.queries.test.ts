import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { euroOrder } from '../../test/recommend-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ImportWriter, ProductWriter } from '../ingest/index.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { buildRecommendations, recommendForCustomer } from './recommend.js';
import { dueReplenishments, latestBuild, loadModelView, repurchaseCycles } from './recommend.queries.js';

const day = (d: number) => d * MS_PER_DAY;

const order = euroOrder;

/*
 * Tea T and U, a mug M. c1 buys {T,U} on day 0 and T on day 10; c2 {T,U} on 0 and T on 20; c3 {T,M} on
 * 5 and {T,U} on 15. By hand: T has 3 buyers who all bought it again, gaps 10, 20, 10 → cycle 10 days,
 * a repeat-purchase item; U has 3 buyers and none bought it again; M 1 buyer. The Tea category's
 * purchase days give the same gaps (c3's day 15 holds T and U): cycle 10. c1 and c2 each viewed T (by
 * `sku`) and M (by `product_id`): the co-view pair T–M has support 2, cosine 2/√(2·2) = 1.
 */
async function seed(db: Db): Promise<Record<string, number>> {
  await db.transaction().execute(async (trx) => {
    const catalogue = new ProductWriter(trx, 'test', day(0));
    const product = (sku: string, category: string) => ({
      sku,
      title: `Product ${sku}`,
      category,
      tags: [],
      status: 'active' as const,
      priceMinor: 1000,
      currency: 'EUR',
    });
    await catalogue.write([product('T', 'Tea'), product('U', 'Tea'), product('M', 'Mugs')]);
    const writer = new ImportWriter(trx, 'test', day(0));
    await writer.writeOrders([
      order('o1', 'c1', 0, ['T', 'U']),
      order('o2', 'c1', 10, ['T']),
      order('o3', 'c2', 0, ['T', 'U']),
      order('o4', 'c2', 20, ['T']),
      order('o5', 'c3', 5, ['T', 'M']),
      order('o6', 'c3', 15, ['T', 'U']),
    ]);
    await writer.finish();
  });
  const ids: Record<string, number> = {};
  for (const c of await db.selectFrom('customers').select(['id', 'email']).execute()) {
    ids[c.email!.split('@')[0]!] = Number(c.id);
  }
  for (const p of await db.selectFrom('products').select(['id', 'sku']).execute()) ids[p.sku] = Number(p.id);
  let n = 0;
  for (const [customer, properties] of [
    ['c1', { sku: 'T' }],
    ['c1', { product_id: 'M' }],
    ['c2', { sku: 'T' }],
    ['c2', { product_id: 'M' }],
  ] as const) {
    n += 1;
    await db
      .insertInto('events')
      .values({
        message_id: `view-${n}`,
        type: 'track',
        event: 'Product Viewed',
        customer_id: ids[customer]!,
        anonymous_id: null,
        session_id: null,
        properties: JSON.stringify(properties),
        occurred_at: day(1),
        received_at: day(1),
      })
      .execute();
  }
  return ids;
}

for (const dialect of DIALECTS) {
  describe(`stored repurchase cycles and due replenishments on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let id: Record<string, number>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      id = await seed(t.store.db);
      await buildRecommendations(t.store.db, { asOf: day(21), now: day(21) });
    });
    after(async () => t?.drop());

    test('the stored view: item cycles, the category cycle, co-views read by sku and product_id', async () => {
      const db = t.store.db;
      const build = (await latestBuild(db))!;
      const view = await loadModelView(db, build.id, {
        items: [id.T!, id.U!],
        neighbours: [id.T!],
        relations: ['viewed_with', 'bought_with'],
      });
      assert.equal(view.item(id.T!)?.repurchaseDays, 10);
      assert.equal(view.item(id.T!)?.repeatItem, true);
      assert.equal(view.item(id.U!)?.repurchaseDays, null);
      assert.equal(view.categoryCycle('Tea'), 10);
      assert.equal(view.categoryCycle('Mugs'), null, 'nobody bought a mug twice');
      assert.equal(view.categoryCycle('Lamps'), null);
      assert.deepEqual(view.neighbours('viewed_with', id.T!), [{ id: id.M!, score: 1, support: 2 }]);
      // T (6 orders) and U (3) were bought together in o1, o3 and o6 of the 6 orders: lift 3·6/(6·3) = 1;
      // T–M only once, below the support of 2.
      assert.deepEqual(view.neighbours('bought_with', id.T!), [{ id: id.U!, score: 1, support: 3 }]);
      assert.deepEqual(view.neighbours('similar', id.T!), [], 'not loaded');
    });

    test('repurchase cycles: most buyers first; "not bought again" needs minBuyers buyers and no repeat', async () => {
      const db = t.store.db;
      const build = (await latestBuild(db))!;
      const cycles = await repurchaseCycles(db, build.id);
      assert.deepEqual(
        cycles.map((c) => [c.sku, c.buyers, c.repeatBuyers, c.cycleDays, c.repeatItem, c.notBoughtAgain]),
        [
          ['T', 3, 3, 10, true, false],
          ['U', 3, 0, null, false, true],
          // One buyer, who did not buy it again: too few to say.
          ['M', 1, 0, null, false, false],
        ],
      );
      // With 4 buyers required, U's 3 are too few.
      assert.deepEqual(
        (await repurchaseCycles(db, build.id, { minBuyers: 4 })).map((c) => c.notBoughtAgain),
        [false, false, false],
      );
      assert.deepEqual(
        (await repurchaseCycles(db, build.id, { limit: 1 })).map((c) => c.sku),
        ['T'],
      );
    });

    test('due replenishments: from the due day’s start until 2 cycles have passed, by customer', async () => {
      const db = t.store.db;
      // Cycle 10. Day 25: c1 (last day 10, due day 20, 15 days ago) and c3 (last day 15, due day 25 from its
      // start) are due; c2 (last day 20) is due on day 30.
      assert.deepEqual(await dueReplenishments(db, day(25)), [
        {
          customerId: id.c1,
          productId: id.T,
          sku: 'T',
          lastBoughtAt: day(10),
          cycleDays: 10,
          dueOn: '1970-01-21',
        },
        {
          customerId: id.c3,
          productId: id.T,
          sku: 'T',
          lastBoughtAt: day(15),
          cycleDays: 10,
          dueOn: '1970-01-26',
        },
      ]);
      // Day 30: c1's 20 days are 2 cycles exactly, still due; day 30 + 1 ms: ended, and c2 is due.
      assert.deepEqual(
        (await dueReplenishments(db, day(30))).map((d) => d.customerId),
        [id.c1, id.c2, id.c3],
      );
      assert.deepEqual(
        (await dueReplenishments(db, day(30) + 1)).map((d) => d.customerId),
        [id.c2, id.c3],
      );
      // No build was made by day 20.
      assert.deepEqual(await dueReplenishments(db, day(20)), []);
    });

    test('a customer without history gets best-sellers, and is told so', async () => {
      const r = await recommendForCustomer(t.store.db, 999_999);
      assert.deepEqual(
        r.items.map((i) => [i.sku, i.reason.kind]),
        [
          ['T', 'popular'],
          ['U', 'popular'],
          ['M', 'popular'],
        ],
      );
      assert.equal(r.note, 'no purchase history the build can use: these are best-sellers');
    });
  });
}
