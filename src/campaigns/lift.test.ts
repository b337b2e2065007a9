import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { entrantsForPower, liftReport, meanDifference, proportionDifference, wilson } from './lift.js';

const close = (actual: number | null, expected: number, digits = 4) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 0.5 * 10 ** -digits, `${actual} ≠ ${expected}`);

describe('proportion difference: Newcombe (1998) method 10, his Table II', () => {
  // Published intervals for the difference of two independent proportions (Statistics in Medicine 17, 873–890).
  const published: [number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [10, 10, 0, 20, 0.6791, 1.0],
  ];
  for (const [x1, n1, x0, n0, low, high] of published) {
    test(`${x1}/${n1} − ${x0}/${n0} → [${low}, ${high}]`, () => {
      const d = proportionDifference(x1, n1, x0, n0);
      close(d.low, low);
      close(d.high, high);
    });
  }

  test('Wilson keeps 0 and n on the boundary', () => {
    assert.equal(wilson(0, 10).low, 0);
    assert.equal(wilson(10, 10).high, 1);
  });
});

describe('the lift report on a hand-computed example', () => {
  // Treated: 1,000 entrants; 95 ordered once, 20 twice, 5 three times (120 converters, 150 orders,
  // Σorders² = 95 + 80 + 45 = 220); every order 50.00. Control: 100 entrants, 5 ordered once.
  const treated = {
    entrants: 1000,
    converters: 120,
    orders: 150,
    ordersSquared: 220,
    revenueMinor: 750_000,
    revenueSquared: 5000 ** 2 * 220,
  };
  const control = {
    entrants: 100,
    converters: 5,
    orders: 5,
    ordersSquared: 5,
    revenueMinor: 25_000,
    revenueSquared: 5000 ** 2 * 5,
  };

  test('conversion, orders and revenue per entrant, with intervals and the increments', () => {
    const r = liftReport(treated, control, 30_000);
    assert.equal(r.treatment.conversionRate, 0.12);
    assert.equal(r.control.conversionRate, 0.05);
    close(r.conversionLift!.estimate, 0.07, 10);
    close(r.conversionLift!.low, 0.00548);
    close(r.conversionLift!.high, 0.10573);
    // Orders per entrant: 0.15 − 0.05 = 0.10; Welch s.e. √(0.19775/1000 + 0.04798/100) = 0.02599.
    close(r.ordersPerEntrantLift!.estimate, 0.1, 10);
    close(r.ordersPerEntrantLift!.low, 0.04898);
    close(r.ordersPerEntrantLift!.high, 0.15102);
    close(r.revenuePerEntrantLiftMinor!.estimate, 500, 6);
    close(r.revenuePerEntrantLiftMinor!.low, 244.923, 3);
    close(r.revenuePerEntrantLiftMinor!.high, 755.077, 3);
    close(r.incrementalOrders!.estimate, 100, 6);
    close(r.incrementalRevenueMinor!.estimate, 500_000, 3);
    assert.equal(r.netIncrementalRevenueMinor, 470_000);
    assert.equal(r.verdict, 'positive');
    assert.equal(r.moreEntrantsNeeded, null);
  });

  test('an interval that spans zero is inconclusive and says how many more entrants would settle it', () => {
    const r = liftReport({ ...treated, converters: 60 }, control);
    assert.equal(r.verdict, 'inconclusive');
    close(r.conversionLift!.low, -0.05313);
    close(r.conversionLift!.high, 0.04288);
    // (1.95996 + 0.84162)² (0.06·0.94/(1 − 1/11) + 0.05·0.95/(1/11)) / 0.01² = 45,879.8 → 45,880 in all.
    assert.equal(r.moreEntrantsNeeded, 45_880 - 1100);
  });

  test('no control entrants: no figure is made up', () => {
    const r = liftReport(treated, {
      ...control,
      entrants: 0,
      converters: 0,
      orders: 0,
      ordersSquared: 0,
      revenueMinor: 0,
      revenueSquared: 0,
    });
    assert.equal(r.verdict, 'no_data');
    assert.equal(r.conversionLift, null);
    assert.equal(r.control.conversionRate, null);
  });

  test('one entrant in an arm gives no interval for means', () => {
    const d = meanDifference(10, 100, 1, 0, 0, 5);
    assert.equal(d.estimate, 10);
    assert.equal(d.low, null);
  });

  test('equal rates need no sample size (no difference to detect)', () => {
    assert.equal(entrantsForPower(0.1, 0.1, 0.1), null);
  });
});
