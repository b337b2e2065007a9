import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { testProgramConfig } from '../../test/loyalty-fixtures.js';
import { ComebackError } from '../errors.js';
import { samplePath } from '../shared/paths.js';
import {
  actionRule,
  earnableMinor,
  orderPoints,
  parseAction,
  parseProgramConfig,
  reversalTarget,
  STALE_WRITE_DAYS,
  staleWriteRefusal,
  tierByKey,
  tierFor,
  tierRank,
  validateProgramConfig,
} from './program.js';

function fieldOfError(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ComebackError);
    assert.equal(error.kind, 'bad_input');
    return error.location?.field;
  }
  assert.fail('expected a bad_input error');
}

describe('program configuration', () => {
  test('the shipped example validates, with Blue / Gold / Platinum / Diamond tiers', () => {
    const file = samplePath('loyalty', 'program.example.json');
    const config = parseProgramConfig(readFileSync(file, 'utf8'), file);
    assert.deepEqual(
      config.tiers.levels.map((l) => l.name),
      ['Blue', 'Gold', 'Platinum', 'Diamond'],
    );
    assert.ok(Object.isFrozen(config));
  });

  test('errors name the field', () => {
    const base = testProgramConfig();
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, earning: { ...base.earning, pointsPerUnit: 1.5 } })),
      'earning.pointsPerUnit',
    );
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, currency: 'pounds' })),
      'currency',
    );
    const levels = [...base.tiers.levels];
    levels[2] = { ...levels[2]!, threshold: 100 };
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, tiers: { ...base.tiers, levels } })),
      'tiers.levels.2.threshold',
    );
    const rewards = [{ key: 'x', name: 'X', type: 'percentage' as const, cost: 5, validDays: 3 }];
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, rewards })),
      'rewards.0.percent',
    );
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, expiry: { mode: 'lot' } })),
      'expiry.days',
    );
    assert.equal(
      fieldOfError(() => validateProgramConfig({ ...base, surprise: 1 })),
      'surprise',
    );
    assert.throws(() => parseProgramConfig('{ nope', 'p.json'), /not valid JSON/);
  });

  test('order points round down once per order, in integer arithmetic', () => {
    const config = testProgramConfig({ earning: { ...testProgramConfig().earning, pointsPerUnit: 3 } });
    assert.equal(orderPoints(config, 12_345, 1), 370); // £123.45 × 3 = 370.35
    assert.equal(orderPoints(config, 12_345, 1.5), 555); // × 1.5 = 555.525
    assert.equal(orderPoints(config, 99, 1), 2); // £0.99 × 3 = 2.97
    const yen = testProgramConfig({ currency: 'JPY' });
    assert.equal(orderPoints(yen, 1_999, 1), 1_999); // JPY has no minor unit
  });

  test('reversals take back the refunded share, rounded down, all of it when fully refunded', () => {
    assert.equal(reversalTarget(123, 6_172, 12_345, false), 61);
    assert.equal(reversalTarget(123, 12_345, 12_345, false), 123);
    assert.equal(reversalTarget(123, 0, 12_345, true), 123);
    assert.equal(reversalTarget(123, 0, 12_345, false), 0);
  });

  test('tiers and actions', () => {
    const config = testProgramConfig();
    assert.equal(tierFor(config, 499).key, 'blue');
    assert.equal(tierFor(config, 500).key, 'gold');
    assert.equal(tierFor(config, 10_000).key, 'platinum');
    assert.equal(parseAction('custom:summer-contest'), 'custom:summer-contest');
    assert.equal(parseAction('custom:'), undefined);
    assert.equal(parseAction('dance'), undefined);
  });
});

