import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { ApiApp } from './app.types.js';
import { buildApp, jsonDepthExceeds } from './build-app.js';
import { createApiKey, upsertAdminUser } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15);

/** `{"a":{"a":…{"a":1}…}}` nested `depth` levels deep, written as text (no recursion). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

test('JSON depth is measured without recursion, exactly at the bound', () => {
  assert.equal(jsonDepthExceeds(JSON.parse(nested(64)), 64), false);
  assert.equal(jsonDepthExceeds(JSON.parse(nested(65)), 64), true);
  assert.equal(jsonDepthExceeds([[[]]], 3), false);
  assert.equal(jsonDepthExceeds([[[[]]]], 3), true);
  assert.equal(jsonDepthExceeds(JSON.parse(nested(100_000)), 64), true);
  assert.equal(jsonDepthExceeds('text', 0), false);
});

for (const dialect of DIALECTS) {
  describe(`HTTP API hardening on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let proxied: ApiApp;
    let key = '';
    before(async () => {
      t = await freshDatabase(dialect.name);
      key = (await createApiKey(t.store.db, { scope: 'admin', name: 'test', now: NOW })).key;
      await upsertAdminUser(t.store.db, { username: 'owner', password: 'correct horse', now: NOW });
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      proxied = await buildApp({ store: t.store, now: () => NOW, rateLimit: false, trustProxy: '127.0.0.1' });
    });
    after(async () => {
      await app?.close();
      await proxied?.close();
      await t?.drop();
    });

    test('a body nested 10,000 levels deep (60 KB) is a 400 naming the body, not a 500', async () => {
      const payload = `{"type":"track","userId":"u1","event":"Viewed","properties":${nested(10_000)}}`;
      assert.ok(payload.length > 50_000);
      for (const url of ['/api/v1/track', '/api/v1/batch', '/api/v1/orders']) {
        const answer = await app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload,
        });
        assert.equal(answer.statusCode, 400, `${url}: ${answer.body}`);
        assert.deepEqual(answer.json(), {
          error: { code: 'bad_input', message: 'body: nested deeper than 64 levels', field: 'body' },
        });
      }
    });

    test('limits and offsets beyond any number answer 400', async () => {
      for (const query of ['limit=1e999', 'offset=99999999999999999999', 'offset=1e999', 'limit=-1', 'limit=NaN']) {
        const answer = await app.inject({
          url: `/api/v1/customers?${query}`,
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(answer.statusCode, 400, `${query}: ${answer.body}`);
        assert.equal(answer.json().error.code, 'bad_input');
      }
      const fine = await app.inject({
        url: '/api/v1/customers?limit=500&offset=1000000000',
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(fine.statusCode, 200, fine.body);
    });

    test('sign-in is throttled per account (10 failures in 15 minutes) and per address (50)', async () => {
      let clock = NOW;
      const throttled = await buildApp({ store: t.store, now: () => clock, rateLimit: false, trustProxy: true });
      try {
        const attempt = (username: string, password: string, from: string) =>
          throttled.inject({
            method: 'POST',
            url: '/api/v1/session',
            headers: { 'x-forwarded-for': from },
            payload: { username, password },
          });
        for (let i = 1; i <= 10; i++)
          assert.equal((await attempt('owner', `wrong ${i}`, `10.0.0.${i}`)).statusCode, 401);
        // The 11th try on the account, from a new address and with the right password, waits.
        const blocked = await attempt('owner', 'correct horse', '10.0.1.1');
        assert.equal(blocked.statusCode, 429, blocked.body);
        assert.equal(blocked.json().error.code, 'rate_limited');
        assert.equal(blocked.headers['retry-after'], String(15 * 60));
        // One millisecond before the first failure leaves the window: still blocked; at it: allowed.
        clock = NOW + 15 * 60_000 - 1;
        assert.equal((await attempt('owner', 'correct horse', '10.0.1.1')).statusCode, 429);
        clock = NOW + 15 * 60_000;
        assert.equal((await attempt('owner', 'correct horse', '10.0.1.1')).statusCode, 200);

        // Per address: 50 failures over many account names from one address block that address only.
        for (let i = 0; i < 50; i++) assert.equal((await attempt(`guess${i}`, 'x', '192.0.2.9')).statusCode, 401);
        assert.equal((await attempt('owner', 'correct horse', '192.0.2.9')).statusCode, 429);
        assert.equal((await attempt('owner', 'correct horse', '192.0.2.10')).statusCode, 200);
      } finally {
        await throttled.close();
      }
    });

    test('security headers on pages and API answers; HSTS and the Secure cookie only over HTTPS', async () => {
      for (const url of ['/', '/api/v1/health']) {
        const answer = await app.inject({ url });
        const csp = String(answer.headers['content-security-policy']);
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.equal(answer.headers['x-frame-options'], 'DENY');
        assert.equal(answer.headers['x-content-type-options'], 'nosniff');
        assert.equal(answer.headers['referrer-policy'], 'same-origin');
        assert.equal(answer.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
      }
      const signIn = (target: ApiApp, headers: Record<string, string>) =>
        target.inject({
          method: 'POST',
          url: '/api/v1/session',
          headers,
          payload: { username: 'owner', password: 'correct horse' },
        });
      const plain = await signIn(app, { 'x-forwarded-proto': 'https' });
      assert.equal(plain.statusCode, 200, plain.body);
      assert.doesNotMatch(String(plain.headers['set-cookie']), /Secure/, 'an untrusted X-Forwarded-Proto is ignored');
      assert.equal(plain.headers['strict-transport-security'], undefined);
      const behindProxy = await signIn(proxied, { 'x-forwarded-proto': 'https' });
      assert.equal(behindProxy.statusCode, 200, behindProxy.body);
      assert.match(String(behindProxy.headers['set-cookie']), /; Secure/);
      assert.equal(behindProxy.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      const proxiedPlain = await signIn(proxied, {});
      assert.doesNotMatch(String(proxiedPlain.headers['set-cookie']), /Secure/);
    });
  });
}
