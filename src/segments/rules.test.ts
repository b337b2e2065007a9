import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { addCustomer, addEvent, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import type { Db, OrderStatus } from '../store/index.js';
import { seededRandom } from './kmeans.js';
import { evaluateRule, parseRule, type Rule, type RuleSubject } from './rules.js';
import { ruleContext, selectByRule } from './rules.queries.js';
import { segmentsDb } from './tables.js';

const T = Date.UTC(2025, 5, 1);
const COUNTRIES = ['United Kingdom', 'France', 'Germany'];
const EMAILS = ['a@example.com', 'b@example.com', 'c@example.com'];
const EVENTS = ['Product Viewed', 'Product Added', 'Order Completed'];
const SEEN = [T - 100 * DAY, T - 50 * DAY, T - 10 * DAY];
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
      const status = pick<OrderStatus>(['paid', 'paid', 'partially_refunded', 'refunded', 'pending']);
      const total = pick([500, 1250, 3000, 10000]);
      await addOrder(db, id, {
        at: T - pick([0, 1, 7, 29, 30, 31, 89, 91, 200, -1]) * DAY,
        totalMinor: total,
        status,
        currency: pick(['GBP', 'GBP', 'EUR']),
        refundedMinor: status === 'partially_refunded' ? 250 : status === 'refunded' ? total : 0,
      });
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

/** The same store read back as plain rows, for the in-memory evaluator. */
async function loadSubjects(db: Db): Promise<RuleSubject[]> {
  const sdb = segmentsDb(db);
  const customers = await db.selectFrom('customers').selectAll().orderBy('id').execute();
  const orders = await db.selectFrom('orders').selectAll().execute();
  const events = await db.selectFrom('events').selectAll().execute();
  const labels = [
    ...(await sdb.selectFrom('customer_segments').selectAll().execute()),
    ...(
      await sql<{ customer_id: number; tier: string }>`select customer_id, tier from loyalty_members`.execute(db)
    ).rows.map((r) => ({ customer_id: r.customer_id, kind: 'loyalty_tier', value: r.tier })),
  ];
  const scores = await sdb.selectFrom('customer_scores').selectAll().execute();
  return customers.map((c) => {
    const id = Number(c.id);
    return {
      customer: { ...c, id, first_seen_at: Number(c.first_seen_at) },
      sales: orders
        .filter((o) => Number(o.customer_id) === id && (o.status === 'paid' || o.status === 'partially_refunded'))
        .map((o) => ({
          placedAt: Number(o.placed_at),
          netMinor: Number(o.total_minor) - Number(o.refunded_minor),
          currency: o.currency,
        })),
      events: events
        .filter((e) => Number(e.customer_id) === id)
        .map((e) => ({ type: e.type, event: e.event, occurredAt: Number(e.occurred_at) })),
      labels: new Map(labels.filter((l) => Number(l.customer_id) === id).map((l) => [l.kind, l.value])),
      scores: scores
        .filter((s) => Number(s.customer_id) === id)
        .map((s) => ({
          model: s.model,
          asOf: Number(s.as_of),
          p_alive: s.p_alive === null ? null : Number(s.p_alive),
          expected_purchases: s.expected_purchases === null ? null : Number(s.expected_purchases),
          clv: s.clv === null ? null : Number(s.clv),
        })),
    };
  });
}

const numberOp = fc.constantFrom('eq', 'neq', 'gt', 'gte', 'lt', 'lte');
const window = fc.constantFrom(undefined, 7, 30, 90.5);
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    field: fc.constantFrom('country', 'city'),
    op: fc.constantFrom('eq', 'neq'),
    value: fc.constantFrom(...COUNTRIES, 'London'),
  }),
  fc.record({ field: fc.constant('email'), op: fc.constant('in'), value: fc.subarray(EMAILS, { minLength: 1 }) }),
  fc.record({
    field: fc.constantFrom('email', 'country', 'first_seen_at'),
    op: fc.constant('exists'),
    value: fc.boolean(),
  }),
  fc.record({ field: fc.constant('first_seen_at'), op: numberOp, value: fc.constantFrom(...SEEN) }),
  fc.record(
    { orders: fc.constant('count'), withinDays: window, op: numberOp, value: fc.integer({ min: 0, max: 4 }) },
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
    let subjects: RuleSubject[];
    before(async () => {
      t = await freshDatabase(dialect.name);
      await buildStore(t.store.db);
      subjects = await loadSubjects(t.store.db);
    });
    after(async () => t?.drop());

    test('select the same customers as the same rules evaluated in memory', async () => {
      const db = t.store.db;
      let partial = 0;
      await fc.assert(
        fc.asyncProperty(ruleArbitrary, async (raw) => {
          const rule: Rule = parseRule(JSON.parse(JSON.stringify(raw)));
          const ctx = await ruleContext(db, T);
          const fromSql = await selectByRule(db, rule, { asOf: T, context: ctx });
          const inMemory = subjects.filter((s) => evaluateRule(rule, s, ctx)).map((s) => s.customer.id);
          assert.deepEqual(fromSql, inMemory, JSON.stringify(rule));
          if (fromSql.length > 0 && fromSql.length < subjects.length) partial += 1;
        }),
        { numRuns: 150, seed: 42 },
      );
      // Most rules pick some customers and not others, so the comparison says something.
      assert.ok(partial > 60, `${partial} of 150 rules selected a proper subset`);
    });

    test('a rule selects among given customers only', async () => {
      const db = t.store.db;
      const all = await selectByRule(db, { all: [] }, { asOf: T });
      assert.equal(all.length, 40);
      assert.deepEqual(await selectByRule(db, { all: [] }, { asOf: T, customerIds: all.slice(0, 3) }), all.slice(0, 3));
      assert.deepEqual(await selectByRule(db, { any: [] }, { asOf: T }), []);
    });
  });
}
