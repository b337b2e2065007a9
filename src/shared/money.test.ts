import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currencyExponent, formatMoney, normaliseCurrency, parseAmount, toMajor } from './money.js';

describe('money', () => {
  test('uses the ISO 4217 exponent of each currency', () => {
    assert.equal(currencyExponent('USD'), 2);
    assert.equal(currencyExponent('KRW'), 0);
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('KWD'), 3);
  });

  test('parses decimal text into exact minor units', () => {
    assert.equal(parseAmount('1299.00', 'INR'), 129_900);
    assert.equal(parseAmount('1,299.5', 'USD'), 129_950);
    assert.equal(parseAmount('-3.5', 'GBP'), -350);
    assert.equal(parseAmount('0.1', 'USD'), 10);
    assert.equal(parseAmount('2.555', 'USD'), 256, 'half away from zero');
    assert.equal(parseAmount('-2.555', 'USD'), -256);
    assert.equal(parseAmount('0.001', 'GBP'), 0);
    assert.equal(parseAmount('15000', 'KRW'), 15_000);
    assert.equal(parseAmount('15000.4', 'KRW'), 15_000);
    assert.equal(parseAmount('1.234', 'KWD'), 1234);
    assert.equal(parseAmount('.5', 'USD'), 50);
    for (const bad of ['', 'abc', '1.2.3', '--1', '12a', '.', '1e5'])
      assert.equal(parseAmount(bad, 'USD'), undefined, bad);
  });

  test('formats for people, KRW without decimals', () => {
    assert.equal(formatMoney(129_900, 'USD', 'en-US'), '$1,299.00');
    assert.equal(formatMoney(15_000, 'KRW', 'ko-KR'), '₩15,000');
    assert.equal(toMajor(12_345, 'USD'), 123.45);
    assert.equal(normaliseCurrency(' gbp '), 'GBP');
    assert.equal(normaliseCurrency('pounds'), undefined);
  });
});
