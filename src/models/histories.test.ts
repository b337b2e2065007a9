import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSummary, groupHistories, groupRows, rfmSummary, ungroupedHistories } from './histories.js';

describe('groupHistories', () => {
  const summary = rfmSummary([0, 2, 0, 2, 1, 0, 2], [0, 5, 0, 5, 3, 0, 6], [10, 10, 10, 10, 12, 9, 10]);

  it('merges customers with equal (x, t_x, T) and weighs each history by its customers', () => {
    const histories = groupHistories(summary);
    assert.equal(histories.count, 5);
    assert.equal(histories.customers, 7);
    assert.deepEqual(Array.from(histories.weight), [2, 2, 1, 1, 1]);
    assert.deepEqual(Array.from(histories.x), [0, 2, 1, 0, 2]);
    assert.deepEqual(Array.from(histories.T), [10, 10, 12, 9, 10]);
  });

  it('maps every customer back to its history', () => {
    const histories = groupHistories(summary);
    for (let i = 0; i < summary.x.length; i++) {
      const h = histories.historyOf[i] ?? -1;
      assert.equal(histories.x[h], summary.x[i]);
      assert.equal(histories.tx[h], summary.tx[i]);
      assert.equal(histories.T[h], summary.T[i]);
    }
  });

  it('indexes the distinct x values', () => {
    const histories = groupHistories(summary);
    assert.deepEqual(Array.from(histories.xLevels), [0, 1, 2]);
    for (let h = 0; h < histories.count; h++) {
      assert.equal(histories.xLevels[histories.xLevel[h] ?? -1], histories.x[h]);
    }
  });

  it('keeps one history per customer when asked not to group', () => {
    const histories = ungroupedHistories(summary);
    assert.equal(histories.count, 7);
    assert.equal(histories.weight.length, 7);
    assert.ok(histories.weight.every((w) => w === 1));
  });

  it('handles an empty summary', () => {
    const histories = groupHistories(rfmSummary([], [], []));
    assert.equal(histories.count, 0);
    assert.equal(histories.customers, 0);
  });
});

describe('checkSummary', () => {
  it('rejects inconsistent histories', () => {
    assert.throws(() => checkSummary(rfmSummary([1], [2], [1])), /t_x ≤ T/);
    assert.throws(() => checkSummary(rfmSummary([1.5], [1], [2])), /whole number/);
    assert.throws(() => checkSummary(rfmSummary([-1], [0], [2])), /whole number/);
    assert.throws(() => checkSummary(rfmSummary([0], [1], [2])), /x = 0/);
    assert.throws(() => checkSummary(rfmSummary([0, 1], [0], [2])), /differ in length/);
    assert.throws(() => checkSummary(rfmSummary([1], [0], [Number.NaN])), RangeError);
    assert.doesNotThrow(() => checkSummary(rfmSummary([0, 3], [0, 7], [0, 7])));
  });
});

describe('groupRows', () => {
  it('groups by any number of columns', () => {
    const grouped = groupRows([Float64Array.from([1, 1, 2, 1]), Float64Array.from([5, 6, 5, 5])]);
    assert.deepEqual(Array.from(grouped.weight), [2, 1, 1]);
    assert.deepEqual(Array.from(grouped.historyOf), [0, 1, 2, 0]);
  });
});
