import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { recordEvents } from './events.js';

const NOW = Date.UTC(2026, 0, 15, 12);

for (const dialect of DIALECTS) {
  describe(`recordEvents on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a messageId is stored once, also when repeated in one batch', async () => {
      const call = { type: 'track' as const, messageId: 'm-1', anonymousId: 'a-dup', event: 'Product Viewed' };
      const first = await recordEvents(t.store.db, [call, call], { now: NOW });
      assert.deepEqual([first.inserted, first.duplicates], [1, 1]);
      const again = await recordEvents(t.store.db, [call], { now: NOW });
      assert.deepEqual([again.inserted, again.duplicates], [0, 1]);
      const rows = await t.store.db.selectFrom('events').selectAll().where('message_id', '=', 'm-1').execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.event, 'Product Viewed');
      assert.equal(rows[0]!.customer_id, null);
    });

    test('identify links an anonymous id: its earlier events get the customer', async () => {
      const db = t.store.db;
      await recordEvents(
        db,
        [
          {
            type: 'page',
            messageId: 'p-1',
            anonymousId: 'anon-7',
            name: 'Home',
            timestamp: '2026-01-10T09:00:00Z',
            properties: { url: '/' },
          },
          {
            type: 'track',
            messageId: 'p-2',
            anonymousId: 'anon-7',
            event: 'Product Added',
            timestamp: '2026-01-10T09:05:00Z',
          },
        ],
        { now: NOW },
      );
      const identified = await recordEvents(
        db,
        [
          {
            type: 'identify',
            messageId: 'i-1',
            userId: 'u-42',
            anonymousId: 'anon-7',
            traits: {
              email: ' Ada@Example.com ',
              name: 'Ada Lovelace',
              phone: '+44 20 7946 0958',
              birthday: '1990-04-17',
              consent: { email: true },
            },
            timestamp: '2026-01-10T09:10:00Z',
          },
        ],
        { now: NOW },
      );
      assert.equal(identified.customersCreated, 1);
      assert.equal(identified.anonymousIdsLinked, 1);
      const customer = await db
        .selectFrom('customers')
        .selectAll()
        .where('email', '=', 'ada@example.com')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [customer.first_name, customer.last_name, customer.phone, customer.birthday],
        ['Ada', 'Lovelace', '+442079460958', '1990-04-17'],
      );
      assert.equal(customer.first_seen_at, Date.UTC(2026, 0, 10, 9, 0));
      const events = await db
        .selectFrom('events')
        .select(['message_id', 'customer_id'])
        .where('anonymous_id', '=', 'anon-7')
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        events.map((e) => e.customer_id),
        [customer.id, customer.id, customer.id],
      );
      const consent = await db
        .selectFrom('customer_consents')
        .selectAll()
        .where('customer_id', '=', customer.id)
        .execute();
      assert.deepEqual(
        consent.map((c) => [c.channel, c.granted]),
        [['email', 1]],
      );
      const identity = await db
        .selectFrom('customer_identities')
        .selectAll()
        .where('external_id', '=', 'u-42')
        .executeTakeFirstOrThrow();
      assert.deepEqual([identity.source, identity.customer_id], ['api', customer.id]);

      // Later anonymous events of the same browser, and events naming the userId, find the customer.
      await recordEvents(
        db,
        [
          { type: 'track', messageId: 'p-3', anonymousId: 'anon-7', event: 'Checkout Started' },
          { type: 'track', messageId: 'p-4', userId: 'u-42', event: 'Order Completed' },
        ],
        { now: NOW },
      );
      const later = await db
        .selectFrom('events')
        .select('customer_id')
        .where('message_id', 'in', ['p-3', 'p-4'])
        .execute();
      assert.deepEqual(
        later.map((e) => e.customer_id),
        [customer.id, customer.id],
      );
    });

    test('an identify with a known e-mail joins the existing customer under the given source', async () => {
      const db = t.store.db;
      const existing = {
        id: await addCustomer(db, {
          source: 'shopify',
          email: 'grace@example.com',
          firstName: 'Grace',
          firstSeenAt: NOW,
          createdAt: NOW,
        }),
      };
      const result = await recordEvents(
        db,
        [
          {
            type: 'identify',
            messageId: 'i-2',
            userId: '7001',
            traits: { email: 'grace@example.com', lastName: 'Hopper', acceptsMarketing: false },
          },
        ],
        { now: NOW, userIdSource: 'shopify' },
      );
      assert.equal(result.customersCreated, 0);
      const identity = await db
        .selectFrom('customer_identities')
        .selectAll()
        .where('source', '=', 'shopify')
        .where('external_id', '=', '7001')
        .executeTakeFirstOrThrow();
      assert.equal(identity.customer_id, existing.id);
      const customer = await db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', existing.id)
        .executeTakeFirstOrThrow();
      assert.equal(customer.last_name, 'Hopper');
    });

    test('a clock-skewed device is corrected by sentAt; a missing messageId is derived from the content', async () => {
      const db = t.store.db;
      const call = {
        type: 'track' as const,
        anonymousId: 'skew',
        event: 'Viewed',
        originalTimestamp: '2026-01-15T11:00:00Z',
      };
      const first = await recordEvents(db, [call], { now: NOW, sentAt: '2026-01-15T11:00:10Z' });
      const second = await recordEvents(db, [call], { now: NOW, sentAt: '2026-01-15T11:00:10Z' });
      assert.deepEqual([first.inserted, second.duplicates], [1, 1]);
      const row = await db
        .selectFrom('events')
        .selectAll()
        .where('anonymous_id', '=', 'skew')
        .executeTakeFirstOrThrow();
      assert.equal(row.occurred_at, NOW - 10_000);
    });

    test('concurrent identifies of one new e-mail make one customer', async () => {
      const db = t.store.db;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          recordEvents(
            db,
            [
              {
                type: 'identify',
                messageId: `race-${i}`,
                anonymousId: `race-anon-${i}`,
                traits: { email: 'race@example.com' },
              },
            ],
            { now: NOW },
          ),
        ),
      );
      assert.equal(
        results.reduce((sum, r) => sum + r.inserted, 0),
        8,
      );
      const customers = await db.selectFrom('customers').select('id').where('email', '=', 'race@example.com').execute();
      assert.equal(customers.length, 1);
      const linked = await db
        .selectFrom('anonymous_ids')
        .select('customer_id')
        .where('anonymous_id', 'like', 'race-anon-%')
        .execute();
      assert.deepEqual(new Set(linked.map((l) => l.customer_id)), new Set([customers[0]!.id]));
    });

    test('bad calls are refused naming the field, and nothing of the batch is stored', async () => {
      const db = t.store.db;
      await assert.rejects(
        recordEvents(
          db,
          [
            { type: 'track', messageId: 'ok-1', anonymousId: 'x', event: 'A' },
            { type: 'track', messageId: 'bad-1', anonymousId: 'x', event: 'A', timestamp: 'yesterday' },
          ],
          { now: NOW, path: 'batch' },
        ),
        (error: unknown) =>
          error instanceof ComebackError &&
          error.kind === 'bad_input' &&
          error.location?.field === 'batch[1].timestamp',
      );
      await assert.rejects(
        recordEvents(db, [{ type: 'track', messageId: 'no-id', event: 'A' }], { now: NOW }),
        /userId or an anonymousId/,
      );
      const stored = await db.selectFrom('events').select('id').where('message_id', '=', 'ok-1').execute();
      assert.equal(stored.length, 0);
    });
    test('partial: a bad call and a conflicting e-mail are rejected by index and field, the rest is stored', async () => {
      const db = t.store.db;
      await recordEvents(
        db,
        [
          { type: 'identify', messageId: 'cf-1', userId: 'u-yara', traits: { email: 'yara@example.com' } },
          { type: 'identify', messageId: 'cf-2', userId: 'u-zoe', traits: { email: 'zoe@example.com' } },
        ],
        { now: NOW },
      );
      const idOf = async (email: string) =>
        Number((await db.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id);
      const yara = await idOf('yara@example.com');
      const zoe = await idOf('zoe@example.com');
      // Yara (with an e-mail of her own) now says she is zoe@: not merged, a conflict on traits.email.
      const result = await recordEvents(
        db,
        [
          { type: 'track', messageId: 'cf-3', event: 'A' },
          { type: 'identify', messageId: 'cf-4', userId: 'u-yara', traits: { email: 'zoe@example.com' } },
          { type: 'track', messageId: 'cf-5', userId: 'u-yara', event: 'B' },
        ],
        { now: NOW, partial: true, path: 'batch' },
      );
      assert.deepEqual(result.rejected, [
        { index: 0, kind: 'bad_input', field: 'batch[0].userId', reason: 'a call needs a userId or an anonymousId' },
        {
          index: 1,
          kind: 'conflict',
          field: 'batch[1].traits.email',
          reason: `zoe@example.com belongs to customer ${zoe}; this user is customer ${yara} (yara@example.com): not merged`,
        },
      ]);
      assert.equal(result.inserted, 1);
      const stored = await db
        .selectFrom('events')
        .select(['message_id', 'customer_id'])
        .where('message_id', 'in', ['cf-3', 'cf-4', 'cf-5'])
        .execute();
      assert.deepEqual(
        stored.map((e) => [e.message_id, Number(e.customer_id)]),
        [['cf-5', yara]],
      );
    });

    test('partial: each call type’s own required field is refused by index, field and reason', async () => {
      const db = t.store.db;
      const result = await recordEvents(
        db,
        [
          { type: 'track', messageId: 'rq-1', anonymousId: 'rq', event: '  ' },
          { type: 'track', messageId: 'rq-2', anonymousId: 'rq' },
          { type: 'alias', messageId: 'rq-3', userId: 'u-rq' },
          { type: 'alias', messageId: 'rq-4', anonymousId: 'rq', previousId: 'rq-old' },
          { type: 'group', messageId: 'rq-5', userId: 'u-rq', groupId: ' ' },
          // The same fields are not asked of the other types: a page has no event name, a group its groupId.
          { type: 'page', messageId: 'rq-6', anonymousId: 'rq', name: 'Home' },
          { type: 'group', messageId: 'rq-7', userId: 'u-rq', groupId: 'acme' },
          { type: 'track', messageId: 'rq-8', anonymousId: 'rq', event: 'Viewed' },
        ],
        { now: NOW, partial: true, path: 'batch' },
      );
      assert.deepEqual(result.rejected, [
        { index: 0, kind: 'bad_input', field: 'batch[0].event', reason: 'a track call needs an event name' },
        { index: 1, kind: 'bad_input', field: 'batch[1].event', reason: 'a track call needs an event name' },
        { index: 2, kind: 'bad_input', field: 'batch[2].previousId', reason: 'an alias call needs a previousId' },
        {
          index: 3,
          kind: 'bad_input',
          field: 'batch[3].userId',
          reason: 'an alias call needs the userId to merge into',
        },
        { index: 4, kind: 'bad_input', field: 'batch[4].groupId', reason: 'a group call needs a groupId' },
      ]);
      assert.equal(result.inserted, 3);
      const stored = await db
        .selectFrom('events')
        .select(['message_id', 'type', 'event'])
        .where('message_id', 'like', 'rq-%')
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        stored.map((e) => [e.message_id, e.type]),
        [
          ['rq-6', 'page'],
          ['rq-7', 'group'],
          ['rq-8', 'track'],
        ],
      );
    });

    test('identify: a customer without an e-mail naming another customer’s is merged into that one', async () => {
      const db = t.store.db;
      const owner = await addCustomer(db, { email: 'owner@example.com', firstSeenAt: NOW, createdAt: NOW });
      // A userId first seen on a track: a customer of its own, without an e-mail.
      await recordEvents(db, [{ type: 'track', messageId: 'mg-1', userId: 'u-mg', event: 'A' }], { now: NOW });
      const before = await db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', 'api')
        .where('external_id', '=', 'u-mg')
        .executeTakeFirstOrThrow();
      const own = Number(before.customer_id);
      assert.notEqual(own, owner);
      const result = await recordEvents(
        db,
        [
          { type: 'identify', messageId: 'mg-2', userId: 'u-mg', traits: { email: 'owner@example.com' } },
          { type: 'track', messageId: 'mg-3', userId: 'u-mg', event: 'B' },
        ],
        { now: NOW, partial: true, path: 'batch' },
      );
      assert.deepEqual(result.rejected, []);
      assert.equal(result.customersMerged, 1);
      assert.deepEqual(result.customerIds, [owner]);
      // Both calls, and the earlier track, are the owner's; the e-mail-less customer is gone.
      const events = await db
        .selectFrom('events')
        .select(['message_id', 'customer_id'])
        .where('message_id', 'in', ['mg-1', 'mg-2', 'mg-3'])
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.message_id, Number(e.customer_id)]),
        [
          ['mg-1', owner],
          ['mg-2', owner],
          ['mg-3', owner],
        ],
      );
      const left = await db.selectFrom('customers').select('id').where('id', '=', own).execute();
      assert.equal(left.length, 0);
    });

    test('identify: a merge the store refuses (a loyalty member) is a conflict on traits.email, nothing merged', async () => {
      const db = t.store.db;
      const owner = await addCustomer(db, { email: 'owner2@example.com', firstSeenAt: NOW, createdAt: NOW });
      await recordEvents(db, [{ type: 'track', messageId: 'lm-1', userId: 'u-lm', event: 'A' }], { now: NOW });
      const member = Number(
        (
          await db
            .selectFrom('customer_identities')
            .select('customer_id')
            .where('source', '=', 'api')
            .where('external_id', '=', 'u-lm')
            .executeTakeFirstOrThrow()
        ).customer_id,
      );
      await sql`insert into loyalty_members (customer_id, enrolled_at, balance, pending, settled_at, lifetime_earned,
        gross_earned, tier, tier_since, tier_review_at, referral_code, last_activity_at)
        values (${member}, ${NOW}, 0, 0, ${NOW}, 0, 0, 'base', ${NOW}, ${NOW}, 'EVMERGE1', ${NOW})`.execute(db);
      const result = await recordEvents(
        db,
        [{ type: 'identify', messageId: 'lm-2', userId: 'u-lm', traits: { email: 'owner2@example.com' } }],
        { now: NOW, partial: true, path: 'batch' },
      );
      assert.deepEqual(result.rejected, [
        {
          index: 0,
          kind: 'conflict',
          field: 'batch[0].traits.email',
          reason: `customer ${member} is a loyalty member; merge them by hand`,
        },
      ]);
      assert.equal(result.customersMerged, 0);
      assert.equal(result.inserted, 0);
      const both = await db.selectFrom('customers').select('id').where('id', 'in', [member, owner]).execute();
      assert.equal(both.length, 2);
    });

    test('each call type’s stored row: name, properties, session, campaign, referrer and the time it occurred', async () => {
      const db = t.store.db;
      const at = (iso: string) => Date.parse(iso);
      await recordEvents(
        db,
        [
          {
            type: 'track',
            messageId: 'row-1',
            anonymousId: ' row-anon ',
            event: ' Product Viewed ',
            properties: { sku: 'S-1' },
            // No sentAt: the call's own timestamp is when it happened.
            timestamp: '2026-01-15T10:00:00Z',
            context: {
              sessionId: 42,
              campaign: { source: ' News ', medium: 'EMAIL', name: '' },
              page: { referrer: 'https://www.Example.com/a?b=c' },
            },
          },
          {
            type: 'page',
            messageId: 'row-2',
            anonymousId: 'row-anon',
            name: 'Home',
            // originalTimestamp wins over timestamp; the device's clock was 30 s ahead when it sent at 11:00:30.
            timestamp: '2026-01-15T09:00:00Z',
            originalTimestamp: '2026-01-15T11:00:00Z',
            sentAt: '2026-01-15T11:00:30Z',
            context: { sessionId: ' s-9 ' },
          },
          { type: 'group', messageId: 'row-3', anonymousId: 'row-anon', groupId: 'acme', traits: { plan: 'pro' } },
          { type: 'screen', messageId: 'row-4', anonymousId: 'row-anon', context: { sessionId: { no: 1 } } },
        ],
        { now: NOW },
      );
      const rows = await db
        .selectFrom('events')
        .select([
          'message_id',
          'type',
          'event',
          'anonymous_id',
          'session_id',
          'properties',
          'occurred_at',
          'received_at',
          'utm_source',
          'utm_medium',
          'utm_campaign',
          'referrer',
        ])
        .where('message_id', 'like', 'row-%')
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        rows.map((r) => ({ ...r, occurred_at: Number(r.occurred_at), received_at: Number(r.received_at) })),
        [
          {
            message_id: 'row-1',
            type: 'track',
            event: 'Product Viewed',
            anonymous_id: 'row-anon',
            session_id: '42',
            properties: '{"sku":"S-1"}',
            occurred_at: at('2026-01-15T10:00:00Z'),
            received_at: NOW,
            utm_source: 'news',
            utm_medium: 'email',
            utm_campaign: null,
            referrer: 'www.example.com',
          },
          {
            message_id: 'row-2',
            type: 'page',
            event: 'Home',
            anonymous_id: 'row-anon',
            session_id: 's-9',
            properties: '{}',
            // now − (sentAt − originalTimestamp) = 12:00:00 − 30 s.
            occurred_at: NOW - 30_000,
            received_at: NOW,
            utm_source: null,
            utm_medium: null,
            utm_campaign: null,
            referrer: null,
          },
          {
            message_id: 'row-3',
            type: 'group',
            event: 'acme',
            anonymous_id: 'row-anon',
            session_id: null,
            properties: '{"plan":"pro"}',
            // No time at all: when it was received.
            occurred_at: NOW,
            received_at: NOW,
            utm_source: null,
            utm_medium: null,
            utm_campaign: null,
            referrer: null,
          },
          {
            message_id: 'row-4',
            type: 'screen',
            event: null,
            anonymous_id: 'row-anon',
            session_id: null,
            properties: '{}',
            occurred_at: NOW,
            received_at: NOW,
            utm_source: null,
            utm_medium: null,
            utm_campaign: null,
            referrer: null,
          },
        ],
      );
    });

    test('identify: a birthday trait as a date, a time, a month and day, or not a date at all', async () => {
      const db = t.store.db;
      const result = await recordEvents(
        db,
        [
          { type: 'identify', messageId: 'bd-1', userId: 'u-bd1', traits: { birthday: '1990-04-17T00:00:00Z' } },
          { type: 'identify', messageId: 'bd-2', userId: 'u-bd2', traits: { birthday: '--04-17' } },
          { type: 'identify', messageId: 'bd-3', userId: 'u-bd3', traits: { birthday: 'someday' } },
        ],
        { now: NOW, partial: true },
      );
      assert.deepEqual([result.inserted, result.rejected], [3, []]);
      const birthdays = await db
        .selectFrom('customers')
        .innerJoin('customer_identities', 'customer_identities.customer_id', 'customers.id')
        .select(['customer_identities.external_id', 'customers.birthday'])
        .where('customer_identities.external_id', 'in', ['u-bd1', 'u-bd2', 'u-bd3'])
        .orderBy('customer_identities.external_id')
        .execute();
      // Not a date: no birthday, and the call is stored all the same.
      assert.deepEqual(
        birthdays.map((b) => [b.external_id, b.birthday]),
        [
          ['u-bd1', '1990-04-17'],
          ['u-bd2', '--04-17'],
          ['u-bd3', null],
        ],
      );
    });

    test('alias: the anonymous id named as previousId becomes the user’s, its earlier events with it', async () => {
      const db = t.store.db;
      await recordEvents(db, [{ type: 'track', messageId: 'al-1', anonymousId: 'anon-al', event: 'A' }], { now: NOW });
      // The anonymous id had no customer of its own: linked, nobody merged.
      const aliased = await recordEvents(
        db,
        [{ type: 'alias', messageId: 'al-2', userId: 'u-al', previousId: 'anon-al' }],
        { now: NOW },
      );
      assert.equal(aliased.customersMerged, 0);
      const user = await db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', 'api')
        .where('external_id', '=', 'u-al')
        .executeTakeFirstOrThrow();
      const earlier = await db
        .selectFrom('events')
        .select('customer_id')
        .where('message_id', '=', 'al-1')
        .executeTakeFirstOrThrow();
      assert.equal(earlier.customer_id, user.customer_id);
      const previous = await db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('external_id', '=', 'anon-al')
        .executeTakeFirstOrThrow();
      assert.equal(previous.customer_id, user.customer_id);
      // The same alias again: previousId is already the user's own, so there is nothing to merge.
      const again = await recordEvents(
        db,
        [{ type: 'alias', messageId: 'al-3', userId: 'u-al', previousId: 'anon-al' }],
        { now: NOW },
      );
      assert.deepEqual([again.customersMerged, again.inserted], [0, 1]);
      assert.deepEqual(again.customerIds, [Number(user.customer_id)]);
    });
  });
}
