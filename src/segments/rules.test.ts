import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { addCustomer, addEvent, addOrder, addRefund, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import type { Db, OrderStatus } from '../store/index.js';
import { seededRandom } from './kmeans.js';
import { parseRule } from './rules.js';
import { selectByRule } from './rules.queries.js';
import { segmentsDb } from './tables.js';

const T = Date.UTC(2025, 5, 1);
const COUNTRIES = ['United Kingdom', 'UK', 'GB', ' gb', 'France', 'FR', 'Germany'];
const RULE_COUNTRIES = ['UK', 'united kingdom ', 'GB', 'France', 'fr', 'Germany', 'Atlantis'];
const EMAILS = ['a@example.com', 'b@example.com', 'c@example.com'];
const RULE_EMAILS = [...EMAILS, 'A@Example.com', ' B@EXAMPLE.COM '];
const EVENTS = ['Product Viewed', 'Product Added', 'Order Completed'];
const SEEN = [T - 100 * DAY, T - 50 * DAY, T - 10 * DAY, T - 1, T, T + 2 * DAY];
const SEEN_DAYS = ['2025-02-21', '2025-04-12', '2025-05-22', '2025-05-31', '2025-06-01'];
const LABELS = {
  rfm: ['Champions', 'Loyal', 'Lost'],
  persona: ['repeat_buyer', 'bouncer'],
  lifecycle: ['new', 'active', 'churned'],
  loyalty_tier: ['gold', 'silver'],
};
const P = [0, 0.25, 0.5, 0.75, 1];

/** Random but repeatable customers, orders, events, labels and scores. */
async function buildStore(db: Db): Promise<void> {
  const random = seededRandom(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const maybe = <T>(value: T): T | undefined => (random() < 0.3 ? undefined : value);
  const fit = await db
    .insertInto('model_fits')
    .values({
      model: 'bgnbd',
      params: '{}',
      stderr: '{}',
      log_likelihood: 0,
      customers: 40,
      histories: 40,
      iterations: 1,
      converged: 1,
      warnings: '[]',
      unit: 'week',
      currency: 'GBP',
      calibration_end: T,
      as_of: T,
      holdout: null,
      created_at: T,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const sdb = segmentsDb(db);
  for (let i = 0; i < 40; i++) {
    const id = await addCustomer(db, {
      country: maybe(pick(COUNTRIES)),
      email: random() < 0.5 ? `${i}-${pick(EMAILS)}` : i < 3 ? EMAILS[i] : undefined,
      city: maybe(pick(['London', 'Paris'])),
      firstSeenAt: pick(SEEN),
    });
    const orders = Math.floor(random() * 5);
    for (let k = 0; k < orders; k++) {
      const status = pick<OrderStatus>(['paid', 'paid', 'partially_refunded', 'refunded', 'pending', 'cancelled']);
      const total = pick([500, 1250, 3000, 10000]);
      const currency = pick(['GBP', 'GBP', 'EUR']);
      const refunded = status === 'partially_refunded' ? 250 : status === 'refunded' ? total : 0;
      const orderId = await addOrder(db, id, {
        at: T - pick([0, 1, 7, 29, 30, 31, 89, 91, 200, -1]) * DAY + pick([0, 0, 1, -1]),
        totalMinor: total,
        status,
        currency,
        refundedMinor: refunded,
        cancelledAt: status === 'cancelled' ? T + pick([-3, 3]) * DAY : null,
      });
      // Refunds dated before or after the as-of: only the earlier ones count as of T.
      if (refunded > 0 && random() < 0.8) {
        await addRefund(db, orderId, { at: T + pick([-5, 2, 0]) * DAY, amountMinor: refunded, currency });
      }
    }
    const events = Math.floor(random() * 4);
    for (let k = 0; k < events; k++) {
      await addEvent(db, {
        customerId: id,
        event: pick(EVENTS),
        type: pick(['track', 'page']),
        at: T - pick([0, 6, 7, 8, 40, -2]) * DAY,
      });
    }
    for (const [kind, values] of Object.entries(LABELS)) {
      if (random() >= 0.6) continue;
      if (kind === 'loyalty_tier') {
        await sql`insert into loyalty_members (customer_id, enrolled_at, balance, pending, settled_at, lifetime_earned,
          gross_earned, tier, tier_since, tier_review_at, referral_code, last_activity_at)
          values (${id}, ${T}, 0, 0, ${T}, 0, 0, ${pick(values)}, ${T}, ${T}, ${`R${id}`}, ${T})`.execute(db);
      } else {
        await sdb
          .insertInto('customer_segments')
          .values({ customer_id: id, kind, value: pick(values), since: T, reason: 'test' })
          .execute();
      }
    }
    for (const asOf of [T - 30 * DAY, T]) {
      if (random() < 0.5) {
        await sdb
          .insertInto('customer_scores')
          .values({
            customer_id: id,
            model: pick(['bgnbd', 'pnbd']),
            as_of: asOf,
            fit_id: Number(fit.id),
            spend_fit_id: null,
            churn_risk: null,
            churn_band: null,
            horizon_days: 365,
            expected_spend: null,
            currency: 'GBP',
            p_alive: random() < 0.1 ? null : pick(P),
            expected_purchases: pick(P),
            clv: pick([0, 10, 100]),
            next_order_at: null,
          })
          .execute();
      }
    }
  }
}

/** The raw rows of the store, read back as they are, for the reference below. */
interface Rows {
  customers: Array<{ id: number; email: string | null; country: string | null; city: string | null; seen: number }>;
  orders: Array<{
    id: number;
    customer: number | null;
    at: number;
    status: string;
    currency: string;
    total: number;
    refunded: number;
    cancelledAt: number | null;
  }>;
  refunds: Array<{ order: number | null; amount: number; at: number }>;
  events: Array<{ customer: number | null; type: string; event: string | null; at: number }>;
  labels: Array<{ customer: number; kind: string; value: string }>;
  scores: Array<{ customer: number; model: string; asOf: number; values: Record<string, number | null> }>;
}

async function loadRows(db: Db): Promise<Rows> {
  const sdb = segmentsDb(db);
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    customers: (await db.selectFrom('customers').selectAll().orderBy('id').execute()).map((c) => ({
      id: Number(c.id),
      email: c.email,
      country: c.country,
      city: c.city,
      seen: Number(c.first_seen_at),
    })),
    orders: (await db.selectFrom('orders').selectAll().execute()).map((o) => ({
      id: Number(o.id),
      customer: n(o.customer_id),
      at: Number(o.placed_at),
      status: o.status,
      currency: o.currency,
      total: Number(o.total_minor),
      refunded: Number(o.refunded_minor),
      cancelledAt: n(o.cancelled_at),
    })),
    refunds: (await db.selectFrom('refunds').selectAll().execute()).map((r) => ({
      order: n(r.order_id),
      amount: Number(r.amount_minor),
      at: Number(r.refunded_at),
    })),
    events: (await db.selectFrom('events').selectAll().execute()).map((e) => ({
      customer: n(e.customer_id),
      type: e.type,
      event: e.event,
      at: Number(e.occurred_at),
    })),
    labels: [
      ...(await sdb.selectFrom('customer_segments').selectAll().execute()).map((l) => ({
        customer: Number(l.customer_id),
        kind: l.kind,
        value: l.value,
      })),
      ...(
        await sql<{ customer_id: number; tier: string }>`select customer_id, tier from loyalty_members`.execute(db)
      ).rows.map((r) => ({ customer: Number(r.customer_id), kind: 'loyalty_tier', value: r.tier })),
    ],
    scores: (await sdb.selectFrom('customer_scores').selectAll().execute()).map((s) => ({
      customer: Number(s.customer_id),
      model: s.model,
      asOf: Number(s.as_of),
      values: { p_alive: n(s.p_alive), expected_purchases: n(s.expected_purchases), clv: n(s.clv) },
    })),
  };
}

/**
 * An independent reading of the rule language, written from its documentation over the raw JSON and
 * the raw rows: it shares no code with the product (not its parser, not its currency table, not its
 * country names, not its as-of definition of a sale). Dates are days of UTC.
 */
function reference(rows: Rows, asOf: number): (raw: unknown) => number[] {
  const DAYS = 86_400_000;
  const COUNTRY: Record<string, string> = {
    uk: 'gb',
    gb: 'gb',
    'united kingdom': 'gb',
    france: 'fr',
    fr: 'fr',
    germany: 'de',
    de: 'de',
  };
  const canon = (field: string, v: string) => {
    if (field === 'email') return v.trim().toLowerCase();
    if (field === 'country') return COUNTRY[v.trim().toLowerCase()] ?? v.trim().toLowerCase();
    return v;
  };
  const late = (orderId: number) =>
    rows.refunds.filter((r) => r.order === orderId && r.at >= asOf).reduce((s, r) => s + r.amount, 0);
  const sales = rows.orders
    .filter((o) => o.at < asOf && o.customer !== null)
    .map((o) => ({ ...o, net: o.total - o.refunded + late(o.id) }))
    .filter(
      (o) =>
        o.status === 'paid' ||
        o.status === 'partially_refunded' ||
        (o.status === 'refunded' && o.net > 0) ||
        (o.status === 'cancelled' && o.cancelledAt !== null && o.cancelledAt >= asOf),
    );
  const perCurrency = new Map<string, number>();
  for (const s of sales) perCurrency.set(s.currency, (perCurrency.get(s.currency) ?? 0) + 1);
  const main = [...perCurrency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? 'USD';
  const minorPerMajor: Record<string, number> = { GBP: 100, EUR: 100 };
  const cmp = (a: number, op: string, b: number) =>
    ({ eq: a === b, neq: a !== b, gt: a > b, gte: a >= b, lt: a < b, lte: a <= b })[op]!;
  const inWindow = (at: number, days: number | undefined) =>
    at < asOf && (days === undefined || at >= asOf - Math.round(days * DAYS));
  const test = (rule: Record<string, unknown>, c: Rows['customers'][number]): boolean => {
    if ('all' in rule) return (rule.all as Array<Record<string, unknown>>).every((r) => test(r, c));
    if ('any' in rule) return (rule.any as Array<Record<string, unknown>>).some((r) => test(r, c));
    if ('not' in rule) return !test(rule.not as Record<string, unknown>, c);
    if ('field' in rule) {
      const field = rule.field as string;
      if (field === 'first_seen_at') {
        if (rule.op === 'exists') return rule.value === true;
        if (typeof rule.value === 'number') return cmp(c.seen, rule.op as string, rule.value);
        const [y, m, d] = (rule.value as string).split('-').map(Number);
        const start = Date.UTC(y!, m! - 1, d!);
        const end = start + DAYS;
        const inDay = c.seen >= start && c.seen < end;
        return {
          gte: c.seen >= start,
          gt: c.seen >= end,
          lt: c.seen < start,
          lte: c.seen < end,
          eq: inDay,
          neq: !inDay,
        }[rule.op as string]!;
      }
      const value = (c as unknown as Record<string, string | null>)[field] ?? null;
      if (rule.op === 'exists') return (value !== null) === rule.value;
      const eq = (v: string) => value !== null && canon(field, value) === canon(field, v);
      if (rule.op === 'in') return (rule.value as string[]).some(eq);
      return rule.op === 'eq' ? eq(rule.value as string) : !eq(rule.value as string);
    }
    if ('orders' in rule) {
      const mine = sales.filter((s) => s.customer === c.id && inWindow(s.at, rule.withinDays as number | undefined));
      if (rule.orders === 'count') {
        const counted = rule.currency === undefined ? mine : mine.filter((s) => s.currency === rule.currency);
        return cmp(counted.length, rule.op as string, rule.value as number);
      }
      const currency = (rule.currency as string | undefined) ?? main;
      const total = mine.filter((s) => s.currency === currency).reduce((sum, s) => sum + s.net, 0);
      return cmp(total, rule.op as string, Math.round((rule.value as number) * minorPerMajor[currency]!));
    }
    if ('events' in rule) {
      const n = rows.events.filter(
        (e) =>
          e.customer === c.id &&
          e.event === rule.events &&
          (rule.type === undefined || e.type === rule.type) &&
          inWindow(e.at, rule.withinDays as number | undefined),
      ).length;
      return cmp(n, rule.op as string, rule.value as number);
    }
    if ('score' in rule) {
      const mine = rows.scores.filter(
        (s) => s.customer === c.id && s.asOf <= asOf && (rule.model === undefined || s.model === rule.model),
      );
      if (mine.length === 0) return false;
      const latest = Math.max(...mine.map((s) => s.asOf));
      return mine.some((s) => {
        const v = s.values[rule.score as string];
        return s.asOf === latest && v !== null && v !== undefined && cmp(v, rule.op as string, rule.value as number);
      });
    }
    const kinds: Record<string, string> = {
      rfm: 'rfm',
      persona: 'persona',
      lifecycle: 'lifecycle',
      loyaltyTier: 'loyalty_tier',
    };
    for (const [key, kind] of Object.entries(kinds)) {
      if (key in rule) {
        const wanted = typeof rule[key] === 'string' ? [rule[key] as string] : (rule[key] as string[]);
        const label = rows.labels.find((l) => l.customer === c.id && l.kind === kind);
        return label !== undefined && wanted.includes(label.value);
      }
    }
    throw new Error(`the reference does not know ${JSON.stringify(rule)}`);
  };
  return (raw) =>
    rows.customers.filter((c) => c.seen < asOf && test(raw as Record<string, unknown>, c)).map((c) => c.id);
}

const numberOp = fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte');
const window = fc.constantFrom(undefined, 1, 7, 30, 90.5);
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    field: fc.constantFrom('country', 'city'),
    op: fc.constantFrom('eq', 'neq'),
    value: fc.constantFrom(...RULE_COUNTRIES, 'London', 'london'),
  }),
  fc.record({
    field: fc.constant('country'),
    op: fc.constant('in'),
    value: fc.subarray(RULE_COUNTRIES, { minLength: 1 }),
  }),
  fc.record({ field: fc.constant('email'), op: fc.constantFrom('eq', 'neq'), value: fc.constantFrom(...RULE_EMAILS) }),
  fc.record({ field: fc.constant('email'), op: fc.constant('in'), value: fc.subarray(RULE_EMAILS, { minLength: 1 }) }),
  fc.record({
    field: fc.constantFrom('email', 'country', 'first_seen_at'),
    op: fc.constant('exists'),
    value: fc.boolean(),
  }),
  fc.record({ field: fc.constant('first_seen_at'), op: numberOp, value: fc.constantFrom(...SEEN) }),
  fc.record({ field: fc.constant('first_seen_at'), op: numberOp, value: fc.constantFrom(...SEEN_DAYS) }),
  fc.record(
    {
      orders: fc.constant('count'),
      withinDays: window,
      currency: fc.constantFrom('GBP', 'EUR'),
      op: numberOp,
      value: fc.integer({ min: 0, max: 4 }),
    },
    { requiredKeys: ['orders', 'op', 'value'] },
  ),
  fc.record(
    {
      orders: fc.constant('revenue'),
      withinDays: window,
      currency: fc.constantFrom('GBP', 'EUR'),
      op: numberOp,
      value: fc.constantFrom(0, 5, 12.5, 30, 47.5, 100),
    },
    { requiredKeys: ['orders', 'op', 'value'] },
  ),
  fc.record(
    {
      events: fc.constantFrom(...EVENTS),
      type: fc.constantFrom('track', 'page'),
      withinDays: window,
      op: numberOp,
      value: fc.integer({ min: 0, max: 2 }),
    },
    { requiredKeys: ['events', 'op', 'value'] },
  ),
  fc.record(
    {
      score: fc.constantFrom('p_alive', 'expected_purchases', 'clv'),
      model: fc.constantFrom('bgnbd', 'pnbd'),
      op: numberOp,
      value: fc.constantFrom(...P, 10),
    },
    { requiredKeys: ['score', 'op', 'value'] },
  ),
  fc.record({ rfm: fc.subarray(LABELS.rfm, { minLength: 1 }) }),
  fc.record({ persona: fc.constantFrom(...LABELS.persona) }),
  fc.record({ lifecycle: fc.subarray(LABELS.lifecycle, { minLength: 1 }) }),
  fc.record({ loyaltyTier: fc.constantFrom(...LABELS.loyalty_tier) }),
);
const ruleArbitrary = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('rule'), { maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('rule'), { maxLength: 3 }) }),
    fc.record({ not: tie('rule') }),
  ),
})).rule;

