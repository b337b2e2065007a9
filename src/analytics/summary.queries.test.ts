import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { importFile } from '../ingest/index.js';
import { samplePath } from '../shared/paths.js';
import { customerSummaries, holdoutPurchases } from './summary.queries.js';

const NOW = Date.UTC(2026, 0, 1);
const PUBLISHED = join(import.meta.dirname, '../../test/fixtures/cdnow/cdnow_customers_summary_with_transactions.csv');
const CALIBRATION_END = Date.UTC(1997, 9, 1);

for (const dialect of DIALECTS) {
  describe(`per-customer summaries on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let idOf: Map<number, number>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('cdnow', 'CDNOW_sample.txt'), { format: 'cdnow', now: NOW });
      const identities = await t.store.db
        .selectFrom('customer_identities')
        .select(['external_id', 'customer_id'])
        .where('source', '=', 'cdnow')
        .execute();
      idOf = new Map(identities.map((r) => [Number(r.customer_id), Number(r.external_id)]));
    });
    after(() => dropWhenClosed(t));

    test('CDNOW sample, calibration 1997-01-01 … 1997-09-30: x, t_x, T and zbar of the published summary', async () => {
      const s = await customerSummaries(t.store.db, {
        asOf: Date.UTC(1998, 6, 1),
        calibrationEnd: CALIBRATION_END,
        unit: 'week',
      });
      const lines = readFileSync(PUBLISHED, 'utf8').trim().split(/\r?\n/).slice(1);
      const published = new Map(
        lines.map((line) => {
          const [id, x, tx, T, zbar] = line.split(',').map(Number);
          return [id!, { x: x!, tx: tx!, T: T!, zbar: zbar! }];
        }),
      );
      assert.equal(s.count, 2357);
      assert.equal(published.size, 2357);
      assert.equal(s.currency, 'USD');
      let checked = 0;
      for (let i = 0; i < s.count; i++) {
        const id = idOf.get(s.customerIds[i]!)!;
        const p = published.get(id);
        assert.ok(p, `customer ${id} is in the published summary`);
        const got = {
          x: s.x[i]!,
          tx: Number(s.tx[i]!.toFixed(2)),
          T: Number(s.T[i]!.toFixed(2)),
        };
        assert.deepEqual(got, { x: p.x, tx: p.tx, T: p.T }, `customer ${id}`);
        // The published zbar is rounded to cents (half up, 22.345 → 22.35); compare within half a cent.
        assert.ok(
          Math.abs(s.monetary[i]! - p.zbar) <= 0.005 + 1e-9,
          `customer ${id}: zbar ${s.monetary[i]} vs ${p.zbar}`,
        );
        checked += 1;
      }
      assert.equal(checked, 2357);
      const first = [...idOf.entries()].find(([, external]) => external === 1)![0];
      const i = s.customerIds.indexOf(first);
      assert.equal(s.T[i], 272 / 7, 'T of customer 1 is 272 days = 38.86 weeks');
    });

    test('days as unit, order counts, spend and ages', async () => {
      const s = await customerSummaries(t.store.db, { asOf: CALIBRATION_END, unit: 'day' });
      const first = [...idOf.entries()].find(([, external]) => external === 1)![0];
      const i = s.customerIds.indexOf(first);
      // Customer 1 of the sample bought on 1997-01-01 (29.33), 1997-01-18 (29.73) and 1997-08-02 (14.96).
      assert.equal(s.x[i], 2);
      assert.equal(s.tx[i], 213);
      assert.equal(s.T[i], 272);
      assert.equal(s.orders[i], 3);
      assert.equal(s.repeatOrders[i], 2);
      assert.equal(Number(s.totalSpent[i]!.toFixed(2)), 74.02);
      assert.equal(Number(s.monetary[i]!.toFixed(3)), 22.345);
      assert.equal(s.recencyDays[i], 272 - 213);
      assert.equal(s.firstOrderAt[i], Date.UTC(1997, 0, 1));
      assert.equal(s.lastOrderAt[i], Date.UTC(1997, 7, 2));
    });

    test('hold-out purchases: distinct days in the 39 weeks after calibration, aligned with the summary', async () => {
      const s = await customerSummaries(t.store.db, { asOf: Date.UTC(1998, 6, 1), calibrationEnd: CALIBRATION_END });
      const h = await holdoutPurchases(t.store.db, {
        calibrationEnd: CALIBRATION_END,
        holdoutEnd: Date.UTC(1998, 6, 1),
      });
      assert.deepEqual([...h.customerIds], [...s.customerIds]);
      const lines = readFileSync(samplePath('cdnow', 'CDNOW_sample.txt'), 'utf8').trim().split(/\r?\n/);
      const days = new Set<string>();
      for (const line of lines) {
        const [, id, date] = line.trim().split(/\s+/);
        if (date! >= '19971001' && date! <= '19980630') days.add(`${Number(id)}-${date}`);
      }
      assert.equal(
        h.purchases.reduce((a, b) => a + b, 0),
        days.size,
      );
    });
  });
}
