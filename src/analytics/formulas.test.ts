import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  averageLifespanPeriods,
  averageOrderValue,
  change,
  churnRate,
  customerRetentionRate,
  customerValue,
  netRevenueRetention,
  purchaseFrequency,
  repeatPurchaseRate,
  returningCustomerRate,
  revenueChurn,
  simpleClv,
  weightedQuantile,
} from './formulas.js';

describe('retention formulas', () => {
  test('CRR = retained / S: 2,000 at the start of whom 1,800 still active gives 90 %', () => {
    assert.equal(customerRetentionRate(2000, 1800), 0.9);
    assert.equal(customerRetentionRate(0, 0), null, 'no customers at the start: no rate');
  });

  test('churn = lost / S: 500 at the start and 50 lost gives 10 %', () => {
    assert.equal(churnRate(500, 50), 0.1);
    assert.equal(churnRate(0, 0), null);
  });

  test('repeat-purchase and returning-customer rates', () => {
    assert.equal(repeatPurchaseRate(30, 120), 0.25);
    assert.equal(returningCustomerRate(45, 60), 0.75);
  });

  test('AOV × frequency = customer value; with 10 % churn a customer stays 10 periods and CLV = value × 10', () => {
    // 400 orders worth 20,000 from 250 customers: AOV 50, frequency 1.6, value 80 per customer and period.
    const aov = averageOrderValue(20_000, 400);
    const frequency = purchaseFrequency(400, 250);
    assert.equal(aov, 50);
    assert.equal(frequency, 1.6);
    const value = customerValue(aov, frequency);
    assert.equal(value, 80);
    const lifespan = averageLifespanPeriods(churnRate(500, 50));
    assert.equal(lifespan, 10);
    assert.equal(simpleClv(value, lifespan), 800);
    assert.equal(averageLifespanPeriods(0), null, 'no churn: unbounded lifespan, no figure');
    assert.equal(simpleClv(value, null), null);
  });

  test('revenue churn and net revenue retention', () => {
    // Last period 10,000 of revenue, 2,500 of it from customers who did not buy again; those who came back
    // spent 8,200 this period.
    assert.equal(revenueChurn(2_500, 10_000), 0.25);
    assert.equal(netRevenueRetention(8_200, 10_000), 0.82);
    assert.equal(netRevenueRetention(1, 0), null);
  });

  test('change is current − previous, null when either is missing', () => {
    assert.equal(change(0.9, 0.8)?.toFixed(10), (0.1).toFixed(10));
    assert.equal(change(null, 0.8), null);
  });

  test('quantiles of a weighted distribution match type 7 (R, NumPy)', () => {
    // The values 1, 2, 2, 3, 10: median 2, first quartile 2, third quartile 3.
    assert.equal(weightedQuantile([1, 2, 3, 10], [1, 2, 1, 1], 0.5), 2);
    assert.equal(weightedQuantile([1, 2, 3, 10], [1, 2, 1, 1], 0.25), 2);
    assert.equal(weightedQuantile([1, 2, 3, 10], [1, 2, 1, 1], 0.75), 3);
    // 1, 2, 3, 4: numpy.quantile gives 2.5 and 1.75.
    assert.equal(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 1], 0.5), 2.5);
    assert.equal(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 1], 0.25), 1.75);
    assert.equal(weightedQuantile([], [], 0.5), null);
  });
});
