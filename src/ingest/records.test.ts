import assert from 'node:assert/strict';
import { test } from 'node:test';
import { betterPhone } from './phone.js';
import { normaliseAddress, normaliseEmail } from './records.js';

test('an address is its present parts, trimmed, joined by commas, lower-cased, white space folded', () => {
  // A part may be missing altogether (undefined) or blank: both are left out, not joined as ", ,".
  assert.equal(
    normaliseAddress(['  1 High  St ', undefined, '', '  ', 'London', 'SW1A\t1AA']),
    '1 high st, london, sw1a 1aa',
  );
  assert.equal(normaliseAddress([undefined, ' ', '']), undefined);
  assert.equal(normaliseAddress([]), undefined);
});

test('an e-mail is the whole value: one @, no white space inside, lower-cased and trimmed', () => {
  assert.equal(normaliseEmail('  Ann@Example.COM '), 'ann@example.com');
  // Text after the address, or a second @, is not an address (an unanchored match would take its start).
  assert.equal(normaliseEmail('ann@example.com and bob@example.com'), undefined);
  assert.equal(normaliseEmail('ann@example.com@other'), undefined);
  assert.equal(normaliseEmail('example.com'), undefined);
  assert.equal(normaliseEmail(''), undefined);
  assert.equal(normaliseEmail(undefined), undefined);
});

test('of a stored phone and a new one, the new one unless it is the E.164 number in a poorer form', () => {
  assert.equal(betterPhone(undefined, '01012345678'), '01012345678', 'nothing stored');
  assert.equal(betterPhone(null, undefined), undefined);
  assert.equal(betterPhone('+821012345678', undefined), '+821012345678', 'nothing new');
  // The stored number is not E.164: the new one is taken as it is, even when the stored one ends with it.
  assert.equal(betterPhone('0101234567', '1234567'), '1234567');
  // The new one is E.164: taken.
  assert.equal(betterPhone('+821012345678', '+821099998888'), '+821099998888');
  // The same number without its country code, with or without the trunk 0: the stored E.164 form stays.
  assert.equal(betterPhone('+821012345678', '01012345678'), '+821012345678');
  assert.equal(betterPhone('+821012345678', '1012345678'), '+821012345678');
  // Another number, or too few digits to tell: the new one.
  assert.equal(betterPhone('+821012345678', '01099998888'), '01099998888');
  assert.equal(betterPhone('+821012345678', '45678'), '45678');
});
