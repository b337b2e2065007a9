import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { samplePath } from '../../shared/paths.js';
import type { Io } from '../io.js';
import { main } from '../main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const io: Io = { out: sink((s) => (out += s)), err: sink((s) => (err += s)) };
  const code = await main(['node', 'comeback', ...args], io, {});
  return { code, out, err };
}

for (const dialect of DIALECTS) {
  describe(`comeback import --format shopify-products and comeback recommend on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(() => dropWhenClosed(t));

    test('products export, a build, an answer naming its build; usage and input errors exit 2 and 1', async () => {
      const orders = await run([
        'import',
        samplePath('shopify', 'orders_export_1.devstore.redacted.csv'),
        '--format',
        'shopify',
        '--db',
        t.url,
      ]);
      assert.equal(orders.code, 0, orders.err);
      const products = await run([
        'import',
        samplePath('products', 'products_export_1.csv'),
        '--format',
        'shopify-products',
        '--db',
        t.url,
      ]);
      assert.equal(products.code, 0, products.err);
      assert.match(products.out, /9 products \(4 new, 5 changed, 9 prices recorded\)/);
      const again = await run([
        'import',
        samplePath('products', 'products_export_1.csv'),
        '--format',
        'shopify-products',
        '--db',
        t.url,
      ]);
      assert.match(again.out, /9 products \(0 new, 0 changed, 0 prices recorded\)/);

      // No build yet: the first answer builds one and says so on stderr.
      const first = await run([
        'recommend',
        'customer-a@example.com',
        '--method',
        'similar',
        '--seed',
        'WH-BT-001',
        '--json',
        '--db',
        t.url,
      ]);
      assert.equal(first.code, 0, first.err);
      assert.match(first.err, /no recommendation build yet/);
      const answer = JSON.parse(first.out);
      assert.equal(answer.buildId, 1);
      assert.equal(answer.method, 'similar');
      for (const item of answer.items) {
        assert.ok(!['YM-ECO-001', 'BM-TRV-350', 'CT-NAT-001', 'WH-BT-001'].includes(item.sku), item.sku);
        assert.equal(item.currency, 'INR');
      }

      assert.equal((await run(['recommend', '--db', t.url])).code, 2);
      assert.equal((await run(['recommend', '1', '--method', 'magic', '--db', t.url])).code, 2);
      assert.equal((await run(['recommend', '1', '--n', '0', '--db', t.url])).code, 2);
      const unknown = await run(['recommend', 'nobody@example.com', '--db', t.url]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.err, /no customer/);
      const evaluation = await run(['recommend', '--evaluate', '--db', t.url]);
      assert.equal(evaluation.code, 0, evaluation.err);
      assert.match(evaluation.out, /popular \(baseline\)/);
      assert.match(evaluation.out, /warning: only \d+ customers have an order on both sides of the cut/);
    });
  });
}
