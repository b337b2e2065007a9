import assert from 'node:assert/strict';
import { test } from 'node:test';
import { textLength } from './preview.queries.js';

// Parts by hand: GSM-7 holds 160 septets in one message, 153 per part beyond; UCS-2 70 and 67
// (3GPP TS 23.040, a 6-octet concatenation header). Korean carriers: SMS up to 90 EUC-KR bytes.
test('text length: GSM-7 and UCS-2 parts at their boundaries, extension characters count twice', () => {
  const parts = (text: string) => {
    const l = textLength(text);
    return [l.encoding, l.units, l.segments];
  };
  assert.deepEqual(parts(''), ['gsm7', 0, 0]);
  assert.deepEqual(parts('a'.repeat(160)), ['gsm7', 160, 1]);
  assert.deepEqual(parts('a'.repeat(161)), ['gsm7', 161, 2]);
  assert.deepEqual(parts('a'.repeat(306)), ['gsm7', 306, 2]);
  assert.deepEqual(parts('a'.repeat(307)), ['gsm7', 307, 3]);
  assert.deepEqual(parts('€'.repeat(80)), ['gsm7', 160, 1]);
  assert.deepEqual(parts('€'.repeat(81)), ['gsm7', 162, 2]);
  assert.deepEqual(parts('한'.repeat(70)), ['ucs2', 70, 1]);
  assert.deepEqual(parts('한'.repeat(71)), ['ucs2', 71, 2]);
  assert.deepEqual(parts('한'.repeat(134)), ['ucs2', 134, 2]);
  assert.deepEqual(parts('한'.repeat(135)), ['ucs2', 135, 3]);
  // An emoji is one character but two UTF-16 units.
  assert.deepEqual([textLength('😀').characters, textLength('😀').units, textLength('😀').segments], [1, 2, 1]);
});

test('text length: the Korean SMS/LMS line is at 90 EUC-KR bytes (a Hangul syllable is 2)', () => {
  assert.deepEqual([textLength('한'.repeat(45)).eucKrBytes, textLength('한'.repeat(45)).koreanType], [90, 'SMS']);
  assert.deepEqual(
    [textLength(`${'한'.repeat(45)}a`).eucKrBytes, textLength(`${'한'.repeat(45)}a`).koreanType],
    [91, 'LMS'],
  );
});
