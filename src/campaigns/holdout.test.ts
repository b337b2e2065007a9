import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignArm, holdoutDraw } from './holdout.js';

describe('hold-out assignment', () => {
  test('is stable for a (flow, customer) and differs between flows', () => {
    assert.equal(holdoutDraw('win-back', 42), holdoutDraw('win-back', 42));
    assert.notEqual(holdoutDraw('win-back', 42), holdoutDraw('cart', 42));
    // SHA-256("win-back:42"), first six bytes over 2^48: computed with `printf 'win-back:42' | sha256sum`.
    assert.equal(holdoutDraw('win-back', 42), 0x3f8327f8ae6e / 2 ** 48);
  });

  test('holds out a share within binomial noise of the setting', () => {
    const n = 20_000;
    for (const share of [0.05, 0.1, 0.25]) {
      let control = 0;
      for (let id = 1; id <= n; id++) if (assignArm('win-back', id, share) === 'control') control++;
      const sd = Math.sqrt(n * share * (1 - share));
      assert.ok(Math.abs(control - n * share) < 4 * sd, `share ${share}: ${control} of ${n}`);
    }
  });

  test('share 0 holds out nobody, share 1 everybody; outside [0, 1] is refused', () => {
    assert.equal(assignArm('f', 1, 0), 'treatment');
    assert.equal(assignArm('f', 1, 1), 'control');
    assert.throws(() => assignArm('f', 1, 1.5), RangeError);
  });
});
