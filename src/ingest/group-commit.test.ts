import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
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
  });
}
