import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addCustomer, addOrder } from '../../test/loyalty-fixtures.js';
import { runCli } from '../../test/run-cli.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { importFeedbackCsv } from './import.js';
import { feedbackReport } from './report.queries.js';

const d = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/**
 * Four customers (D bought once, in June 2024, and is active in none of the periods), too few repeat purchases to derive a window (the 365-day fallback), so by hand:
 * A bought on 2025-01-10 only, B on 2025-06-01, C on 2025-01-20 and 2026-01-15.
 * January 2026: active at the start (a sale in [2025-01-01, 2026-01-01)) A, B, C = 3; active at the
 * end (a sale in [2025-02-01, 2026-02-01)) B, C; lost A: churn 1/3.
 * February 2026: start [2025-02-01, 2026-02-01) B, C = 2; end [2025-03-01, 2026-03-01) B, C: churn 0.
 * Over January–February, by lifecycle stage (A lapsed, B at risk, C none): lapsed 1 of 1, at risk 0 of
 * 1, none 0 of 1.
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
        await addOrder(db, { customerId: b, placedAt: d('2025-06-01'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: c, placedAt: d('2025-01-20'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: c, placedAt: d('2026-01-15'), subtotalMinor: 1000 });
        await db
          .withTables<{
            customer_segments: { customer_id: number; kind: string; value: string; since: number; reason: string };
          }>()
          .insertInto('customer_segments')
          .values([
            { customer_id: a, kind: 'lifecycle', value: 'lapsed', since: d('2026-02-01'), reason: 'test' },
            { customer_id: b, kind: 'lifecycle', value: 'at_risk', since: d('2026-02-01'), reason: 'test' },
          ])
          .execute();
        const csv = [
          'survey,customer,answered_at,reason',
          'exit,a@example.com,2026-01-20,too_expensive',
          'exit,b@example.com,2026-02-10,just_forgot',
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
          { segment: 'lapsed', customersStart: 1, customersLost: 1, churnRate: 1 },
          { segment: 'none', customersStart: 1, customersLost: 0, churnRate: 0 },
        ]);
        assert.equal(churn.note, null);

        // The reasons themselves are where they were.
        assert.deepEqual(report.exitReasons.byMonth, [
          { month: '2026-01', reason: 'too_expensive', answers: 1 },
          { month: '2026-02', reason: 'just_forgot', answers: 1 },
        ]);
        // The command prints them side by side (--as-of 2026-02-28 is the end of that day: 1 March).
        const cli = await runCli('feedback', 'report', '--db', t.url, '--as-of', '2026-02-28');
        assert.equal(cli.code, 0, cli.err);
        assert.match(cli.out, /2026-01\s+33\.3 % \(1 of 3\)\s+too_expensive 1/);
        assert.match(cli.out, /2026-02\s+0\.0 % \(0 of 2\)\s+just_forgot 1/);
        assert.match(cli.out, /lapsed\s+100\.0 % \(1 of 1\)\s+too_expensive 1/);
        // A month cut by asOf is partial: February up to the 15th.
        const cut = await feedbackReport(db, { asOf: d('2026-02-15') });
        assert.equal(cut.exitReasons.churn.byMonth.at(-1)?.partial, true);
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
