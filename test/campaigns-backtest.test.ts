import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { sql } from 'kysely';
import { backtestFlow, builtinFlows, saveMessagingSettings } from '../src/campaigns/index.js';
import { importFile } from '../src/ingest/index.js';
import { samplePath } from '../src/shared/paths.js';
import type { Db } from '../src/store/index.js';
import { createRetailRefunds, onlineRetailSales } from './duck.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const RETAIL = samplePath('online-retail', 'online-retail-sample.csv.gz');
const DAY = 86_400_000;
const FROM = Date.UTC(2011, 10, 1); // --from 2011-11-01
const TO = Date.UTC(2011, 11, 10); // --to 2011-12-09, the sample's last day, included

/** Type 7 quantile, written out here rather than borrowed from segments/. */
function q7(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * (sorted[Math.min(sorted.length - 1, lo + 1)]! - sorted[lo]!);
}

/**
 * The win-back entrants, independently: DuckDB reads the raw file into sales (net of cancellations);
 * the thresholds are the 80th and 95th percentiles of the days between a customer's consecutive sales;
 * a customer is at risk once the whole days since the last sale exceed the first (lapsed: the second,
 * gone once they exceed twice that) and enters at the first such instant in the period, never again.
 */
async function expectedEntrants(): Promise<Map<string, number>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await createRetailRefunds(connection, RETAIL);
    const rows = (
      await connection.runAndReadAll(
        `select customer, epoch_ms(ts) as at from (${onlineRetailSales(RETAIL)}) where customer is not null order by customer, ts`,
      )
    ).getRowObjectsJS() as Array<{ customer: string; at: bigint }>;
    const byCustomer = new Map<string, number[]>();
    for (const r of rows) byCustomer.set(r.customer, [...(byCustomer.get(r.customer) ?? []), Number(r.at)]);
    const gaps: number[] = [];
    for (const times of byCustomer.values())
      for (let i = 1; i < times.length; i++) gaps.push((times[i]! - times[i - 1]!) / DAY);
    gaps.sort((a, b) => a - b);
    const atRisk = q7(gaps, 0.8);
    const lapsed = q7(gaps, 0.95);
    const churned = 2 * lapsed;
    const expected = new Map<string, number>();
    for (const [customer, times] of byCustomer) {
      const entries: number[] = [];
      times.forEach((t, i) => {
        const next = times[i + 1] ?? Number.POSITIVE_INFINITY;
        for (const [threshold, ceiling] of [
          [atRisk, lapsed],
          [lapsed, churned],
        ] as const) {
          const days = Math.floor(threshold) + 1;
          if (days > ceiling) continue;
          const at = t + days * DAY;
          if (at < next && at >= FROM && at < TO) entries.push(at);
        }
      });
      if (entries.length > 0) expected.set(customer, Math.min(...entries));
    }
    return expected;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every row of every table, as text: equal before and after means nothing was written. */
async function snapshot(db: Db, dialect: string): Promise<string> {
  const tables =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
          db,
        );
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    const lines = rows.rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).sort();
    parts.push(`${name}:${lines.length}:${lines.join('\n')}`);
  }
  return parts.join('\n');
}

const winBack = builtinFlows().find((f) => f.key === 'win-back')!;

