import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer, addOrder, refundOrder } from '../../test/loyalty-fixtures.js';
import { runCli } from '../../test/run-cli.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { groupAssignment, retentionReport } from '../analytics/index.js';
import { computeLifecycle } from '../segments/lifecycle.js';
import { importFeedbackCsv } from './import.js';
import { feedbackReport } from './report.queries.js';

const d = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

/**
 * Five customers (D bought once, in June 2024, and is active in none of the periods; E first buys in
 * February 2026 and is active at no period's start), too few repeat purchases to derive a window (the
 * 365-day fallback), so by hand:
 * A bought on 2025-01-10 only, F on 2025-02-20 only, B on 2025-09-15 only, C on 2025-12-01 and 2026-01-15.
 * January 2026: active at the start (a sale in [2025-01-01, 2026-01-01)) A, F, B, C = 4; active at the
 * end (a sale in [2025-02-01, 2026-02-01)) F, B, C; lost A: churn 1/4.
 * February 2026: start [2025-02-01, 2026-02-01) F, B, C = 3; end [2025-03-01, 2026-03-01) B, C; lost F:
 * churn 1/3. Cut at 10 February (the orders' end before a 15 February as-of), F is still active: 0/3.
 * Over January–February, by lifecycle stage at its start, 2026-01-01: no repeat purchase before it, so
 * the fallback thresholds (at risk beyond 90 days, lapsed beyond 180, churned beyond 360). A is 356 days
 * silent and F 315, lapsed; B 108 days, at risk; C 31 days with one sale, new; D 579 days, churned.
 * Lapsed 2 of 2, at risk 0 of 1, new 0 of 1; D, churned, was not active at the start: a row only for
 * D's reason.
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
        // E's orders on 10 and 28 February: the orders reach to the end of the months asked about (E is
        // active at no period's start, so counts nowhere).
        const e = await addCustomer(db, { email: 'e@example.com', at: d('2026-02-01') });
        await addOrder(db, { customerId: e, placedAt: d('2026-02-10'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: e, placedAt: d('2026-02-28') + 3_600_000, subtotalMinor: 1000 });
        await addOrder(db, { customerId: dd, placedAt: d('2024-06-01'), subtotalMinor: 1000 });
        await addOrder(db, { customerId: a, placedAt: d('2025-01-10'), subtotalMinor: 1000 });
        const f = await addCustomer(db, { email: 'f@example.com', at: d('2025-01-01') });
        await addOrder(db, { customerId: f, placedAt: d('2025-02-20'), subtotalMinor: 1000 });
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
          { month: '2026-01', partial: false, customersStart: 4, customersLost: 1, churnRate: 1 / 4 },
          { month: '2026-02', partial: false, customersStart: 3, customersLost: 1, churnRate: 1 / 3 },
        ]);
        assert.deepEqual(churn.span, { from: d('2026-01-01'), to: d('2026-03-01') });
        // In the lifecycle's order. Over the 59-day span, new customers (silent under 91 days at the start)
        // and at-risk ones (under 181) cannot leave a 365-day window: their 0 % is by construction.
        assert.deepEqual(churn.bySegment, [
          { segment: 'new', customersStart: 1, customersLost: 0, churnRate: 0, cannotLeave: true },
          { segment: 'at_risk', customersStart: 1, customersLost: 0, churnRate: 0, cannotLeave: true },
          { segment: 'lapsed', customersStart: 2, customersLost: 2, churnRate: 1, cannotLeave: false },
          { segment: 'churned', customersStart: 0, customersLost: 0, churnRate: null, cannotLeave: false },
        ]);
        // `report --by lifecycle` over the same span: the same stages and counts, in the lifecycle's order
        // (the groups of the period before come in too: E had no sale yet).
        const byStage = (
          await retentionReport(db, {
            from: d('2026-01-01'),
            to: d('2026-03-01'),
            asOf: d('2026-03-01'),
            activeWindowDays: 365,
            by: { kind: 'lifecycle' },
          })
        ).byGroup!;
        assert.deepEqual(
          byStage.groups.map((g) => [g.group, g.customersStart, g.customersLost, g.cannotLeave]),
          [
            ['new', 1, 0, true],
            ['at_risk', 1, 0, true],
            ['lapsed', 2, 2, false],
            ['churned', 0, 0, false],
            ['(no sale yet)', 0, 0, false],
          ],
        );
        // The command says which stages' 0 % is by construction, under the table.
        const byStageCli = await runCli(
          'report',
          '--db',
          t.url,
          '--from',
          '2026-01-01',
          '--to',
          '2026-02-28',
          '--as-of',
          '2026-02-28',
          '--active-window',
          '365',
          '--by',
          'lifecycle',
        );
        assert.equal(byStageCli.code, 0, byStageCli.err);
        assert.match(
          byStageCli.out,
          /\nnew, at_risk: too recent at the start to leave in the period, so a churn of 0 is by construction, not a finding\n/,
        );
        // At risk's limit is 181 days of silence: over 365 − 181 = 184 days nobody in it can leave a
        // 365-day window; over 185 days one could.
        const atRiskOver = async (days: number) =>
          (
            await retentionReport(db, {
              from: d('2026-01-01'),
              to: d('2026-01-01') + days * 86_400_000,
              asOf: d('2026-12-31'),
              activeWindowDays: 365,
              by: { kind: 'lifecycle' },
            })
          ).byGroup!.groups.find((g) => g.group === 'at_risk')?.cannotLeave;
        assert.equal(await atRiskOver(184), true);
        assert.equal(await atRiskOver(185), false);
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
        assert.match(cli.out, /2026-01\s+25\.0 % \(1 of 4\)\s+too_expensive 1/);
        assert.match(cli.out, /2026-02\s+33\.3 % \(1 of 3\)\s+found_better 1, just_forgot 1/);
        assert.match(cli.out, /stage on 2026-01-01\s+churn/);
        assert.match(cli.out, /churned\s+nobody active at the start\s+found_better 1/);
        assert.match(cli.out, /lapsed\s+100\.0 % \(2 of 2\)\s+too_expensive 1/);
        assert.match(
          cli.out,
          /at_risk\s+0\.0 % \(0 of 1: too recent at the start to leave in the span\)\s+just_forgot 1/,
        );
        assert.doesNotMatch(cli.out, /churned\s+100/);
        // A period that ends before it starts is refused, naming the field.
        await assert.rejects(feedbackReport(db, { asOf: d('2026-02-01'), from: d('2026-02-01') }), (e: Error) =>
          /^from: must be before the as-of/.test(e.message),
        );
        const backwards = await runCli(
          'feedback',
          'report',
          '--db',
          t.url,
          '--from',
          '2026-02-01',
          '--as-of',
          '2026-01-31',
        );
        assert.equal(backwards.code, 1);
        assert.match(backwards.err, /from: must be before the as-of/);
        // A month cut by asOf is partial: February up to the 15th.
        const cut = await feedbackReport(db, { asOf: d('2026-02-15') });
        assert.equal(cut.exitReasons.churn.byMonth.at(-1)?.partial, true);
        // Counted up to the orders' end before the cut (10 February), not to the month's end.
        assert.deepEqual(cut.exitReasons.churn.byMonth.at(-1), {
          month: '2026-02',
          partial: true,
          customersStart: 3,
          customersLost: 0,
          churnRate: 0,
        });

        // An answer in April, after the orders stop (28 February): April's churn is not known, and
        // the stages are taken at the span's start as before; nothing is counted past the orders.
        await importFeedbackCsv(db, 'survey,customer,answered_at,reason\nexit,c@example.com,2026-04-10,just_forgot\n', {
          file: 'april.csv',
          now: d('2026-05-01'),
        });
        const lateReport = await feedbackReport(db, { asOf: d('2026-05-01') });
        const late = lateReport.exitReasons.churn;
        assert.equal(late.salesEnd, d('2026-03-01'));
        // Nobody's activity in April can be seen: not even who was active at its start.
        assert.deepEqual(late.byMonth.at(-1), {
          month: '2026-04',
          partial: true,
          customersStart: null,
          customersLost: null,
          churnRate: null,
        });
        assert.match(late.note ?? '', /the orders end on 2026-02-28: churn after that is not known/);
        assert.deepEqual(late.span, { from: d('2026-01-01'), to: d('2026-03-01') });
        // The April answer is in the months and the total, but not in the stages: those end with the orders.
        assert.deepEqual(lateReport.exitReasons.byMonth.at(-1), {
          month: '2026-04',
          reason: 'just_forgot',
          answers: 1,
        });
        assert.equal(lateReport.exitReasons.total.find((x) => x.reason === 'just_forgot')?.answers, 2);
        assert.deepEqual(lateReport.exitReasons.bySegment, report.exitReasons.bySegment);
        assert.equal(lateReport.exitReasons.afterOrders, 1);
        assert.equal(report.exitReasons.afterOrders, 0);
        const lateCli = await runCli('feedback', 'report', '--db', t.url, '--as-of', '2026-04-30');
        assert.equal(lateCli.code, 0, lateCli.err);
        assert.match(lateCli.out, /2026-04 \(so far\)\s+not known\s+just_forgot 1/);
        assert.match(
          lateCli.out,
          /1 exit answer after the orders end is left out of the stages: no stage can be read for it/,
        );
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
        // An order placed before `at` and refunded in full after it: a sale as known at `at`, none later.
        ids.refunded = await addCustomer(db, { email: 'refunded@example.com', at: d('2024-01-01') });
        const refundedOrder = await addOrder(db, {
          customerId: ids.refunded,
          placedAt: at - 10 * 24 * hour,
          subtotalMinor: 1000,
        });
        await refundOrder(db, refundedOrder, 1000, at + 5 * 24 * hour);
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
          refunded: 'new',
        });
        // As a report as of ten days later counts it (its S and N leave the refunded order out too).
        const known = await groupAssignment(db, { kind: 'lifecycle' }, at, at + 10 * 24 * hour);
        const knownRows = (await sql<{ customer_id: number; grp: string }>`${known}`.execute(db)).rows;
        assert.equal(knownRows.find((r) => Number(r.customer_id) === ids.refunded)?.grp, '(no sale yet)');
        // The same stages as the segments' own rule without model scores.
        const staged = await computeLifecycle(db, { asOf: at });
        for (const c of staged.customers) assert.equal(stageOf.get(c.customerId), c.stage, name(c.customerId));
        assert.equal(staged.customers.length, 6);
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
