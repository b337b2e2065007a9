import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { duckRows } from '../../test/duck.js';
import { copyCustomersReversed } from '../../test/renumbered.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { importFile } from '../ingest/index.js';
import { samplePath } from '../shared/paths.js';
import { computeClusters, uniqueLabels } from './clusters.js';
import { quintileScores } from './quintiles.js';
import { computeRfm } from './rfm.js';
import { RFM_RULES, rfmGroup } from './rfm-groups.js';

const RETAIL = samplePath('online-retail', 'online-retail-sample.csv.gz');
const AS_OF = Date.UTC(2011, 11, 10);

test('quintile scores keep ties together at the middle of their ranks and spread distinct values over 1–5', () => {
  assert.deepEqual([...quintileScores([10, 20, 30, 40, 50], true)], [1, 2, 3, 4, 5]);
  assert.deepEqual([...quintileScores([10, 20, 30, 40, 50], false)], [5, 4, 3, 2, 1]);
  // Six of ten bought once: 0 below, 6 level → 1 + floor(5·(0 + 3)/10) = 2; the twos: 1 + floor(5·(6 + 1)/10) = 4;
  // the three: 1 + floor(5·8.5/10) = 5; the nine: 1 + floor(5·9.5/10) = 5.
  assert.deepEqual([...quintileScores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9], true)], [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]);
  // One customer, or everyone tied: the middle score, never the worst.
  assert.deepEqual([...quintileScores([7], true)], [3]);
  assert.deepEqual([...quintileScores([0, 0, 0, 0], false)], [3, 3, 3, 3]);
  // Two values 50/50: 1 + floor(5·1/4) = 2 and 1 + floor(5·3/4) = 4.
  assert.deepEqual([...quintileScores([1, 1, 5, 5], true)], [2, 2, 4, 4]);
  // The best recency (fewest days) scores at least 3 however many share it: 1 + floor(5·(n − t/2)/n) ≥ 3.
  for (const tied of [1, 2, 5, 9, 10]) {
    const days = [...Array.from({ length: tied }, () => 0), ...Array.from({ length: 10 - tied }, (_, i) => i + 1)];
    assert.ok(quintileScores(days, false)[0]! >= 3, `${tied} tied at 0 days`);
  }
});

test('cluster labels that coincide are told apart by the feature that stands out, then by number', () => {
  const features = ['recency_days', 'log_orders', 'log_spend', 'discount_share', 'country:DE', 'country:FR'];
  const centres: Record<number, number[]> = {
    0: [-1, 1, 1, 0.1, -0.2, -0.2],
    1: [-1, 1, 1, 0.2, 3.4, -0.3],
    2: [1, -1, -1, 0, 0, 0],
    3: [1, -1, -1, 0.1, 0, 0.3],
  };
  const cards = [
    { cluster: 0, label: 'recent, frequent, high spend' },
    { cluster: 1, label: 'recent, frequent, high spend' },
    { cluster: 2, label: 'long gone, rare, low spend' },
    { cluster: 3, label: 'long gone, rare, low spend' },
  ];
  uniqueLabels(cards, (c) => centres[c.cluster]!, features);
  assert.deepEqual(
    cards.map((c) => c.label),
    [
      'recent, frequent, high spend',
      'recent, frequent, high spend, in DE',
      'long gone, rare, low spend (cluster 2)',
      'long gone, rare, low spend (cluster 3)',
    ],
  );
});

test('the group table is the published recency × frequency map, with Lost cut out of hibernating', () => {
  // The regular-expression map over the two-digit RF score, typed here from the tutorials it comes from.
  const segMap: Array<[RegExp, string]> = [
    [/^[1-2][1-2]$/, 'Hibernating'],
    [/^[1-2][3-4]$/, 'At risk'],
    [/^[1-2]5$/, 'Cannot lose them'],
    [/^3[1-2]$/, 'About to sleep'],
    [/^33$/, 'Need attention'],
    [/^[3-4][4-5]$/, 'Loyal'],
    [/^41$/, 'Promising'],
    [/^51$/, 'New customers'],
    [/^[4-5][2-3]$/, 'Potential loyalist'],
    [/^5[4-5]$/, 'Champions'],
  ];
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++)
      for (let m = 1; m <= 5; m++) {
        const cells = segMap.filter(([re]) => re.test(`${r}${f}`));
        assert.equal(cells.length, 1, `${r}${f} is in exactly one cell`);
        const expected = r === 1 && f <= 2 && m <= 2 ? 'Lost' : cells[0]![1];
        assert.equal(rfmGroup(r, f, m).group, expected, `R=${r} F=${f} M=${m}`);
      }
});

