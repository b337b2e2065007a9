import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ORDER_STATUS, orderStatus } from './order-status.js';

describe('the one order-status map', () => {
  it('reads each shop word as the status written here by hand', () => {
    const expected: [string, string][] = [
      ['paid', 'paid'],
      ['Completed', 'paid'],
      ['wc-processing', 'paid'],
      [' PENDING ', 'pending'],
      ['authorized', 'pending'],
      ['wc-on-hold', 'pending'],
      ['refunded', 'refunded'],
      ['partially_refunded', 'partially_refunded'],
      ['Partially Refunded', 'partially_refunded'],
      ['canceled', 'cancelled'],
      ['voided', 'cancelled'],
      ['wc-failed', 'cancelled'],
    ];
    for (const [word, status] of expected) assert.equal(orderStatus(word), status, word);
  });

  it('refuses what it does not know, including inherited object keys', () => {
    // Only a leading `wc-` is WooCommerce's prefix: one inside a word is kept, so 'on-wc-hold' is not 'on-hold'.
    for (const word of ['', 'shipped?', 'toString', 'constructor', '__proto__', 'on-wc-hold', 'paidwc-']) {
      assert.equal(orderStatus(word), undefined, word);
    }
  });

  it('keeps every key lower case and trimmed so that lookups can reach it', () => {
    const keys = Object.keys(ORDER_STATUS);
    assert.ok(keys.length >= 15);
    for (const key of keys) assert.equal(key, key.trim().toLowerCase());
  });
});
