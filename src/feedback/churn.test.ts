import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer, addOrder } from '../../test/loyalty-fixtures.js';
import { runCli } from '../../test/run-cli.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { groupAssignment } from '../analytics/index.js';
import { computeLifecycle } from '../segments/lifecycle.js';
import { importFeedbackCsv } from './import.js';
import { feedbackReport } from './report.queries.js';

const d = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/**
 * Four customers (D bought once, in June 2024, and is active in none of the periods), too few repeat purchases to derive a window (the 365-day fallback), so by hand:
 * A bought on 2025-01-10 only, B on 2025-09-15 only, C on 2025-12-01 and 2026-01-15.
 * January 2026: active at the start (a sale in [2025-01-01, 2026-01-01)) A, B, C = 3; active at the
 * end (a sale in [2025-02-01, 2026-02-01)) B, C; lost A: churn 1/3.
 * February 2026: start [2025-02-01, 2026-02-01) B, C = 2; end [2025-03-01, 2026-03-01) B, C: churn 0.
 * Over January–February, by lifecycle stage at its start, 2026-01-01: no repeat purchase before it, so
 * the fallback thresholds (at risk beyond 90 days, lapsed beyond 180, churned beyond 360). A is 356 days
 * silent, lapsed; B 108 days, at risk; C 31 days with one sale, new; D 579 days, churned. Lapsed 1 of 1,
 * at risk 0 of 1, new 0 of 1; D, churned, was not active at the start: a row only for D's reason.
 * The stored stages ("churned" for A and B, as a refresh after they left would say) are not used: by
 * them churn would be true by definition.
 */
