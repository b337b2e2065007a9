import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { type BaseClaims, signToken, verifyToken } from './signed-token.js';

interface Claims extends BaseClaims {
  c: number;
}
const isClaims = (v: unknown): v is Claims =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as Claims).c) && typeof (v as Claims).p === 'string';
const SECRET = 'test-secret';
const claims: Claims = { c: 7, p: 'open', e: 1_000 };

describe('signed tokens', () => {
  test('the token is base64url(JSON).base64url(HMAC-SHA256(secret, domain + payload)), computed here by hand', () => {
    const payload = Buffer.from('{"c":7,"p":"open","e":1000}').toString('base64url');
    const mac = createHmac('sha256', SECRET).update(`feedback.${payload}`).digest('base64url');
    assert.equal(signToken(SECRET, 'feedback.', claims), `${payload}.${mac}`);
  });

  test('accepted until its expiry, for its purpose, domain and secret only', () => {
    const token = signToken(SECRET, '', claims);
    const check = (t: string, options: { purpose?: string; now?: number; domain?: string; secret?: string } = {}) =>
      verifyToken<Claims>(options.secret ?? SECRET, options.domain ?? '', t, {
        purpose: options.purpose ?? 'open',
        now: options.now ?? 999,
        isClaims,
      });
    assert.deepEqual(check(token), { ok: true, claims });
    assert.deepEqual(check(token, { now: 1_000 }), { ok: false, reason: 'expired' }, 'expired at e itself');
    assert.deepEqual(check(token, { purpose: 'click' }), { ok: false, reason: 'wrong_purpose' });
    assert.deepEqual(check(token, { domain: 'feedback.' }), { ok: false, reason: 'forged' });
    assert.deepEqual(check(token, { secret: 'other' }), { ok: false, reason: 'forged' });
    const [payload, mac] = token.split('.') as [string, string];
    const other = Buffer.from('{"c":8,"p":"open","e":1000}').toString('base64url');
    assert.deepEqual(check(`${other}.${mac}`), { ok: false, reason: 'forged' }, 'another customer, same MAC');
    assert.deepEqual(check(`${payload}.${mac}.x`), { ok: false, reason: 'malformed' });
    assert.deepEqual(check(`.${mac}`), { ok: false, reason: 'malformed' });
    const notClaims = signToken(SECRET, '', { p: 'open', e: 1_000 });
    assert.deepEqual(check(notClaims), { ok: false, reason: 'malformed' }, 'isClaims refuses it');
  });
});