describe('the money and the ladder the points are computed from (values by hand)', () => {
  const order = { subtotal_minor: 10_000, discount_minor: 1_500, shipping_minor: 495, tax_minor: 1_700 };
  const withEarning = (includeShipping: boolean, includeTax: boolean) => {
    const base = testProgramConfig();
    return testProgramConfig({ earning: { ...base.earning, includeShipping, includeTax } });
  };

  test('earnable: £100 less £15 off = 8,500; + £4.95 shipping = 8,995; + £17 tax = 10,200; both 10,695', () => {
    assert.equal(earnableMinor(withEarning(false, false), order), 8_500);
    assert.equal(earnableMinor(withEarning(true, false), order), 8_995);
    assert.equal(earnableMinor(withEarning(false, true), order), 10_200);
    assert.equal(earnableMinor(withEarning(true, true), order), 10_695);
  });

  test('earnable never goes below zero: a discount above the subtotal earns 0, exactly 0 at equality', () => {
    const config = withEarning(false, false);
    assert.equal(earnableMinor(config, { ...order, discount_minor: 12_000 }), 0);
    assert.equal(earnableMinor(config, { ...order, discount_minor: 10_000 }), 0);
    assert.equal(earnableMinor(config, { ...order, discount_minor: 9_999 }), 1);
    // Shipping counted in can lift a negative merchandise value back above zero: −2,000 + 495 + 1,700 → 195.
    assert.equal(earnableMinor(withEarning(true, true), { ...order, discount_minor: 12_000 }), 195);
  });

  test('tiers by key and rank: a removed key falls back to the lowest; an unknown rank is −1', () => {
    const config = testProgramConfig();
    assert.equal(tierByKey(config, 'gold').name, 'Gold');
    assert.equal(tierByKey(config, 'platinum').threshold, 2000);
    assert.equal(tierByKey(config, 'diamond').key, 'blue');
    assert.deepEqual(
      ['blue', 'gold', 'platinum', 'diamond'].map((k) => tierRank(config, k)),
      [0, 1, 2, -1],
    );
  });

  test('a refund of an order of zero total takes back what it earned, never NaN or Infinity', () => {
    assert.equal(reversalTarget(7, 0, 0, false), 7);
    assert.equal(reversalTarget(7, 5, 0, false), 7);
  });

  test('the tier a value reaches: the threshold itself reaches it, one point below does not', () => {
    const config = testProgramConfig();
    assert.deepEqual(
      [0, 499, 500, 1999, 2000, 10_000].map((v) => tierFor(config, v).key),
      ['blue', 'blue', 'gold', 'gold', 'platinum', 'platinum'],
    );
  });

  test('action rules: each action its own points and limits; unknown ones are not rewarded', () => {
    const config = testProgramConfig();
    assert.deepEqual(actionRule(config, 'signup'), { points: 50, limits: {} });
    assert.deepEqual(actionRule(config, 'review'), { points: 20, limits: { perPeriod: { count: 2, days: 30 } } });
    assert.deepEqual(actionRule(config, 'share'), { points: 5, limits: {} });
    assert.deepEqual(actionRule(config, 'custom:contest'), { points: 30, limits: { perCustomer: 1, budget: 60 } });
    assert.equal(actionRule(config, 'custom:nothing'), undefined);
    assert.equal(actionRule(config, 'contest' as never), undefined);
    const bare = testProgramConfig({ actions: {} });
    assert.equal(actionRule(bare, 'share'), undefined);
    assert.equal(actionRule(bare, 'signup'), undefined);
    assert.equal(actionRule(bare, 'custom:contest'), undefined);
  });

  test('a default-dated ledger write is refused more than 7 days after the data ends, not at exactly 7', () => {
    const DAY = 86_400_000;
    const dataEnd = Date.parse('2024-03-11T00:00:00Z'); // the end of 10 March, the latest sale's day
    assert.equal(STALE_WRITE_DAYS, 7);
    assert.equal(staleWriteRefusal(dataEnd + 7 * DAY, dataEnd, false), undefined);
    const refusal = staleWriteRefusal(dataEnd + 7 * DAY + 1, dataEnd, false);
    assert.equal(
      refusal,
      "the store's data ends on 2024-03-10, 7 days before 2024-03-18: a ledger write then would settle, expire and review tiers against dates the data never reached; give the date explicitly (--as-of / asOf)",
    );
    assert.match(staleWriteRefusal(dataEnd + 30 * DAY, dataEnd, false) ?? '', /, 30 days before 2024-04-10:/);
    assert.equal(staleWriteRefusal(dataEnd + 30 * DAY, dataEnd, true), undefined, 'an explicit date is accepted');
    assert.equal(
      staleWriteRefusal(dataEnd + 30 * DAY, undefined, false),
      undefined,
      'no data, nothing to be stale against',
    );
    assert.equal(staleWriteRefusal(dataEnd - DAY, dataEnd, false), undefined);
  });
});
