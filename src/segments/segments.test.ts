import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addEvent, addOrder, DAY } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { customerProfile, resolveCustomerId } from './profile.queries.js';
import { parseRule } from './rules.js';
import {
  getSavedSegment,
  type LabelChange,
  refreshSegments,
  refreshSegmentsForCustomers,
  saveSegment,
  segmentMemberIds,
  segmentSizeHistory,
} from './segments.queries.js';

const T = Date.UTC(2025, 5, 1);

for (const dialect of DIALECTS) {
  describe(`saved segments on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let ann: number;
    let bob: number;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      ann = await addCustomer(db, { email: 'ann@example.com', country: 'United Kingdom', firstName: 'Ann' });
      bob = await addCustomer(db, { email: 'bob@example.com', country: 'France' });
      await db
        .insertInto('customer_identities')
        .values({ source: 'shop', external_id: 'A-1', customer_id: ann })
        .execute();
      await addOrder(db, ann, { at: T - 40 * DAY, totalMinor: 2000 });
      await addOrder(db, bob, { at: T - 5 * DAY, totalMinor: 9000 });
      await addOrder(db, bob, { at: T - 2 * DAY, totalMinor: 9000 });
      await addEvent(db, { customerId: ann, event: 'Product Viewed', at: T - DAY });
      await refreshSegments(db, { asOf: T });
    });
    after(async () => t?.drop());

    test('membership changes when a new order arrives', async () => {
      const db = t.store.db;
      const rule = parseRule({
        all: [
          { orders: 'count', withinDays: 60, op: 'gte', value: 2 },
          { field: 'country', op: 'eq', value: 'United Kingdom' },
        ],
      });
      const saved = await saveSegment(db, 'uk-repeaters', rule, { asOf: T, now: T });
      assert.equal(saved.size, 0);
      const repeat = await saveSegment(db, 'repeat-buyers', parseRule({ persona: 'repeat_buyer' }), {
        asOf: T,
        now: T,
      });
      assert.deepEqual(await segmentMemberIds(db, repeat.segment.id), [bob]);

      // Ann orders again; the importer calls the incremental refresh for the customers it touched.
      const later = T + DAY;
      await addOrder(db, ann, { at: T + DAY / 2, totalMinor: 1500 });
      const seen: LabelChange[] = [];
      const summary = await refreshSegments(db, { asOf: later, customerIds: [ann], onChange: (c) => seen.push(c) });
      assert.deepEqual(await segmentMemberIds(db, saved.segment.id), [ann]);
      assert.deepEqual(await segmentMemberIds(db, repeat.segment.id), [ann, bob]);
      assert.deepEqual(
        summary.segments.map((s) => [s.name, s.size, s.joined, s.left]),
        [
          ['repeat-buyers', 2, 1, 0],
          ['uk-repeaters', 1, 1, 0],
        ],
      );
      assert.ok(seen.some((c) => c.customerId === ann && c.kind === 'persona' && c.to === 'repeat_buyer'));
      assert.equal(summary.changes.total, seen.length);
      assert.ok(
        seen.every((c) => c.customerId === ann),
        'only the customer the import touched',
      );
      assert.deepEqual(
        (await segmentSizeHistory(db, saved.segment.id)).map((s) => [s.asOf, s.size]),
        [
          [T, 0],
          [later, 1],
        ],
      );

      // Refunded in full, the order is no sale any more: Ann leaves again.
      await db
        .updateTable('orders')
        .set({ status: 'refunded', refunded_minor: 1500 })
        .where('placed_at', '=', T + DAY / 2)
        .execute();
      await refreshSegmentsForCustomers(db, [ann], { asOf: later + DAY });
      assert.deepEqual(await segmentMemberIds(db, saved.segment.id), []);
    });

    test('saving under the same name replaces the rule; an unknown name is not found', async () => {
      const db = t.store.db;
      await saveSegment(db, 'french', parseRule({ field: 'country', op: 'eq', value: 'France' }), { asOf: T, now: T });
      const replaced = await saveSegment(
        db,
        'french',
        parseRule({ field: 'country', op: 'in', value: ['France', 'Spain'] }),
        { asOf: T, now: T + 1 },
      );
      assert.equal(replaced.size, 1);
      assert.deepEqual((await getSavedSegment(db, 'french')).rule, {
        field: 'country',
        op: 'in',
        value: ['France', 'Spain'],
      });
      await assert.rejects(
        getSavedSegment(db, 'nope'),
        (e: unknown) => e instanceof ComebackError && e.kind === 'not_found',
      );
    });

    test('the customer profile tells the whole story', async () => {
      const db = t.store.db;
      assert.equal(await resolveCustomerId(db, 'ANN@example.com'), ann);
      assert.equal(await resolveCustomerId(db, 'shop:A-1'), ann);
      assert.equal(await resolveCustomerId(db, String(bob)), bob);
      await assert.rejects(
        resolveCustomerId(db, 'shop:nobody'),
        (e: unknown) => e instanceof ComebackError && e.kind === 'not_found',
      );
      const asOf = T + 10 * DAY;
      const scores = new Map([[bob, { pAlive: 0.8, expectedPurchases: 2.5, clv: 120, nextOrderAt: T + 20 * DAY }]]);
      const profile = await customerProfile(db, bob, { asOf, scores });
      assert.equal(profile.customer.email, 'bob@example.com');
      assert.equal(profile.orders.length, 2);
      assert.equal(profile.rfm?.frequency, 2);
      assert.match(profile.rfm?.reason ?? '', /^R=\d F=\d M=\d matches /);
      assert.equal(profile.persona?.persona, 'repeat_buyer');
      assert.ok(profile.persona?.play);
      assert.equal(profile.lifecycle?.stage, 'active');
      assert.equal(profile.scores?.nextOrderDate, '2025-06-21');
      assert.deepEqual(profile.segments, ['french', 'repeat-buyers']);
      assert.ok(profile.labels.some((l) => l.kind === 'lifecycle'));
      const times = profile.timeline.map((e) => e.at);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      assert.ok(profile.timeline.some((e) => e.kind === 'event' && e.type === 'segment_entered'));
      const annProfile = await customerProfile(db, ann, { asOf });
      assert.ok(annProfile.timeline.some((e) => e.kind === 'event' && e.event === 'Product Viewed'));
      assert.equal(annProfile.scores, null);
      assert.equal(annProfile.loyalty, null);
    });
  });
}
