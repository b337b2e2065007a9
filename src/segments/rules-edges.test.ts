import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, addRefund, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { MAX_RULE_DEPTH, parseRule } from './rules.js';
import { selectByRule } from './rules.queries.js';

/** The examples of issue 13, each with its answer worked out by hand from the rows written below. */
const A = Date.UTC(2024, 6, 1); // as of: the end of 2024-06-30

test('a rule nested 5,000 deep is refused with the path where the depth limit was hit', () => {
  let deep: unknown = { field: 'country', op: 'eq', value: 'GB' };
  for (let i = 0; i < 5000; i++) deep = { not: deep };
  const path = `rules${'.not'.repeat(MAX_RULE_DEPTH + 1)}`;
  assert.throws(
    () => parseRule(deep),
    (e: unknown) =>
      e instanceof ComebackError &&
      e.kind === 'bad_input' &&
      e.location?.field === path &&
      /at most 32/.test(e.message),
  );
  let ok: unknown = { field: 'country', op: 'eq', value: 'GB' };
  for (let i = 0; i < MAX_RULE_DEPTH; i++) ok = { all: [ok] };
  assert.doesNotThrow(() => parseRule(ok));
});

test('times without an offset read in the store zone whatever the machine zone; dates are whole days', () => {
  const saved = process.env.TZ;
  try {
    for (const machine of ['UTC', 'America/Los_Angeles', 'Asia/Seoul']) {
      process.env.TZ = machine;
      assert.deepEqual(parseRule({ field: 'first_seen_at', op: 'gte', value: '2024-06-20 09:00' }), {
        field: 'first_seen_at',
        op: 'gte',
        value: Date.UTC(2024, 5, 20, 9),
      });
      assert.deepEqual(
        parseRule({ field: 'first_seen_at', op: 'gte', value: '2024-06-20 09:00' }, 'rules', {
          timeZone: 'Asia/Seoul',
        }),
        { field: 'first_seen_at', op: 'gte', value: Date.UTC(2024, 5, 20, 0) },
      );
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
  const day = (op: string) => parseRule({ field: 'first_seen_at', op, value: '2024-06-20' });
  const start = Date.UTC(2024, 5, 20);
  const end = Date.UTC(2024, 5, 21);
  assert.deepEqual(day('lte'), { field: 'first_seen_at', op: 'lt', value: end });
  assert.deepEqual(day('gt'), { field: 'first_seen_at', op: 'gte', value: end });
  assert.deepEqual(day('lt'), { field: 'first_seen_at', op: 'lt', value: start });
  assert.deepEqual(day('gte'), { field: 'first_seen_at', op: 'gte', value: start });
  assert.throws(() => parseRule({ field: 'first_seen_at', op: 'gte', value: 'June 20' }), ComebackError);
  assert.throws(() => parseRule({ field: 'first_seen_at', op: 'gte', value: '2024-02-30' }), ComebackError);
  assert.throws(() => parseRule({ all: [] }, 'rules', { timeZone: 'Mars/Olympus' }), ComebackError);
});

for (const dialect of DIALECTS) {
  describe(`rules at their edges on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const id: Record<string, number> = {};
    const ids = (...names: string[]) => names.map((n) => id[n]!).sort((a, b) => a - b);
    const select = async (raw: unknown, asOf = A, timeZone?: string) =>
      selectByRule(t.store.db, parseRule(raw, 'rules', { timeZone }), { asOf });

    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      id.gb = await addCustomer(db, {
        country: 'United Kingdom',
        email: 'u1.upper@example.com',
        firstSeenAt: Date.UTC(2024, 5, 20, 8, 30),
      });
      id.none = await addCustomer(db, { firstSeenAt: Date.UTC(2024, 5, 20, 9) });
      id.fr = await addCustomer(db, { country: 'FR', firstSeenAt: Date.UTC(2024, 5, 20, 16, 30) });
      id.late = await addCustomer(db, { country: ' uk ', firstSeenAt: Date.UTC(2024, 5, 21) });
      // Seoul, 2024-03-01 08:00+09:00 = 2024-02-29 23:00 UTC.
      id.seoul = await addCustomer(db, { country: 'KR', firstSeenAt: Date.UTC(2024, 1, 29, 23) });
      // Not yet a customer as of A.
      id.future = await addCustomer(db, { country: 'GB', firstSeenAt: A });
      // gb: two GBP sales and one EUR sale, 60 days back.
      for (const currency of ['GBP', 'GBP', 'EUR']) await addOrder(db, id.gb!, { at: A - 60 * DAY, currency });
      // The window [A − 30 days, A): fr's order at its first instant is in, none's a millisecond earlier is
      // out, late's last instant is in, seoul's order at A is out.
      const frOrder = await addOrder(db, id.fr!, {
        at: A - 30 * DAY,
        totalMinor: 1000,
        status: 'refunded',
        refundedMinor: 1000,
      });
      // fr's order was refunded in full, but only a day after A.
      await addRefund(db, frOrder, { at: A + DAY, amountMinor: 1000 });
      await addOrder(db, id.none!, { at: A - 30 * DAY - 1 });
      await addOrder(db, id.late!, { at: A - 1, totalMinor: 2500, status: 'partially_refunded', refundedMinor: 500 });
      const lateRefund = await addOrder(db, id.late!, {
        at: A - 40 * DAY,
        totalMinor: 700,
        status: 'cancelled',
        cancelledAt: A + 5 * DAY,
      });
      assert.ok(lateRefund > 0);
      await addOrder(db, id.seoul!, { at: A });
    });
    after(async () => t?.drop());

    test('not eq and neq agree on customers with no country, and countries match under every name', async () => {
      const notEq = await select({ not: { field: 'country', op: 'eq', value: 'UK' } });
      const neq = await select({ field: 'country', op: 'neq', value: 'UK' });
      assert.deepEqual(notEq, ids('none', 'fr', 'seoul'));
      assert.deepEqual(neq, notEq);
      assert.deepEqual(await select({ field: 'country', op: 'eq', value: ' gb ' }), ids('gb', 'late'));
      assert.deepEqual(
        await select({ field: 'country', op: 'in', value: ['United Kingdom', 'france'] }),
        ids('gb', 'fr', 'late'),
      );
      assert.deepEqual(await select({ field: 'country', op: 'eq', value: 'Korea, Republic of' }), ids('seoul'));
      assert.deepEqual(await select({ field: 'country', op: 'exists', value: false }), ids('none'));
    });

    test('e-mails compare without regard to case and surrounding spaces', async () => {
      assert.deepEqual(await select({ field: 'email', op: 'eq', value: ' U1.Upper@Example.com ' }), ids('gb'));
      assert.deepEqual(await select({ field: 'email', op: 'in', value: ['U1.UPPER@EXAMPLE.COM'] }), ids('gb'));
    });

    test('an order count with a currency counts that currency only', async () => {
      assert.deepEqual(await select({ orders: 'count', currency: 'EUR', op: 'eq', value: 1 }), ids('gb'));
      // late's two sales are in GBP too: the one cancelled only after A still counts as of A.
      assert.deepEqual(await select({ orders: 'count', currency: 'GBP', op: 'eq', value: 2 }), ids('gb', 'late'));
      assert.deepEqual(await select({ orders: 'count', op: 'eq', value: 3 }), ids('gb'));
      assert.deepEqual(await select({ orders: 'count', op: 'eq', value: 2 }, A + 6 * DAY), []);
    });

    test('first_seen_at: times in the store zone, lte a date covers that whole day', async () => {
      const gte = { field: 'first_seen_at', op: 'gte', value: '2024-06-20 09:00' };
      assert.deepEqual(await select(gte), ids('none', 'fr', 'late'));
      assert.deepEqual(await select(gte, A, 'Asia/Seoul'), ids('gb', 'none', 'fr', 'late'));
      // 09:00 in Los Angeles (PDT, −07:00) is 16:00 UTC.
      assert.deepEqual(await select(gte, A, 'America/Los_Angeles'), ids('fr', 'late'));
      assert.deepEqual(
        await select({ field: 'first_seen_at', op: 'lte', value: '2024-06-20' }),
        ids('seoul', 'gb', 'none', 'fr'),
      );
      assert.deepEqual(
        await select({ field: 'first_seen_at', op: 'eq', value: '2024-06-20' }),
        ids('gb', 'none', 'fr'),
      );
      assert.deepEqual(await select({ field: 'first_seen_at', op: 'neq', value: '2024-06-20' }), ids('late', 'seoul'));
      // The Seoul customer's first day is 2024-03-01 in Seoul and 2024-02-29 in UTC.
      const march = { field: 'first_seen_at', op: 'gte', value: '2024-03-01' };
      assert.equal((await select(march)).includes(id.seoul!), false);
      assert.equal((await select(march, A, 'Asia/Seoul')).includes(id.seoul!), true);
    });

    test('the window is [asOf − days, asOf), and a refund dated after the as-of does not count', async () => {
      const last30 = { orders: 'count', withinDays: 30, op: 'gte', value: 1 };
      assert.deepEqual(await select(last30), ids('fr', 'late'));
      // As of A, fr's order is a sale of 10.00; as of two days later its refund has happened.
      assert.deepEqual(await select({ orders: 'revenue', withinDays: 30, op: 'eq', value: 10 }), ids('fr'));
      assert.deepEqual(await select({ orders: 'revenue', op: 'eq', value: 10 }), ids('none', 'fr'));
      assert.equal((await select({ orders: 'count', op: 'gte', value: 1 }, A + 2 * DAY)).includes(id.fr!), false);
      // late: 25.00 − 5.00 in the window, plus 7.00 of an order cancelled only after A.
      assert.deepEqual(await select({ orders: 'revenue', op: 'eq', value: 27 }), ids('late'));
      // After the cancellation, late's 20.00 equals gb's two GBP sales of 10.00.
      assert.deepEqual(await select({ orders: 'revenue', op: 'eq', value: 20 }, A + 6 * DAY), ids('gb', 'late'));
      // Customers first seen at or after the as-of are not there yet.
      assert.equal((await select({ all: [] })).includes(id.future!), false);
    });
  });
}
