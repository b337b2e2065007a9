import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { euroOrder } from '../../test/recommend-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ImportWriter, importFile, ProductWriter } from '../ingest/index.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { samplePath } from '../shared/paths.js';
import type { Db } from '../store/index.js';
import { buildRecommendations, evaluateStore, recommendationsBlock, recommendForCustomer } from './recommend.js';
import { latestBuild, type RecommendTables } from './recommend.queries.js';

const day = (d: number) => d * MS_PER_DAY;
const NOW = day(30);

const order = euroOrder;

/** The hand-made baskets of recommend.test.ts, stored through the importer's writer. */
async function seed(db: Db): Promise<number> {
  await db.transaction().execute(async (trx) => {
    const catalogue = new ProductWriter(trx, 'test', day(0));
    const product = (sku: string, category: string | undefined, currency = 'EUR') => ({
      sku,
      title: `Product ${sku}`,
      category,
      tags: [],
      status: 'active' as const,
      priceMinor: 1000,
      currency,
    });
    await catalogue.write([
      product('A', 'Tea'),
      product('B', 'Tea'),
      product('C', 'Cups'),
      product('D', 'Cups', 'USD'),
      product('E', undefined),
    ]);
    const writer = new ImportWriter(trx, 'test', day(0));
    await writer.writeOrders([
      order('o0', 'c0', 0, ['A', 'B']),
      order('o1', 'c1', 1, ['A', 'B', 'C']),
      order('o2', 'c2', 2, ['A', 'C']),
      order('o3', 'c0', 10, ['A']),
      order('o4', 'c3', 3, ['B', 'D']),
      order('o5', undefined, 4, ['A', 'B']),
      order('o6', 'c2', 15, ['C']),
      order('o7', undefined, 16, ['C']),
      order('x1', 'x', 19, ['A']),
    ]);
    await writer.finish();
  });
  const x = await db
    .selectFrom('customers')
    .select('id')
    .where('email', '=', 'x@example.com')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('events')
    .values({
      message_id: 'view-1',
      type: 'track',
      event: 'Product Viewed',
      customer_id: x.id,
      anonymous_id: null,
      session_id: null,
      properties: JSON.stringify({ sku: 'D' }),
      occurred_at: day(19),
      received_at: day(19),
    })
    .execute();
  return Number(x.id);
}

for (const dialect of DIALECTS) {
  describe(`stored builds and answers on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let x: number;
    before(async () => {
      t = await freshDatabase(dialect.name);
      x = await seed(t.store.db);
    });
    after(async () => t?.drop());

    test('a build stores lift and cosine neighbours as computed by hand', async () => {
      const db = t.store.db;
      const summary = await buildRecommendations(db, { asOf: day(19), now: NOW });
      assert.equal(summary.orders, 8);
      assert.equal(summary.customers, 4);
      const rows = await db
        .withTables<Pick<RecommendTables, 'recommend_neighbours'>>()
        .selectFrom('recommend_neighbours as n')
        .innerJoin('products as p', 'p.id', 'n.product_id')
        .select(['n.relation', 'n.neighbours'])
        .where('n.build_id', '=', summary.buildId)
        .where('n.relation', 'in', ['bought_with', 'similar'])
        .where('p.sku', '=', 'A')
        .orderBy('n.relation')
        .execute();
      const skus = new Map(
        (await db.selectFrom('products').select(['id', 'sku']).execute()).map((p) => [Number(p.id), p.sku]),
      );
      const round = (v: number) => Math.round(v * 1e9) / 1e9;
      assert.deepEqual(
        rows.flatMap((r) =>
          (JSON.parse(r.neighbours) as Array<[number, number, number]>).map(([id, score, support]) => [
            r.relation,
            skus.get(id),
            round(score),
            support,
          ]),
        ),
        [
          ['bought_with', 'B', 1.2, 3],
          ['bought_with', 'C', 0.8, 2],
          ['similar', 'C', round(2 / Math.sqrt(6)), 2],
          ['similar', 'B', round(2 / 3), 2],
        ],
      );
    });

    test('one customer: history plus the build rows; already bought, other currency left out; the build named', async () => {
      const db = t.store.db;
      const build = (await latestBuild(db))!;
      const r = await recommendForCustomer(db, x, { n: 5 });
      assert.equal(r.buildId, build.id);
      assert.equal(r.currency, 'EUR');
      // C (from A), B (from A, plus the view of D); A was bought; D is priced in USD; E nobody bought.
      assert.deepEqual(
        r.items.map((i) => [i.sku, i.reason.kind, i.reason.text]),
        [
          ['C', 'because_you_bought', 'Because you bought Product A'],
          ['B', 'because_you_bought', 'Because you bought Product A'],
        ],
      );
      assert.equal(r.note, 'only 2 items qualify');
    });

    test('archived and out-of-stock products drop out of the next answer', async () => {
      const db = t.store.db;
      await db.updateTable('products').set({ status: 'archived' }).where('sku', '=', 'C').execute();
      const r = await recommendForCustomer(db, x, { n: 5 });
      assert.deepEqual(
        r.items.map((i) => i.sku),
        ['B'],
      );
      await db.updateTable('products').set({ inventory_quantity: 0 }).where('sku', '=', 'B').execute();
      const none = await recommendForCustomer(db, x, { n: 5 });
      assert.deepEqual(none.items, []);
      assert.equal(none.note, 'nothing to recommend with this method for this customer');
      await db
        .updateTable('products')
        .set({ status: 'active', inventory_quantity: 3 })
        .where('sku', 'in', ['B', 'C'])
        .execute();
      const block = await recommendationsBlock(db, x, { n: 1 });
      assert.deepEqual(block.items[0], {
        product_id: block.items[0]!.product_id,
        sku: 'C',
        title: 'Product C',
        url: null,
        image_url: null,
        price: '€10.00',
        compare_at_price: null,
        price_minor: 1000,
        currency: 'EUR',
        reason: 'Because you bought Product A',
        reason_kind: 'because_you_bought',
        price_drop: false,
        low_stock: true,
      });
    });

    test('on the bundled Online Retail sample the personal method beats popularity', async () => {
      const db = t.store.db;
      await importFile(db, samplePath('online-retail', 'online-retail-sample.csv.gz'), {
        format: 'online-retail',
        now: NOW,
      });
      // The sample's own orders only: the hand-made ones are in EUR and years apart.
      await db.deleteFrom('orders').where('source', '=', 'test').execute();
      const e = await evaluateStore(db, { methods: ['popular', 'personal'] });
      const [popular, personal] = e.methods;
      assert.ok(e.customers >= 100, `${e.customers} test customers`);
      assert.ok(
        personal!.hitRate > popular!.hitRate * 1.3,
        `personal ${personal!.hitRate} vs popular ${popular!.hitRate}`,
      );
      assert.ok(personal!.ndcg > popular!.ndcg);
    });
  });
}
