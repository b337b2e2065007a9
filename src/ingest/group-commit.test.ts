import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { recordEvents } from './events.js';
import { EventGroupCommit } from './group-commit.js';

const NOW = Date.UTC(2026, 0, 15, 12);
/**
 * Longer than a test waits for a commit (10 s): a batch that commits in time committed because it was
 * full, not because its timer fired (short enough that a timer left behind does not hold the process long).
 */
const LONG_WAIT = 20_000;

const pendingTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** The promise's value, or 'still waiting' after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const call = (id: string) => ({ type: 'track' as const, messageId: id, anonymousId: `anon-${id}`, event: 'Viewed' });

for (const dialect of DIALECTS) {
  describe(`group commit on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('a batch commits as soon as it holds maxEvents calls, without waiting for its timer', async () => {
      const group = new EventGroupCommit(t.store.db, { maxEvents: 2, maxWaitMs: LONG_WAIT });
      try {
        const result = await within(group.record([call('gc-1'), call('gc-2')], { now: NOW }), 10_000);
        assert.notEqual(result, 'still waiting');
        assert.equal(result === 'still waiting' ? 0 : result.inserted, 2);
      } finally {
        await group.drain();
      }
    });

    test('a request that arrives while a full batch commits waits for its own batch to fill or time out', async () => {
      const group = new EventGroupCommit(t.store.db, { maxEvents: 2, maxWaitMs: LONG_WAIT });
      try {
        // The first request fills a batch (2 of 2), which starts at once; the second (1 of 2) arrives
        // while it commits. Once the first is answered nothing is queued but the second's one call, so
        // its batch is not full: it waits for its timer (LONG_WAIT), not for the first batch's end.
        const first = group.record([call('gc-5'), call('gc-6')], { now: NOW });
        const second = group.record([call('gc-7')], { now: NOW });
        const firstResult = await within(first, 10_000);
        assert.notEqual(firstResult, 'still waiting');
        assert.equal(await within(second, 500), 'still waiting');
        // drain() commits it without its timer.
        await group.drain();
        const result = await second;
        assert.equal(result.inserted, 1);
      } finally {
        await group.drain();
      }
    });

    test('filling a waiting batch cancels its timer, and an empty queue sets none', async () => {
      const baseline = pendingTimers();
      const group = new EventGroupCommit(t.store.db, { maxEvents: 2, maxWaitMs: LONG_WAIT });
      try {
        // The first call waits (1 of 2) with a timer; the second fills the batch, which commits at once.
        const first = group.record([call('gc-3')], { now: NOW });
        assert.equal(pendingTimers(), baseline + 1);
        const second = group.record([call('gc-4')], { now: NOW });
        const results = await within(Promise.all([first, second]), 10_000);
        assert.notEqual(results, 'still waiting');
        await group.drain();
        assert.equal(pendingTimers(), baseline, 'no timer left behind');
        const stored = await t.store.db
          .selectFrom('events')
          .select('message_id')
          .where('message_id', 'in', ['gc-3', 'gc-4'])
          .execute();
        assert.equal(stored.length, 2);
      } finally {
        await group.drain();
      }
    });
    test('one batch of requests is written together, and each request is answered with its own share', async () => {
      const group = new EventGroupCommit(t.store.db, { maxEvents: 4, maxWaitMs: LONG_WAIT });
      const at = (minute: number) => new Date(NOW - 60_000 * minute).toISOString();
      const results = await within(
        Promise.all([
          // An anonymous view, then the same message again from elsewhere: a duplicate.
          group.record([{ ...call('tg-1'), anonymousId: 'anon-tg', timestamp: at(30) }], { now: NOW }),
          group.record([{ ...call('tg-1'), anonymousId: 'anon-other' }], { now: NOW }),
          // The visitor signs in: a new customer, the anonymous id linked and its view given to them.
          group.record(
            [
              {
                type: 'identify',
                messageId: 'tg-3',
                userId: 'u-tg',
                anonymousId: 'anon-tg',
                traits: { email: 'tg@example.com' },
                timestamp: at(20),
              },
            ],
            { now: NOW },
          ),
          // The same user again: met through the batch's own lookup, no second customer.
          group.record([{ ...call('tg-4'), anonymousId: undefined, userId: 'u-tg', timestamp: at(10) }], { now: NOW }),
        ]),
        10_000,
      );
      assert.notEqual(results, 'still waiting');
      if (results === 'still waiting') return;
      const customer = await t.store.db
        .selectFrom('customers')
        .select(['id', 'first_seen_at'])
        .where('email', '=', 'tg@example.com')
        .executeTakeFirstOrThrow();
      const id = Number(customer.id);
      const share = (r: (typeof results)[number]) => [
        r.inserted,
        r.duplicates,
        r.customersCreated,
        r.anonymousIdsLinked,
        r.customerIds,
      ];
      assert.deepEqual(results.map(share), [
        [1, 0, 0, 0, []],
        [0, 1, 0, 0, []],
        [1, 0, 1, 1, [id]],
        [1, 0, 0, 0, [id]],
      ]);
      const events = await t.store.db
        .selectFrom('events')
        .select(['message_id', 'customer_id'])
        .where('message_id', 'in', ['tg-1', 'tg-3', 'tg-4'])
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.message_id, Number(e.customer_id)]),
        [
          ['tg-1', id],
          ['tg-3', id],
          ['tg-4', id],
        ],
      );
      // First seen is the anonymous view's time, 30 minutes before NOW, backfilled at the end of the batch.
      assert.equal(Number(customer.first_seen_at), NOW - 30 * 60_000);
      // A later view under the linked anonymous id, looked up with the batch's other ids, is the customer's.
      const later = await recordEvents(t.store.db, [call('tg-5'), { ...call('tg-6'), anonymousId: 'anon-tg' }], {
        now: NOW,
      });
      assert.deepEqual(later.customerIds, [id]);
      const viewed = await t.store.db
        .selectFrom('events')
        .select(['message_id', 'customer_id'])
        .where('message_id', 'in', ['tg-5', 'tg-6'])
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        viewed.map((e) => [e.message_id, e.customer_id === null ? null : Number(e.customer_id)]),
        [
          ['tg-5', null],
          ['tg-6', id],
        ],
      );
    });

    test('a request refused in a batch is rolled back alone; the others are stored and answered', async () => {
      for (const user of ['x', 'y']) {
        await recordEvents(
          t.store.db,
          [
            {
              type: 'identify',
              messageId: `rf-${user}`,
              userId: `u-rf-${user}`,
              traits: { email: `${user}@rf.example` },
            },
          ],
          { now: NOW },
        );
      }
      const steal = (messageId: string) => ({
        type: 'identify' as const,
        messageId,
        userId: 'u-rf-y',
        traits: { email: 'x@rf.example' },
      });
      const group = new EventGroupCommit(t.store.db, { maxEvents: 4, maxWaitMs: LONG_WAIT });
      const results = await within(
        Promise.allSettled([
          group.record([call('rf-1')], { now: NOW }),
          // y has an address of their own, and x's belongs to x: a conflict, refused.
          group.record([steal('rf-2')], { now: NOW }),
          // The same with partial: answered, the call listed as rejected.
          group.record([steal('rf-3')], { now: NOW, partial: true }),
          group.record([{ ...call('rf-4'), anonymousId: undefined, userId: 'u-rf-x' }], { now: NOW }),
        ]),
        10_000,
      );
      assert.notEqual(results, 'still waiting');
      if (results === 'still waiting') return;
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      const [first, refused, partial, last] = results;
      assert.equal(first?.status === 'fulfilled' && first.value.inserted, 1);
      assert.equal(refused?.status === 'rejected' && (refused.reason as { kind?: string }).kind, 'conflict');
      assert.deepEqual(
        partial?.status === 'fulfilled' && partial.value.rejected.map((r) => [r.index, r.kind, r.field]),
        [[0, 'conflict', 'traits.email']],
      );
      assert.equal(partial?.status === 'fulfilled' && partial.value.inserted, 0);
      assert.equal(last?.status === 'fulfilled' && last.value.inserted, 1);
      const stored = await t.store.db
        .selectFrom('events')
        .select('message_id')
        .where('message_id', 'like', 'rf-%')
        .orderBy('message_id')
        .execute();
      assert.deepEqual(
        stored.map((e) => e.message_id),
        ['rf-1', 'rf-4', 'rf-x', 'rf-y'],
      );
      const y = await t.store.db
        .selectFrom('customers')
        .innerJoin('customer_identities', 'customer_identities.customer_id', 'customers.id')
        .select('customers.email')
        .where('customer_identities.external_id', '=', 'u-rf-y')
        .executeTakeFirstOrThrow();
      assert.equal(y.email, 'y@rf.example');
    });
  });
}
