import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { importFile, recordEvents } from '../ingest/index.js';
import { cohortTable } from './cohorts.queries.js';
import { type GroupKind, groupAssignment, parseGrouping } from './groups.queries.js';
import { retentionReport } from './report.queries.js';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/import/shopify-acquisition.csv');
const NOW = Date.UTC(2026, 0, 1);
const MARCH_END = Date.UTC(2024, 3, 1);
const MARCH_START = Date.UTC(2024, 2, 1);

/**
 * Four customers from a Shopify export with payment method, referring site, landing site (UTM) and
 * source, worked out by hand: a (Google cpc "spring", Shopify Payments in January, PayPal and Canada
 * in March), b (from instagram.com, PayPal; loyalty silver from January, gold from 2024-03-15), c (point
 * of sale, cash on delivery), d (a newsletter e-mail event on 2024-03-01, then PayPal on 2024-03-20).
 */
for (const dialect of DIALECTS) {
  describe(`figures by group on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const id = new Map<string, number>();
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      await importFile(db, FIXTURE, { format: 'shopify', now: NOW });
      await recordEvents(
        db,
        [
          {
            type: 'track',
            event: 'Email Clicked',
            userId: 'd-1',
            timestamp: '2024-03-01T09:00:00Z',
            context: {
              traits: { email: 'd@x.test' },
              campaign: { source: 'Newsletter', medium: 'email', name: 'march' },
            },
          },
        ],
        { now: NOW },
      );
      for (const row of await db.selectFrom('customers').select(['id', 'email']).execute()) {
        id.set(String(row.email).slice(0, 1), Number(row.id));
      }
      const at = (date: string) => Date.parse(`${date}T00:00:00Z`);
      await sql`insert into customer_segments (customer_id, kind, value, since, reason)
        values (${id.get('a')!}, 'rfm', 'Champions', ${at('2024-03-31')}, 'test')`.execute(db);
      await sql`insert into saved_segments (name, rules, created_at, updated_at) values ('vip', '{}', 0, 0)`.execute(
        db,
      );
      await sql`insert into segment_members (segment_id, customer_id, since)
        select id, ${id.get('a')!}, 0 from saved_segments where name = 'vip'`.execute(db);
      await sql`insert into loyalty_members (customer_id, enrolled_at, balance, pending, settled_at, lifetime_earned,
          gross_earned, tier, tier_since, tier_review_at, referral_code, last_activity_at)
        values (${id.get('b')!}, ${at('2024-01-01')}, 0, 0, 0, 0, 0, 'gold', ${at('2024-03-15')}, 0, 'B1', 0)`.execute(
        db,
      );
      await sql`insert into loyalty_tier_history (customer_id, from_tier, to_tier, changed_at, reason, qualifying_value)
        values (${id.get('b')!}, null, 'silver', ${at('2024-01-01')}, 'enrol', 0),
               (${id.get('b')!}, 'silver', 'gold', ${at('2024-03-15')}, 'spend', 0)`.execute(db);
    });
    after(() => dropWhenClosed(t));

    /** Every customer's group as of `at`, keyed by the e-mail's first letter. */
    async function groupsAt(kind: GroupKind, at: number, segment?: string): Promise<Record<string, string>> {
      const query = await groupAssignment(t.store.db, { kind, segment }, at);
      const { rows } = await sql<{ customer_id: number; grp: string }>`${query}`.execute(t.store.db);
      const letter = new Map([...id].map(([k, v]) => [v, k]));
      return Object.fromEntries(rows.map((r) => [letter.get(Number(r.customer_id))!, r.grp]).sort());
    }

    test('the importer keeps payment method, referring host, landing site, channel and lower-cased UTM', async () => {
      const rows = await t.store.db
        .selectFrom('orders')
        .select(['external_id', 'payment_method', 'referring_site', 'landing_site', 'sales_channel', 'utm_source'])
        .select(['utm_medium', 'utm_campaign'])
        .orderBy('external_id')
        .execute();
      assert.deepEqual(rows[0], {
        external_id: '#1001',
        payment_method: 'Shopify Payments',
        referring_site: 'www.google.com',
        landing_site: '/products/mug?utm_source=Google&utm_medium=cpc&utm_campaign=spring',
        sales_channel: 'web',
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'spring',
      });
      assert.equal(rows[4]!.sales_channel, null);
      const events = await t.store.db
        .selectFrom('events')
        .select(['utm_source', 'utm_medium', 'utm_campaign'])
        .execute();
      assert.deepEqual(events, [{ utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'march' }]);
    });

    test('payment method and country: the latest sale before the instant', async () => {
      assert.deepEqual(await groupsAt('payment', MARCH_END), {
        a: 'PayPal',
        b: 'PayPal',
        c: 'Cash on Delivery (COD)',
        d: 'PayPal',
      });
      assert.deepEqual(await groupsAt('payment', MARCH_START), {
        a: 'Shopify Payments',
        b: 'PayPal',
        c: 'Cash on Delivery (COD)',
        d: 'unknown',
      });
      assert.equal((await groupsAt('country', MARCH_END)).a, 'CA');
      assert.equal((await groupsAt('country', MARCH_START)).a, 'US');
      // 2024-03-05 10:00 is the sale's instant: one millisecond later it counts, at it not yet.
      const sale = Date.UTC(2024, 2, 5, 10);
      assert.equal((await groupsAt('country', sale)).a, 'US');
      assert.equal((await groupsAt('country', sale + 1)).a, 'CA');
    });

    test('a cancellation after the instant does not move a past group (the order as it stood then)', async () => {
      const db = t.store.db;
      const sale = Date.UTC(2024, 2, 5, 10);
      const cancelledAt = Date.UTC(2024, 3, 10);
      const before = await sql<{ id: number; status: string }>`select id, status from orders
        where customer_id = ${id.get('a')!} and placed_at = ${sale}`.execute(db);
      assert.equal(before.rows.length, 1, "a's Canadian PayPal order of 2024-03-05");
      const order = before.rows[0]!;
      await sql`update orders set status = 'cancelled', cancelled_at = ${cancelledAt} where id = ${order.id}`.execute(
        db,
      );
      try {
        // As of the end of March the order was a sale: Canada and PayPal, as before it was cancelled.
        assert.equal((await groupsAt('country', MARCH_END)).a, 'CA');
        assert.equal((await groupsAt('payment', MARCH_END)).a, 'PayPal');
        // From the cancellation on, the January sale is the latest: US and Shopify Payments.
        assert.equal((await groupsAt('country', cancelledAt)).a, 'CA', 'at the instant it is not yet cancelled');
        assert.equal((await groupsAt('country', cancelledAt + 1)).a, 'US');
        assert.equal((await groupsAt('payment', cancelledAt + 1)).a, 'Shopify Payments');
      } finally {
        await sql`update orders set status = ${order.status}, cancelled_at = null where id = ${order.id}`.execute(db);
      }
    });

    test('acquisition: the first touch (order or event) before the instant', async () => {
      assert.deepEqual(await groupsAt('source', MARCH_END), {
        a: 'google',
        b: 'instagram.com',
        c: '(direct)',
        d: 'newsletter',
      });
      assert.deepEqual(await groupsAt('medium', MARCH_END), { a: 'cpc', b: 'referral', c: '(none)', d: 'email' });
      assert.deepEqual(await groupsAt('campaign', MARCH_END), {
        a: 'spring',
        b: '(not set)',
        c: '(not set)',
        d: 'march',
      });
      assert.deepEqual(await groupsAt('referrer', MARCH_END), {
        a: 'www.google.com',
        b: 'instagram.com',
        c: '(direct)',
        d: '(direct)',
      });
      assert.deepEqual(await groupsAt('channel', MARCH_END), { a: 'web', b: 'web', c: 'pos', d: '(unknown)' });
      assert.equal((await groupsAt('source', MARCH_START)).d, '(unknown)', 'the e-mail was clicked at 09:00');
    });

    test('tier at the instant, stored labels and saved segments', async () => {
      assert.equal((await groupsAt('tier', MARCH_START)).b, 'silver');
      assert.equal((await groupsAt('tier', MARCH_END)).b, 'gold');
      assert.equal((await groupsAt('tier', Date.UTC(2024, 2, 15))).b, 'silver', 'changed at that instant: not yet');
      assert.equal((await groupsAt('tier', MARCH_END)).a, 'not a member');
      assert.deepEqual(await groupsAt('rfm', MARCH_END), {
        a: 'Champions',
        b: '(no label)',
        c: '(no label)',
        d: '(no label)',
      });
      assert.deepEqual(await groupsAt('segment', MARCH_END, 'vip'), {
        a: 'vip',
        b: 'not vip',
        c: 'not vip',
        d: 'not vip',
      });
      await assert.rejects(groupAssignment(t.store.db, { kind: 'segment', segment: 'nobody' }, MARCH_END), /nobody/);
      assert.throws(() => parseGrouping('planet'), /choose one of/);
      assert.deepEqual(parseGrouping('segment:vip'), { kind: 'segment', segment: 'vip' });
    });

    test('report by payment method for March 2024, 30-day window, worked out by hand', async () => {
      const r = await retentionReport(t.store.db, {
        from: MARCH_START,
        to: MARCH_END,
        asOf: MARCH_END,
        activeWindowDays: 30,
        by: { kind: 'payment' },
      });
      const g = r.byGroup!;
      assert.equal(g.by, 'payment');
      assert.deepEqual(
        g.groups.map((x) => x.group),
        ['PayPal', 'Cash on Delivery (COD)', 'Shopify Payments', 'unknown'],
        'the groups of either period: a paid with Shopify Payments and d had not bought by 03-01',
      );
      const paypal = g.groups[0]!;
      // Active on 03-01 (sale in 01-31…02-29): b. On 04-01 (03-02…03-31): a, d. d is new, a came back.
      assert.deepEqual(
        [
          paypal.customersStart,
          paypal.customersEnd,
          paypal.newCustomers,
          paypal.customersLost,
          paypal.retainedCustomers,
          paypal.reactivatedCustomers,
          paypal.crr,
          paypal.churnRate,
          paypal.orders,
          paypal.revenue,
          paypal.aov,
          paypal.buyers,
        ],
        [1, 2, 1, 1, 0, 1, 0, 1, 2, 110, 55, 2],
      );
      const cod = g.groups[1]!;
      assert.deepEqual([cod.customersStart, cod.customersEnd, cod.customersLost, cod.crr], [1, 0, 1, 0]);
      // The previous period (February), each customer as of 03-01: a Shopify Payments, d unknown.
      assert.deepEqual(
        [paypal.previous.buyers, paypal.previous.orders, paypal.previous.revenue],
        [1, 1, 80],
        'b bought in February and paid with PayPal',
      );
      const shopify = g.groups.find((x) => x.group === 'Shopify Payments')!;
      assert.equal(shopify.customersEnd, 0, 'a is active on 04-01 but pays with PayPal by then');
      assert.equal(shopify.previous.buyers, 0, 'a did not buy in February');
    });

    test('cohorts by acquisition source', async () => {
      const table = await cohortTable(t.store.db, { asOf: MARCH_END, by: { kind: 'source' } });
      assert.equal(table.by?.name, 'source');
      assert.deepEqual(
        table.cohorts.map((c) => [c.cohort, c.group, c.size, c.values]),
        [
          ['2024-01', 'google', 1, [1, 0, 1]],
          ['2024-02', '(direct)', 1, [1, 0]],
          ['2024-02', 'instagram.com', 1, [1, 0]],
          ['2024-03', 'newsletter', 1, [1]],
        ],
      );
      await assert.rejects(
        cohortTable(t.store.db, { asOf: MARCH_END, by: { kind: 'source' }, breakdown: 'value' }),
        /either a breakdown or a grouping/,
      );
    });
  });
}