for (const dialect of DIALECTS) {
  describe(`flows backtest on the Online Retail sample on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, RETAIL, { format: 'online-retail', now: TO });
    });
    after(async () => {
      await t?.drop();
    });

    test('lists the win-back entrants an independent computation expects, and writes nothing', async () => {
      const expected = await expectedEntrants();
      assert.ok(expected.size > 20, `${expected.size} expected entrants`);
      const before = await snapshot(t.store.db, dialect.name);
      const report = await backtestFlow(t.store.db, winBack, { from: FROM, to: TO });
      assert.equal(await snapshot(t.store.db, dialect.name), before, 'the backtest changed the database');

      const got = new Map(report.entrants.map((e) => [e.externalId!, e.enteredAt]));
      assert.deepEqual(
        [...got.entries()].sort((a, b) => a[0].localeCompare(b[0])),
        [...expected.entries()].sort((a, b) => a[0].localeCompare(b[0])),
      );
      assert.equal(report.totals.treatment + report.totals.control, expected.size);
      // Nobody in the sample has an address or consent: the treated are skipped for it, the control held out.
      for (const e of report.entrants) {
        assert.ok(e.messages.length >= 1, `${e.externalId} has no message`);
        assert.equal(e.messages[0]!.stepId, 'remind');
        assert.equal(e.messages[0]!.at, e.enteredAt);
        for (const m of e.messages) {
          if (e.arm === 'control') assert.equal(m.outcome, 'held_out');
          else assert.deepEqual([m.outcome, m.reason], ['skipped', 'no_address:email']);
        }
      }
      // Someone who bought again after entering leaves at the next step with `ordered`.
      assert.ok(report.entrants.some((e) => e.end.status === 'exited' && e.end.reason === 'ordered'));
    });

    test('consent, the shared cap and quiet hours in the customer’s zone decide the messages', async () => {
      const first = await backtestFlow(t.store.db, winBack, { from: FROM, to: TO });
      // Two treated entrants who went through all three sends (no order, entered before the last 12 days).
      const full = first.entrants.filter(
        (e) => e.arm === 'treatment' && e.end.status === 'completed' && e.messages.length === 3,
      );
      assert.ok(full.length >= 2);
      const [a, b] = full as [(typeof full)[0], (typeof full)[0]];
      const db = t.store.db;
      await db
        .updateTable('customers')
        .set({ email: 'a@example.com', time_zone: 'Asia/Seoul' })
        .where('id', '=', a.customerId)
        .execute();
      await db.updateTable('customers').set({ email: 'b@example.com' }).where('id', '=', b.customerId).execute();
      await db
        .insertInto('customer_consents')
        .values([
          { customer_id: a.customerId, channel: 'email', granted: 1, updated_at: FROM - DAY, source: 'test' },
          // b consents only after their first message: the first is skipped, the later ones go.
          { customer_id: b.customerId, channel: 'email', granted: 1, updated_at: b.enteredAt + DAY, source: 'test' },
        ])
        .execute();
      await saveMessagingSettings(db, { quietHours: { start: '21:00', end: '08:00' }, cap: { count: 1, days: 7 } });
      const before = await snapshot(db, dialect.name);
      const report = await backtestFlow(db, winBack, { from: FROM, to: TO });
      assert.equal(await snapshot(db, dialect.name), before);

      const ra = report.entrants.find((e) => e.customerId === a.customerId)!;
      // Seoul is UTC+9 all year. Local wall time of an instant, then instants of local times, by hand.
      const KST = 9 * 3_600_000;
      const localMinute = ((a.enteredAt + KST) % DAY) / 60_000;
      const quiet = localMinute >= 21 * 60 || localMinute < 8 * 60;
      const localMidnight = Math.floor((a.enteredAt + KST) / DAY) * DAY - KST;
      const remindAt = !quiet
        ? a.enteredAt
        : localMinute >= 21 * 60
          ? localMidnight + DAY + 8 * 3_600_000
          : localMidnight + 8 * 3_600_000;
      assert.deepEqual(
        ra.messages.map((m) => [m.stepId, m.outcome, m.at]),
        [
          ['remind', 'would_send', remindAt],
          // The wait: four calendar days, then the next 10:00 in Seoul; within 7 days of the reminder: capped.
          [
            'offer',
            'skipped',
            (() => {
              const four = a.enteredAt + 4 * DAY;
              const ten = Math.floor((four + KST) / DAY) * DAY - KST + 10 * 3_600_000;
              return ten >= four ? ten : ten + DAY;
            })(),
          ],
          ['last', 'would_send', ra.messages[2]!.at],
        ],
      );
      assert.equal(ra.messages[0]!.reason, quiet ? 'quiet_hours' : null);
      assert.match(ra.messages[1]!.reason!, /^frequency_cap:1 marketing messages in 7 days$/);
      // The last call: seven calendar days after the offer step, at 10:00 in Seoul, 7 days after nothing sent.
      const lastWaitStart = ra.messages[1]!.at + 7 * DAY;
      const ten = Math.floor((lastWaitStart + KST) / DAY) * DAY - KST + 10 * 3_600_000;
      assert.equal(ra.messages[2]!.at, ten >= lastWaitStart ? ten : ten + DAY);

      const rb = report.entrants.find((e) => e.customerId === b.customerId)!;
      assert.deepEqual(
        rb.messages.map((m) => [m.stepId, m.outcome, m.reason?.split(':')[0] ?? null]),
        [
          ['remind', 'skipped', 'no_consent'],
          ['offer', 'would_send', rb.messages[1]!.reason === 'quiet_hours' ? 'quiet_hours' : null],
          ['last', 'would_send', rb.messages[2]!.reason === 'quiet_hours' ? 'quiet_hours' : null],
        ],
      );
      assert.equal(report.totals.wouldSend, 4);
      assert.equal(report.totals.skipped.frequency_cap, 1);
      assert.equal(report.totals.skipped.no_consent, 1);
    });

    test('an empty period and a trigger it cannot replay are refused, naming the field', async () => {
      await assert.rejects(backtestFlow(t.store.db, winBack, { from: TO, to: TO }), /the period is empty/);
      await assert.rejects(
        backtestFlow(t.store.db, { ...winBack, trigger: { type: 'subscribed' } }, { from: FROM, to: TO }),
        (e: { location?: { field: string } }) => e.location?.field === 'trigger.type',
      );
    });
  });
}