for (const dialect of DIALECTS) {
  describe(`churn beside the exit reasons on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('per month and per lifecycle stage, as the retention report counts it', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        const a = await addCustomer(db, { email: 'a@example.com', at: d('2025-01-01') });
        const b = await addCustomer(db, { email: 'b@example.com', at: d('2025-01-01') });
        const c = await addCustomer(db, { email: 'c@example.com', at: d('2025-01-01') });
        // D's one order in June 2024 starts the history a whole window before the months asked about.
        const dd = await addCustomer(db, { email: 'd@example.com', at: d('2024-06-01') });
        await addOrder(db, { customerId: dd, placedAt: d('2024-06-01'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: a, placedAt: d('2025-01-10'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: b, placedAt: d('2025-09-15'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: c, placedAt: d('2025-12-01'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: c, placedAt: d('2026-01-15'), subtotalMinor: 1000 });
        await db
          .withTables<{
            customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
          }>()
          .insertInto('customer_segments')
          .values([
            { customer_id: a, kind: 'lifecycle', value: 'churned', since: d('2026-02-01'), reason: 'test' },
            { customer_id: b, kind: 'lifecycle', value: 'churned', since: d('2026-02-01'), reason: 'test' },
          ])
          .execute();
        const csv = [
          'survey,customer,answered_at,reason',
          'exit,a@example.com,2026-01-20,too_expensive',
          'exit,b@example.com,2026-02-10,just_forgot',
          'exit,d@example.com,2026-02-20,found_better',
        ].join('\n');
        await importFeedbackCsv(db, csv, { file: 'exit.csv', now: d('2026-03-01') });
        const report = await feedbackReport(db, { asOf: d('2026-03-01') });
        const churn = report.exitReasons.churn;
        assert.equal(churn.currency, 'GBP');
        assert.equal(churn.activeWindowDays, 365);
        assert.deepEqual(churn.byMonth, [
          { month: '2026-01', partial: false, customersStart: 3, customersLost: 1, churnRate: 1 / 3 },
          { month: '2026-02', partial: false, customersStart: 2, customersLost: 0, churnRate: 0 },
        ]);
        assert.deepEqual(churn.span, { from: d('2026-01-01'), to: d('2026-03-01') });
        assert.deepEqual(churn.bySegment, [
          { segment: 'at_risk', customersStart: 1, customersLost: 0, churnRate: 0 },
          { segment: 'churned', customersStart: 0, customersLost: 0, churnRate: null },
          { segment: 'lapsed', customersStart: 1, customersLost: 1, churnRate: 1 },
          { segment: 'new', customersStart: 1, customersLost: 0, churnRate: 0 },
        ]);
        // The reasons by the same stages.
        assert.deepEqual(report.exitReasons.bySegment, [
          { segment: 'at_risk', reason: 'just_forgot', answers: 1 },
          { segment: 'churned', reason: 'found_better', answers: 1 },
          { segment: 'lapsed', reason: 'too_expensive', answers: 1 },
        ]);
        assert.equal(churn.note, null);

        // The reasons themselves are where they were.
        assert.deepEqual(report.exitReasons.byMonth, [
          { month: '2026-01', reason: 'too_expensive', answers: 1 },
          { month: '2026-02', reason: 'found_better', answers: 1 },
          { month: '2026-02', reason: 'just_forgot', answers: 1 },
        ]);
        // The command prints them side by side (--as-of 2026-02-28 is the end of that day: 1 March).
        const cli = await runCli('feedback', 'report', '--db', t.url, '--as-of', '2026-02-28');
        assert.equal(cli.code, 0, cli.err);
        assert.match(cli.out, /2026-01\s+33\.3 % \(1 of 3\)\s+too_expensive 1/);
        assert.match(cli.out, /2026-02\s+0\.0 % \(0 of 2\)\s+found_better 1, just_forgot 1/);
        assert.match(cli.out, /stage on 2026-01-01\s+churn/);
        assert.match(cli.out, /churned\s+nobody active at the start\s+found_better 1/);
        assert.match(cli.out, /lapsed\s+100\.0 % \(1 of 1\)\s+too_expensive 1/);
        assert.match(cli.out, /at_risk\s+0\.0 % \(0 of 1\)\s+just_forgot 1/);
        assert.doesNotMatch(cli.out, /churned\s+100/);
        // A month cut by asOf is partial: February up to the 15th.
        const cut = await feedbackReport(db, { asOf: d('2026-02-15') });
        assert.equal(cut.exitReasons.churn.byMonth.at(-1)?.partial, true);
      } finally {
        await t.drop();
      }
    });

    test("a lifecycle stage at an instant is the gap rule's, beyond meaning more whole days", async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        const at = d('2026-01-01');
        const hour = 3_600_000;
        const ids: Record<string, number> = {};
        // No repeat purchase before `at`: the fallback thresholds, 90, 180 and 360 days.
        const sales: Record<string, number[]> = {
          edge: [at - 91 * 24 * hour + hour], // 90 whole days and 23 hours: not beyond 90
          past: [at - 91 * 24 * hour], // 91 days: at risk
          lapsed: [at - 181 * 24 * hour],
          gone: [at - 361 * 24 * hour],
          twice: [at - 40 * 24 * hour, at + 24 * hour], // the second sale is after `at`: one sale then, new
          later: [at + 24 * hour], // no sale before `at`
        };
        for (const [name, times] of Object.entries(sales)) {
          ids[name] = await addCustomer(db, { email: `${name}@example.com`, at: d('2024-01-01') });
          for (const placedAt of times) await addOrder(db, { customerId: ids[name]!, placedAt, subtotalMinor: 1000 });
        }
        const query = await groupAssignment(db, { kind: 'lifecycle' }, at);
        const { rows } = await sql<{ customer_id: number; grp: string }>`${query}`.execute(db);
        const stageOf = new Map(rows.map((r) => [Number(r.customer_id), r.grp]));
        const name = (id: number) => Object.entries(ids).find(([, v]) => v === id)?.[0];
        assert.deepEqual(Object.fromEntries([...stageOf].map(([id, grp]) => [name(id), grp])), {
          edge: 'new',
          past: 'at_risk',
          lapsed: 'lapsed',
          gone: 'churned',
          twice: 'new',
          later: '(no sale yet)',
        });
        // The same stages as the segments' own rule without model scores.
        const staged = await computeLifecycle(db, { asOf: at });
        for (const c of staged.customers) assert.equal(stageOf.get(c.customerId), c.stage, name(c.customerId));
        assert.equal(staged.customers.length, 5);
      } finally {
        await t.drop();
      }
    });

    test('no exit answers: no churn rows; a store without sales says so by currency null', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const report = await feedbackReport(t.store.db, { asOf: d('2026-03-01') });
        assert.deepEqual(report.exitReasons.churn.byMonth, []);
        assert.equal(report.exitReasons.churn.currency, null);
      } finally {
        await t.drop();
      }
    });
  });
}
