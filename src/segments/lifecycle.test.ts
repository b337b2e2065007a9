import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import {
  computeLifecycle,
  gapThresholds,
  type LifecycleStage,
  lifecycleMigration,
  lifecycleStage,
  quantile,
} from './lifecycle.js';
import { type LabelChange, refreshSegments } from './segments.queries.js';

const T = Date.UTC(2025, 5, 1);

test('quantiles interpolate between ranks, and thresholds fall back without repeat orders', () => {
  const sorted = Float64Array.from([10, 20, 30, 40, 50]);
  assert.equal(quantile(sorted, 0.8), 42);
  assert.equal(quantile(sorted, 0.95), 48);
  assert.deepEqual(gapThresholds(Float64Array.from([50, 10, 40, 20, 30])), {
    atRiskDays: 42,
    lapsedDays: 48,
    churnedDays: 96,
    gaps: 5,
  });
  assert.deepEqual(gapThresholds(new Float64Array()), { atRiskDays: 90, lapsedDays: 180, churnedDays: 360, gaps: 0 });
});

test('with model scores the stage follows P(alive) and the expected next order', () => {
  const th = gapThresholds(new Float64Array());
  const stage = (pAlive: number, nextOrderAt: number | null = null, sales = 3) =>
    lifecycleStage({ sales, daysSinceLastSale: 1, asOf: T, scores: { pAlive, nextOrderAt } }, th).stage;
  assert.equal(stage(0.05), 'churned');
  assert.equal(stage(0.1), 'lapsed');
  assert.equal(stage(0.29), 'lapsed');
  assert.equal(stage(0.3), 'at_risk');
  assert.equal(stage(0.6), 'active');
  assert.equal(stage(0.9, T - 1), 'at_risk');
  assert.equal(stage(0.9, T), 'active');
  assert.equal(stage(0.9, T + DAY, 1), 'new');
});

