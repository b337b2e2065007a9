import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComebackError } from '../errors.js';
import { campaignDefinition } from './campaigns.queries.js';

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