test('the RFM group table covers all 125 score combinations and names the matching rule', () => {
  const seen = new Set<string>();
  for (let r = 1; r <= 5; r++)
    for (let f = 1; f <= 5; f++)
      for (let m = 1; m <= 5; m++) {
        const { group, reason } = rfmGroup(r, f, m);
        seen.add(group);
        assert.match(reason, new RegExp(`^R=${r} F=${f} M=${m} matches ${group} \\(`));
      }
  assert.equal(seen.size, 11);
  assert.deepEqual([...seen].sort(), RFM_RULES.map((rule) => rule.group).sort());
  assert.equal(rfmGroup(5, 5, 1).group, 'Champions');
  assert.equal(rfmGroup(1, 1, 1).group, 'Lost');
  assert.equal(rfmGroup(1, 1, 3).group, 'Hibernating');
  assert.equal(rfmGroup(2, 5, 5).group, 'Cannot lose them');
});

for (const dialect of DIALECTS) {
  describe(`RFM on the Online Retail sample on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let dir: string;
    before(async () => {
      t = await freshDatabase(dialect.name);
      dir = tempDir('comeback-rfm-');
      await importFile(t.store.db, RETAIL, { format: 'online-retail', now: AS_OF });
    });
    after(async () => {
      await t?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('scores and groups equal an independent DuckDB computation over the stored orders', async () => {
      const result = await computeRfm(t.store.db, { asOf: AS_OF });
      assert.equal(result.currency, 'GBP');
      assert.ok(result.customers.length > 400, `${result.customers.length} customers scored`);

      // Plain rows out of the store, aggregated and scored by DuckDB's own SQL (rank() with ties).
      const orders = await t.store.db
        .selectFrom('orders')
        .select(['customer_id', 'placed_at', 'status', 'currency', 'total_minor', 'refunded_minor'])
        .where('customer_id', 'is not', null)
        .execute();
      const csv = join(dir, 'orders.csv');
      writeFileSync(
        csv,
        `customer_id,placed_at,status,currency,total_minor,refunded_minor\n${orders
          .map((o) => [o.customer_id, o.placed_at, o.status, o.currency, o.total_minor, o.refunded_minor].join(','))
          .join('\n')}\n`,
      );
      const expected = await duckRows(`
        with s as (
          select customer_id, floor((${AS_OF} - max(placed_at)) / 86400000) as rec, count(*) as freq,
            sum(total_minor - refunded_minor) as mon
          from read_csv('${csv}', header = true)
          where status in ('paid', 'partially_refunded') and currency = 'GBP' and placed_at < ${AS_OF}
          group by customer_id
        ),
        -- Mid-rank quintiles: (customers strictly worse + half of those level) / n, written with DuckDB's rank().
        scored as (
          select customer_id, rec, freq, mon,
            least(5, 1 + floor(5 * ((rank() over (order by rec desc) - 1) + (count(*) over (partition by rec)) / 2) / count(*) over ())) as r,
            least(5, 1 + floor(5 * ((rank() over (order by freq) - 1) + (count(*) over (partition by freq)) / 2) / count(*) over ())) as f,
            least(5, 1 + floor(5 * ((rank() over (order by mon) - 1) + (count(*) over (partition by mon)) / 2) / count(*) over ())) as m
          from s
        )
        select customer_id, rec, freq, mon, r, f, m,
          case
            when r = 5 and f >= 4 then 'Champions'
            when r in (3, 4) and f >= 4 then 'Loyal'
            when r >= 4 and f in (2, 3) then 'Potential loyalist'
            when r = 5 and f = 1 then 'New customers'
            when r = 4 and f = 1 then 'Promising'
            when r = 3 and f = 3 then 'Need attention'
            when r = 3 then 'About to sleep'
            when f = 5 then 'Cannot lose them'
            when f >= 3 then 'At risk'
            when r = 1 and m <= 2 then 'Lost'
            else 'Hibernating'
          end as grp
        from scored order by customer_id`);
      assert.equal(result.customers.length, expected.length);
      const ours = new Map(result.customers.map((c) => [c.customerId, c]));
      for (const row of expected) {
        const c = ours.get(Number(row.customer_id));
        assert.ok(c, `customer ${row.customer_id} scored`);
        assert.deepEqual(
          [c.recencyDays, c.frequency, c.monetaryMinor, c.r, c.f, c.m, c.group],
          [Number(row.rec), Number(row.freq), Number(row.mon), Number(row.r), Number(row.f), Number(row.m), row.grp],
          `customer ${row.customer_id}`,
        );
        assert.match(c.reason, new RegExp(`^R=${c.r} F=${c.f} M=${c.m} matches ${c.group}`));
      }
      const groups = new Set(result.customers.map((c) => c.group));
      assert.ok(groups.size >= 8, `${groups.size} groups in use`);
    });

    test('recency and frequency agree with the raw file for customers who never cancelled', async () => {
      const raw = await duckRows(`
        with lines as (
          select "InvoiceNo" as inv, cast(cast("CustomerID" as double) as bigint) as cust,
            epoch_ms(cast("InvoiceDate" as timestamp)) as ts
          from read_csv('${RETAIL}', all_varchar = true) where "CustomerID" is not null
        )
        select cust, count(distinct inv) as freq, max(ts) as last_at from lines
        where cust not in (select cust from lines where inv like 'C%') and inv not like 'A%'
        group by cust`);
      const ids = await t.store.db
        .selectFrom('customer_identities')
        .select(['external_id', 'customer_id'])
        .where('source', '=', 'online-retail')
        .execute();
      const byExternal = new Map(ids.map((i) => [Number(i.external_id), Number(i.customer_id)]));
      const ours = new Map((await computeRfm(t.store.db, { asOf: AS_OF })).customers.map((c) => [c.customerId, c]));
      assert.ok(raw.length > 200);
      for (const row of raw) {
        const c = ours.get(byExternal.get(Number(row.cust))!);
        assert.ok(c, `customer ${row.cust}`);
        assert.equal(c.frequency, Number(row.freq), `frequency of ${row.cust}`);
        assert.equal(c.recencyDays, Math.floor((AS_OF - Number(row.last_at)) / 86_400_000), `recency of ${row.cust}`);
      }
    });

    test('clusters become persona cards that cover every scored customer, the same on every run', async () => {
      const a = await computeClusters(t.store.db, { asOf: AS_OF, k: 4 });
      const b = await computeClusters(t.store.db, { asOf: AS_OF, k: 4 });
      assert.deepEqual(a.members, b.members);
      const scored = (await computeRfm(t.store.db, { asOf: AS_OF })).customers.length;
      assert.equal(a.members.length, scored);
      assert.equal(
        a.cards.reduce((s, c) => s + c.size, 0),
        scored,
      );
      assert.ok(Math.abs(a.cards.reduce((s, c) => s + c.revenueShare, 0) - 1) < 1e-9);
      assert.ok(a.cards.length >= 3);
      for (const card of a.cards) {
        assert.ok(card.typicalOrderMinor > 0 && card.typicalOrders >= 1, card.label);
        assert.ok(card.topCountries.length > 0);
        assert.equal(card.gender, null);
      }
      assert.ok(a.features.includes('country:GB'), 'countries stored as ISO codes on import');
      assert.equal(new Set(a.cards.map((c) => c.label)).size, a.cards.length, 'no two cards share a label');
    });

    test('the same customers numbered in another order get the same clusters', async () => {
      // SQLite and PostgreSQL number the customers of one import differently; here the customers are
      // created in the reverse order of their ids before the same file is imported.
      const other = await freshDatabase(dialect.name);
      try {
        const renumbered = await copyCustomersReversed(t.store.db, other.store.db);
        await importFile(other.store.db, RETAIL, { format: 'online-retail', now: AS_OF });
        const a = await computeClusters(t.store.db, { asOf: AS_OF, k: 5 });
        const b = await computeClusters(other.store.db, { asOf: AS_OF, k: 5 });
        assert.ok(
          [...renumbered].some(([from, to]) => from !== to),
          'the ids differ',
        );
        assert.deepEqual(
          b.cards.map((c) => [c.size, c.label]),
          a.cards.map((c) => [c.size, c.label]),
        );
        const labelA = new Map(a.cards.map((c) => [c.cluster, c.label]));
        const labelB = new Map(b.cards.map((c) => [c.cluster, c.label]));
        const inB = new Map(b.members.map((m) => [m.customerId, labelB.get(m.cluster)]));
        for (const m of a.members) assert.equal(inB.get(renumbered.get(m.customerId)!), labelA.get(m.cluster));
      } finally {
        await other.drop();
      }
    });
  });
}