test('a customer silent beyond the store’s gaps is never new or active, whatever P(alive) says', () => {
  // BG/NBD gives every one-time buyer P(alive) = 1; a 728-day silence is churned on the fallback
  // thresholds (lapsed beyond 180 days, churned beyond 360), with the edges exclusive.
  const th = gapThresholds(new Float64Array());
  const stage = (days: number, sales = 1) =>
    lifecycleStage({ sales, daysSinceLastSale: days, asOf: T, scores: { pAlive: 1, nextOrderAt: null } }, th);
  assert.equal(stage(728).stage, 'churned');
  assert.match(stage(728).reason, /728 days since last order, beyond 360 \(P\(alive\) 1\.000 overruled/);
  assert.equal(stage(361).stage, 'churned');
  assert.equal(stage(360).stage, 'lapsed');
  assert.equal(stage(181).stage, 'lapsed');
  assert.equal(stage(180).stage, 'new');
  assert.equal(stage(180, 4).stage, 'active');
  assert.equal(stage(400, 4).stage, 'churned');
  // The store's own percentiles overrule the model from 30 gaps on, not on 29.
  const silent = (gaps: number) =>
    lifecycleStage(
      { sales: 1, daysSinceLastSale: 100, asOf: T, scores: { pAlive: 1, nextOrderAt: null } },
      gapThresholds(new Float64Array(gaps).fill(10)),
    ).stage;
  assert.equal(silent(29), 'new');
  assert.equal(silent(30), 'churned');
});

for (const dialect of DIALECTS) {
  describe(`lifecycle stages on hand-made histories on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const expected = new Map<number, LifecycleStage>();
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      // Five repeat customers with gaps of 10 … 50 days, last bought yesterday: p80 = 42, p95 = 48, churned beyond 96.
      for (const gap of [10, 20, 30, 40, 50]) {
        const id = await addCustomer(db);
        await addOrder(db, id, { at: T - DAY - gap * DAY });
        await addOrder(db, id, { at: T - DAY });
        expected.set(id, 'active');
      }
      const single: Array<[number, LifecycleStage]> = [
        [0, 'new'],
        [42, 'new'],
        [43, 'at_risk'],
        [48, 'at_risk'],
        [49, 'lapsed'],
        [96, 'lapsed'],
        [97, 'churned'],
      ];
      for (const [days, stage] of single) {
        const id = await addCustomer(db);
        // The as-of is exclusive: "0 days" is the last instant before it.
        await addOrder(db, id, { at: T - days * DAY - (days === 0 ? 1 : 0) });
        expected.set(id, stage);
      }
      // Orders after asOf do not count; a customer with only those has no stage yet.
      const later = await addCustomer(db);
      await addOrder(db, later, { at: T + DAY });
    });
    after(async () => t?.drop());

    test('stages come from the store’s own days between orders, edges included', async () => {
      const { thresholds, customers } = await computeLifecycle(t.store.db, { asOf: T });
      assert.deepEqual(thresholds, { atRiskDays: 42, lapsedDays: 48, churnedDays: 96, gaps: 5 });
      assert.equal(customers.length, expected.size);
      for (const c of customers)
        assert.equal(c.stage, expected.get(c.customerId), `customer ${c.customerId}: ${c.reason}`);
    });

    test('stage changes are recorded once as segment_exited / segment_entered events', async () => {
      const db = t.store.db;
      const first = await refreshSegments(db, { asOf: T });
      assert.equal(first.changes.lifecycle, expected.size);
      assert.equal(first.changes.stageMoves, 0, 'everyone enters; nobody had a stage to leave');
      const again = await refreshSegments(db, { asOf: T });
      assert.equal(first.changes.events, expected.size, 'one segment_entered per customer');
      assert.deepEqual(again.changes, { rfm: 0, persona: 0, lifecycle: 0, total: 0, stageMoves: 0, events: 0 });
      // Ten days on, nobody ordered: the new customer at 42 days is at risk, the one at 43 lapsed …
      const later = T + 10 * DAY;
      const seen: LabelChange[] = [];
      const moved = await refreshSegments(db, { asOf: later, onChange: (c) => seen.push(c) });
      const lifecycleMoves = seen.filter((c) => c.kind === 'lifecycle');
      assert.ok(lifecycleMoves.length > 0);
      assert.equal(moved.changes.lifecycle, lifecycleMoves.length);
      assert.equal(moved.changes.total, seen.length);
      assert.equal(moved.changes.stageMoves, lifecycleMoves.filter((m) => m.from !== null).length);
      await refreshSegments(db, { asOf: later });
      const events = await db
        .selectFrom('events')
        .select(['type', 'event', 'customer_id', 'properties', 'message_id'])
        .where('type', 'in', ['segment_entered', 'segment_exited'])
        // Dated on the as-of's day (its last millisecond), not at the next midnight the as-of is.
        .where('occurred_at', '=', later - 1)
        .execute();
      // The customer whose first order came after T enters without leaving anything.
      assert.equal(
        events.length,
        lifecycleMoves.reduce((n, m) => n + (m.from === null ? 0 : 1) + (m.to === null ? 0 : 1), 0),
      );
      assert.equal(moved.changes.events, events.length, 'the summary counts the events it wrote');
      assert.equal(lifecycleMoves.filter((m) => m.from === null).length, 1);
      for (const move of lifecycleMoves) {
        const exited = events.find((e) => e.type === 'segment_exited' && Number(e.customer_id) === move.customerId);
        const entered = events.find((e) => e.type === 'segment_entered' && Number(e.customer_id) === move.customerId);
        assert.equal(exited?.event ?? null, move.from);
        assert.equal(entered?.event, move.to);
        assert.deepEqual(JSON.parse(entered!.properties), { kind: 'lifecycle', from: move.from, to: move.to });
        assert.equal(entered?.message_id, `lifecycle:${move.customerId}:2025-06-11:${move.to}`);
      }
      const stored = await db
        .withTables<{ customer_segments: { customer_id: number; kind: string; value: string; since: number } }>()
        .selectFrom('customer_segments')
        .select(['customer_id', 'value', 'since'])
        .where('kind', '=', 'lifecycle')
        .execute();
      for (const row of stored) {
        const wasMoved = lifecycleMoves.some((m) => m.customerId === Number(row.customer_id));
        assert.equal(Number(row.since), wasMoved ? later : T);
      }
    });

    test('the migration matrix counts how customers moved between two dates', async () => {
      const matrix = await lifecycleMigration(t.store.db, { from: T, to: T + 10 * DAY });
      const at = (from: string, to: string) =>
        matrix.counts[matrix.stages.indexOf(from as LifecycleStage)]![matrix.stages.indexOf(to as LifecycleStage)]!;
      const total = matrix.counts.flat().reduce((s, n) => s + n, 0);
      assert.equal(total, expected.size + 1);
      assert.equal(at('none', 'new'), 1);
      // 42 → 52 days: new → lapsed (beyond 48); 0 → 10 days: stays new.
      assert.equal(at('new', 'new'), 1);
      assert.equal(at('new', 'lapsed'), 1);
      assert.equal(at('churned', 'churned'), 1);
      assert.equal(at('lapsed', 'churned'), 1);
    });
  });
}
