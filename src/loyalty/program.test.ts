import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { testProgramConfig } from '../../test/loyalty-fixtures.js';
import { ComebackError } from '../errors.js';
import { samplePath } from '../shared/paths.js';
import {
  orderPoints,
  parseAction,
  parseProgramConfig,
  reversalTarget,
  tierFor,
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
