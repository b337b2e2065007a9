import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { campaignDefinition, sendCampaign } from './campaigns.queries.js';
import { saveFlow } from './flows.queries.js';

describe('campaignDefinition topic', () => {
  test('the topic goes on every send step (both A/B variants); without one, none', () => {
    const flow = campaignDefinition({ key: 'spring', segment: 'vip', templates: ['a', 'b'], topic: 'new_products' });
    assert.deepEqual(
      flow.steps.flatMap((s) => (s.type === 'send' ? [[s.id, s.topic]] : [])),
      [
        ['variant-a', 'new_products'],
        ['variant-b', 'new_products'],
      ],
    );
    const plain = campaignDefinition({ key: 'plain', segment: 'vip', templates: ['a'] });
    assert.equal(plain.steps[0]!.type === 'send' && plain.steps[0]!.topic, undefined);
  });

  test('a topic the preference centre does not have is bad input naming the field', () => {
    assert.throws(
      () => campaignDefinition({ key: 'spring', segment: 'vip', templates: ['a'], topic: 'promotions' }),
      (e: unknown) =>
        e instanceof ComebackError &&
        e.kind === 'bad_input' &&
        e.message === 'topic promotions: one of offers, new_products, rewards, surveys',
    );
  });
});

describe('campaignDefinition hold-out and attribution', () => {
  test('a hold-out share and attribution window given are kept; without them the flow defaults (0.1, 5 days)', () => {
    const given = campaignDefinition({
      key: 'spring',
      segment: 'vip',
      templates: ['a'],
      holdoutShare: 0.25,
      attributionDays: 14,
    });
    assert.deepEqual([given.holdoutShare, given.attributionDays], [0.25, 14]);
    // 0 is a share too (nobody held out), not "absent".
    assert.equal(campaignDefinition({ key: 'all', segment: 'vip', templates: ['a'], holdoutShare: 0 }).holdoutShare, 0);
    const plain = campaignDefinition({ key: 'plain', segment: 'vip', templates: ['a'] });
    assert.deepEqual([plain.holdoutShare, plain.attributionDays], [0.1, 5]);
  });
});

for (const dialect of DIALECTS) {
  describe(`sendCampaign's send time (${dialect.name})`, { skip: dialect.skip }, () => {
    const NOW = Date.parse('2026-06-01T10:00:00Z');
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await saveFlow(
        t.store.db,
        campaignDefinition({ key: 'spring', segment: 'vip', templates: ['a'] }),
        NOW,
        'campaign',
      );
    });
    after(() => t.drop());

    test('a send time a millisecond in the past is bad input naming `at`; now itself is accepted', async () => {
      await assert.rejects(
        sendCampaign(t.store.db, 'spring', { now: NOW, at: NOW - 1 }),
        (e: unknown) =>
          e instanceof ComebackError &&
          e.kind === 'bad_input' &&
          e.message === 'the send time 2026-06-01T09:59:59.999Z is in the past' &&
          e.location?.field === 'at',
      );
      // At `now` the time is fine: the next check is the segment, which this store does not have.
      await assert.rejects(
        sendCampaign(t.store.db, 'spring', { now: NOW, at: NOW }),
        (e: unknown) => e instanceof ComebackError && e.kind === 'not_found',
      );
    });
  });
}
