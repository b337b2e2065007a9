import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { fieldOfIssue } from './error-handler.js';
import { readCookie } from './session.js';
import { shopifyRefund, verifyShopifyHmac } from './shopify-webhook.js';

describe('sessions, signatures and field names', () => {
  test('a cookie is read by name; a malformed escape reads as no cookie', () => {
    assert.equal(readCookie('a=1; comeback_session=x.y; b=2', 'comeback_session'), 'x.y');
    assert.equal(readCookie('comeback_session=%E0%A4%A', 'comeback_session'), undefined);
    assert.equal(readCookie(undefined, 'comeback_session'), undefined);
  });

  test("Shopify's signature is the base64 HMAC-SHA256 of the raw bytes", () => {
    const body = Buffer.from('{"id":1,"note":"caf\u00e9"}');
    const good = createHmac('sha256', 's3cret').update(body).digest('base64');
    assert.equal(verifyShopifyHmac(body, good, 's3cret'), true);
    assert.equal(verifyShopifyHmac(Buffer.from('{"id":1, "note":"caf\u00e9"}'), good, 's3cret'), false);
    assert.equal(verifyShopifyHmac(body, undefined, 's3cret'), false);
    assert.equal(verifyShopifyHmac(body, 'short', 's3cret'), false);
  });

  test('a refund counts only its successful refund transactions; its lines without money count 0', () => {
    const base = { id: 1, order_id: 2, created_at: '2026-01-13T10:00:00Z' };
    const paid = shopifyRefund(
      {
        ...base,
        transactions: [
          { kind: 'refund', status: 'success', amount: '10.00', currency: 'EUR' },
          { kind: 'refund', status: 'failure', amount: '99.00', currency: 'EUR' },
        ],
      },
      undefined,
    );
    assert.deepEqual([paid.amountMinor, paid.currency, paid.orderExternalId], [1000, 'EUR', '2']);
    const jpyOrder = { currency: 'JPY', presentmentCurrency: null, totalMinor: 100, presentmentTotalMinor: null };
    const noMoney = shopifyRefund({ ...base, refund_line_items: [{ subtotal: '5.00', total_tax: '0.50' }] }, jpyOrder);
    // ¥5 + ¥0.50 rounded half away from zero: ¥6 of lines, and no money moved.
    assert.deepEqual([noMoney.amountMinor, noMoney.linesMinor, noMoney.currency], [0, 6, 'JPY']);
    assert.throws(() => shopifyRefund(base, undefined), /names no currency/);
  });

  test('validation issues name the field with array indices', () => {
    assert.equal(fieldOfIssue({ instancePath: '/batch/3/timestamp' }), 'batch[3].timestamp');
    assert.equal(fieldOfIssue({ instancePath: '/customer', params: { missingProperty: 'email' } }), 'customer.email');
    assert.equal(fieldOfIssue({ instancePath: '', params: { missingProperty: 'totalMinor' } }), 'totalMinor');
    assert.equal(fieldOfIssue({ instancePath: '' }), undefined);
  });
});
