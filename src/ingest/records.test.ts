import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseAddress } from './records.js';

test('an address is its present parts, trimmed, joined by commas, lower-cased, white space folded', () => {
  // A part may be missing altogether (undefined) or blank: both are left out, not joined as ", ,".
  assert.equal(
    normaliseAddress(['  1 High  St ', undefined, '', '  ', 'London', 'SW1A\t1AA']),
    '1 high st, london, sw1a 1aa',
  );
  assert.equal(normaliseAddress([undefined, ' ', '']), undefined);
  assert.equal(normaliseAddress([]), undefined);
});
