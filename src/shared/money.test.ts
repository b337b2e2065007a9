import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  amountProblem,
  currencyExponent,
  formatMoney,
  normaliseCurrency,
  parseAmount,
  quantityProblem,
  readAmount,
  readExactAmount,
  toMajor,
} from './money.js';

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
    assert.equal(parseAmount('1,234,567.89', 'USD'), 123_456_789);
    for (const bad of ['', 'abc', '1.2.3', '--1', '12a', '.', '1e5', '12,50', '7,5', '1.234,56', '1,2,3', '0,500'])
      assert.equal(parseAmount(bad, 'USD'), undefined, bad);
  });

  test('reads a typed amount exactly, refusing more decimals than the currency has', () => {
    assert.deepEqual(readExactAmount('5.00', 'USD'), { ok: true, minor: 500 });
    assert.deepEqual(readExactAmount('-2.5', 'GBP'), { ok: true, minor: -250 });
    assert.deepEqual(readExactAmount('15000', 'KRW'), { ok: true, minor: 15_000 });
    assert.deepEqual(readExactAmount('1.234', 'KWD'), { ok: true, minor: 1234 });
    assert.deepEqual(readExactAmount('5.005', 'USD'), { ok: false, reason: '"5.005" has 3 decimals; USD has 2' });
    assert.deepEqual(readExactAmount('100.5', 'KRW'), { ok: false, reason: '"100.5" has 1 decimal; KRW has none' });
    assert.deepEqual(readExactAmount('five', 'USD'), { ok: false, reason: '"five" is not a number' });
    assert.match(readExactAmount('99999999999.00', 'USD').ok ? '' : 'refused', /refused/);
  });

  test('formats for people, KRW without decimals', () => {
    assert.equal(formatMoney(129_900, 'USD', 'en-US'), '$1,299.00');
    assert.equal(formatMoney(15_000, 'KRW', 'ko-KR'), '₩15,000');
    assert.equal(toMajor(12_345, 'USD'), 123.45);
    assert.equal(normaliseCurrency(' gbp '), 'GBP');
    assert.equal(normaliseCurrency('pounds'), undefined);
  });

  test('reads decimal commas, proves the mark when only one reading exists, refuses the ambiguous', () => {
    // The examples: 12,50 is €12.50, 1.234,56 is €1,234.56, 7,5 is €7.50.
    assert.deepEqual(readAmount('12,50', 'EUR', 'auto'), { ok: true, minor: 1250, mark: 'comma' });
    assert.deepEqual(readAmount('1.234,56', 'EUR', 'auto'), { ok: true, minor: 123_456, mark: 'comma' });
    assert.deepEqual(readAmount('7,5', 'EUR', 'auto'), { ok: true, minor: 750, mark: 'comma' });
    assert.deepEqual(readAmount('1 234,56', 'EUR', 'auto'), { ok: true, minor: 123_456, mark: 'comma' });
    assert.deepEqual(readAmount('1,234.56', 'EUR', 'auto'), { ok: true, minor: 123_456, mark: 'point' });
    assert.deepEqual(readAmount('12.5', 'EUR', 'auto'), { ok: true, minor: 1250, mark: 'point' });
    assert.deepEqual(readAmount('-20', 'EUR', 'auto'), { ok: true, minor: -2000 });
    for (const ambiguous of ['1,234', '1.000', '-2.500']) {
      const r = readAmount(ambiguous, 'EUR', 'auto');
      assert.equal(r.ok, false, ambiguous);
      assert.match(r.ok ? '' : r.reason, /ambiguous/);
    }
    assert.deepEqual(readAmount('1,234', 'EUR', 'comma'), { ok: true, minor: 123 });
    assert.deepEqual(readAmount('1,235', 'EUR', 'comma'), { ok: true, minor: 124 }, 'half away from zero');
    assert.deepEqual(readAmount('1,234', 'KWD', 'comma'), { ok: true, minor: 1234 });
    assert.deepEqual(readAmount('1,234', 'EUR', 'point'), { ok: true, minor: 123_400 });
    assert.deepEqual(readAmount('1.000', 'JPY', 'comma'), { ok: true, minor: 1000 });
    const wrong = readAmount('12,50', 'EUR', 'point');
    assert.equal(wrong.ok, false);
    assert.match(wrong.ok ? '' : wrong.reason, /reads only with a decimal comma/);
  });

  test('bounds: safe integers up to 10^12 minor units, negatives only where allowed', () => {
    assert.equal(amountProblem(0), undefined);
    assert.equal(amountProblem(1_000_000_000_000), undefined);
    assert.match(amountProblem(1_000_000_000_001) ?? '', /maximum/);
    assert.match(amountProblem(-1_000_000_000_001, { allowNegative: true }) ?? '', /maximum/);
    assert.match(amountProblem(1e308) ?? '', /whole number|maximum/);
    assert.match(amountProblem(2 ** 53 + 1) ?? '', /whole number/);
    assert.match(amountProblem(8e31) ?? '', /whole number|maximum/);
    assert.match(amountProblem(Number.NaN) ?? '', /not a number/);
    assert.match(amountProblem(Number.POSITIVE_INFINITY) ?? '', /not a number/);
    assert.match(amountProblem(1.5) ?? '', /whole number/);
    assert.match(amountProblem('12') ?? '', /not a number/);
    assert.match(amountProblem(-1) ?? '', /negative/);
    assert.equal(amountProblem(-1, { allowNegative: true }), undefined);
    assert.equal(quantityProblem(10_000_000), undefined);
    assert.match(quantityProblem(10_000_001) ?? '', /maximum/);
    assert.match(quantityProblem(-3) ?? '', /negative/);
    assert.equal(quantityProblem(-3, { allowNegative: true }), undefined);
  });

  test('currency codes are real ISO 4217 codes', () => {
    for (const code of ['GBP', 'eur', 'KRW', 'JPY', 'USD', 'INR', 'CHF', 'XOF'])
      assert.ok(normaliseCurrency(code), code);
    for (const code of ['ZZZ', 'ABC', 'XXX', 'XTS', 'XAU', 'EU', 'EURO', '']) {
      assert.equal(normaliseCurrency(code), undefined, code);
    }
  });
});