test('parseRule names the bad part of a rule', () => {
  const fails = (input: unknown, field: string) =>
    assert.throws(
      () => parseRule(input),
      (e: unknown) => e instanceof ComebackError && e.kind === 'bad_input' && e.location?.field === field,
    );
  fails({ all: [{ field: 'country', op: 'like', value: 'x' }] }, 'rules.all[0].op');
  fails({ any: [{ orders: 'count', op: 'gte', value: 'three' }] }, 'rules.any[0].value');
  fails({ not: { field: 'shoe_size', op: 'eq', value: '9' } }, 'rules.not.field');
  fails({ orders: 'count', withinDays: -1, op: 'gte', value: 1 }, 'rules.withinDays');
  fails({ rfm: [] }, 'rules.rfm');
  fails({ nothing: 1 }, 'rules');
  assert.deepEqual(parseRule({ persona: 'bouncer' }), { persona: ['bouncer'] });
});

for (const dialect of DIALECTS) {
  describe(`rules compiled to SQL on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let rows: Rows;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await buildStore(t.store.db);
      rows = await loadRows(t.store.db);
    });
    after(async () => t?.drop());

    test('select the same customers as an independent reading of the rules over the raw rows', async () => {
      const db = t.store.db;
      const expected = reference(rows, T);
      const eligible = rows.customers.filter((c) => c.seen < T).length;
      assert.ok(eligible > 20 && eligible < rows.customers.length, `${eligible} customers seen before T`);
      let partial = 0;
      await fc.assert(
        fc.asyncProperty(ruleArbitrary, async (raw) => {
          const json = JSON.parse(JSON.stringify(raw));
          const fromSql = await selectByRule(db, parseRule(json), { asOf: T });
          assert.deepEqual(fromSql, expected(json), JSON.stringify(json));
          if (fromSql.length > 0 && fromSql.length < eligible) partial += 1;
        }),
        { numRuns: 200, seed: 42 },
      );
      // Most rules pick some customers and not others, so the comparison says something.
      assert.ok(partial > 80, `${partial} of 200 rules selected a proper subset`);
    });

    test('a rule selects among given customers only', async () => {
      const db = t.store.db;
      const all = await selectByRule(db, { all: [] }, { asOf: T });
      assert.equal(all.length, rows.customers.filter((c) => c.seen < T).length);
      assert.deepEqual(await selectByRule(db, { all: [] }, { asOf: T, customerIds: all.slice(0, 3) }), all.slice(0, 3));
      assert.deepEqual(await selectByRule(db, { any: [] }, { asOf: T }), []);
    });
  });
}
