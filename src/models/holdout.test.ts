import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareHoldout } from './holdout.js';

describe('compareHoldout', () => {
  const frequency = [0, 0, 1, 2, 7, 9, 12];
  const predicted = [0.1, 0.3, 0.9, 1.5, 4, 6, 8];
  const actual = [0, 1, 1, 2, 3, 7, 9];

  it('totals predicted and actual purchases', () => {
    const result = compareHoldout(frequency, predicted, actual);
    assert.equal(result.customers, 7);
    assert.ok(Math.abs(result.totalPredicted - 20.8) < 1e-12);
    assert.equal(result.totalActual, 23);
  });

  it('tabulates means by calibration frequency with a 7+ row', () => {
    const rows = compareHoldout(frequency, predicted, actual).byFrequency;
    assert.deepEqual(
      rows.map((row) => row.label),
      ['0', '1', '2', '3', '4', '5', '6', '7+'],
    );
    assert.equal(rows[0]?.customers, 2);
    assert.ok(Math.abs((rows[0]?.meanPredicted ?? 0) - 0.2) < 1e-15);
    assert.equal(rows[0]?.meanActual, 0.5);
    assert.equal(rows[7]?.customers, 3);
    assert.equal(rows[7]?.meanActual, (3 + 7 + 9) / 3);
    assert.equal(rows[3]?.customers, 0);
    assert.ok(Number.isNaN(rows[3]?.meanPredicted));
  });

  it('takes another last row and checks its input', () => {
    const rows = compareHoldout(frequency, predicted, actual, { maxFrequency: 2 }).byFrequency;
    assert.deepEqual(
      rows.map((row) => [row.label, row.customers]),
      [
        ['0', 2],
        ['1', 1],
        ['2+', 4],
      ],
    );
    assert.throws(() => compareHoldout([1, 2], [1], [1, 2]), RangeError);
    assert.throws(() => compareHoldout([1], [1], [1], { maxFrequency: -1 }), RangeError);
  });
});
