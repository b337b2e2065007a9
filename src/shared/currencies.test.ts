import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ISO_CURRENCY_CODES, isIsoCurrency, isoMinorUnits, MAX_AMOUNT_MINOR } from './currencies.js';

test('ISO 4217 codes and minor units as the published list gives them', () => {
  // Minor units from ISO 4217 List One (SIX): JPY and KRW 0, BHD and KWD 3, CLF and UYW 4, ISK 0.
  const expected: Array<[string, number]> = [
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['ISK', 0],
    ['BHD', 3],
    ['KWD', 3],
    ['CLF', 4],
    ['UYW', 4],
    ['XCG', 2],
    ['ZWG', 2],
  ];
  for (const [code, units] of expected) assert.equal(isoMinorUnits(code), units, code);
  for (const code of ['ZZZ', 'XXX', 'XTS', 'XAU', 'HRK', 'usd', 'US']) assert.equal(isIsoCurrency(code), false, code);
  // Every active code but the fund codes (and VED, newer than Node 20's CLDR) is one Node's ICU knows too.
  const funds = new Set(['BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW', 'VED']);
  const known = new Set(Intl.supportedValuesOf('currency'));
  assert.deepEqual(
    ISO_CURRENCY_CODES.filter((c) => !known.has(c) && !funds.has(c)),
    [],
  );
  assert.ok(MAX_AMOUNT_MINOR < 2 ** 53);
});
