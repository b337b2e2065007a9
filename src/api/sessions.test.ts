import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { ApiApp } from './app.types.js';
import { buildApp } from './build-app.js';
import { createApiKey, revokeApiKey, upsertAdminUser } from './keys.queries.js';

const NOW = Date.UTC(2026, 0, 15);
const HOURS_12 = 12 * 60 * 60 * 1000;

function cookieOf(answer: { headers: Record<string, unknown> }): string {
  const header = String(answer.headers['set-cookie']);
  assert.match(header, /^comeback_session=[\w-]{43};/, header);
  return header.split(';')[0]!;
}

for (const dialect of DIALECTS) {
  describe(`revocable dashboard sessions on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let clock = NOW;
    const signIn = (payload: Record<string, string>, from = '127.0.0.1') =>
      app.inject({ method: 'POST', url: '/api/v1/session', payload, headers: { 'x-forwarded-for': from } });
    const get = (url: string, cookie: string) => app.inject({ url, headers: { cookie } });
    before(async () => {
      t = await freshDatabase(dialect.name);
      await upsertAdminUser(t.store.db, { username: 'owner', password: 'correct horse', now: NOW });
      app = await buildApp({ store: t.store, now: () => clock, rateLimit: false, trustProxy: true });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('a cookie that minted an admin key stops working at sign-out; the key it minted stays', async () => {
      clock = NOW;
      const cookie = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }));
      const minted = await app.inject({
        method: 'POST',
        url: '/api/v1/keys',
        headers: { cookie },
        payload: { scope: 'admin', name: 'minted' },
      });
      assert.equal(minted.statusCode, 201, minted.body);
      const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
      assert.equal(out.statusCode, 200);
      assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
      // The browser forgets the cookie, but a copy of it is refused by the server.
      assert.equal((await get('/api/v1/keys', cookie)).statusCode, 401);
      assert.deepEqual((await get('/api/v1/session', cookie)).json(), { kind: 'none' });
      const withKey = await app.inject({
        url: '/api/v1/stats',
        headers: { authorization: `Bearer ${minted.json().key}` },
      });
      assert.equal(withKey.statusCode, 200);
    });

    test("a new password ends every session of the account, from the CLI's upsert or from the API", async () => {
      clock = NOW;
      const first = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }));
      const second = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }));
      await upsertAdminUser(t.store.db, { username: 'owner', password: 'battery staple', now: NOW });
      assert.equal((await get('/api/v1/keys', first)).statusCode, 401);
      assert.equal((await get('/api/v1/keys', second)).statusCode, 401);

      const a = cookieOf(await signIn({ username: 'owner', password: 'battery staple' }));
      const b = cookieOf(await signIn({ username: 'owner', password: 'battery staple' }));
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/v1/session/password',
        headers: { cookie: a },
        payload: { currentPassword: 'nope', newPassword: 'correct horse' },
      });
      assert.deepEqual([wrong.statusCode, wrong.json().error.field], [401, 'currentPassword']);
      assert.equal((await get('/api/v1/keys', b)).statusCode, 200, 'a wrong current password changes nothing');
      const changed = await app.inject({
        method: 'POST',
        url: '/api/v1/session/password',
        headers: { cookie: a },
        payload: { currentPassword: 'battery staple', newPassword: 'correct horse' },
      });
      assert.equal(changed.statusCode, 200, changed.body);
      const renewed = cookieOf(changed);
      assert.equal((await get('/api/v1/keys', a)).statusCode, 401);
      assert.equal((await get('/api/v1/keys', b)).statusCode, 401);
      assert.equal((await get('/api/v1/keys', renewed)).statusCode, 200);
      assert.equal((await signIn({ username: 'owner', password: 'battery staple' })).statusCode, 401);
    });

    test('an API key is traded for a session with its scope; revoking the key ends the session', async () => {
      clock = NOW;
      const read = await createApiKey(t.store.db, { scope: 'read', name: 'analyst', now: NOW });
      const signedIn = await signIn({ key: read.key });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      assert.deepEqual(signedIn.json(), { kind: 'session', scope: 'read', name: 'analyst', viaKey: true });
      const cookie = cookieOf(signedIn);
      assert.deepEqual((await get('/api/v1/session', cookie)).json(), signedIn.json());
      assert.equal((await get('/api/v1/stats', cookie)).statusCode, 200);
      assert.equal((await get('/api/v1/keys', cookie)).statusCode, 403, 'a read key does not become admin');
      const bad = await signIn({ key: 'cb_admin_not-a-key' });
      assert.deepEqual([bad.statusCode, bad.headers['set-cookie']], [401, undefined]);
      await revokeApiKey(t.store.db, read.apiKey.id, NOW);
      assert.equal((await get('/api/v1/stats', cookie)).statusCode, 401);
      assert.equal((await signIn({ key: read.key })).statusCode, 401);
    });

    test('a session lasts 12 hours to the millisecond; admins list and end sessions', async () => {
      clock = NOW;
      const cookie = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }, '198.51.100.7'));
      clock = NOW + HOURS_12 - 1;
      assert.equal((await get('/api/v1/stats', cookie)).statusCode, 200);
      clock = NOW + HOURS_12;
      assert.equal((await get('/api/v1/stats', cookie)).statusCode, 401);

      clock = NOW + 2 * HOURS_12;
      const mine = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }, '198.51.100.8'));
      const other = cookieOf(await signIn({ username: 'owner', password: 'correct horse' }, '198.51.100.9'));
      const listed = (await get('/api/v1/sessions', mine)).json().sessions as Array<{ id: number; address: string }>;
      // Only the two live sessions (the older ones expired, were revoked or ended with the password).
      assert.deepEqual(
        listed.map((s) => s.address),
        ['198.51.100.9', '198.51.100.8'],
      );
      const ended = await app.inject({
        method: 'DELETE',
        url: `/api/v1/sessions/${listed[0]!.id}`,
        headers: { cookie: mine },
      });
      assert.equal(ended.statusCode, 200, ended.body);
      assert.equal(ended.json().revokedAt, NOW + 2 * HOURS_12);
      assert.equal((await get('/api/v1/stats', other)).statusCode, 401);
      assert.equal((await get('/api/v1/stats', mine)).statusCode, 200);
      const unknown = await app.inject({ method: 'DELETE', url: '/api/v1/sessions/999999', headers: { cookie: mine } });
      assert.equal(unknown.statusCode, 404);
    });

    test('before sign-in GET /session answers 200 { kind: "none" }; a wrong bearer key is still a 401', async () => {
      assert.deepEqual((await app.inject({ url: '/api/v1/session' })).json(), { kind: 'none' });
      const wrong = await app.inject({ url: '/api/v1/session', headers: { authorization: 'Bearer cb_read_nope' } });
      assert.equal(wrong.statusCode, 401);
    });

    test('requests with no key or a wrong key are rate-limited per address', async () => {
      const limited = await buildApp({
        store: t.store,
        now: () => NOW,
        rateLimit: { max: 3, timeWindowMs: 60_000 },
        trustProxy: true,
      });
      try {
        const good = (await createApiKey(t.store.db, { scope: 'read', now: NOW })).key;
        const call = (from: string, authorization?: string) =>
          limited.inject({
            url: '/api/v1/stats',
            headers: { 'x-forwarded-for': from, ...(authorization ? { authorization } : {}) },
          });
        assert.equal((await call('203.0.113.1')).statusCode, 401);
        assert.equal((await call('203.0.113.1', 'Bearer cb_read_wrong1')).statusCode, 401);
        assert.equal((await call('203.0.113.1', 'Bearer cb_read_wrong2')).statusCode, 401);
        const fourth = await call('203.0.113.1', 'Bearer cb_read_wrong3');
        assert.equal(fourth.statusCode, 429, fourth.body);
        assert.equal(fourth.json().error.code, 'rate_limited');
        assert.equal((await call('203.0.113.1')).statusCode, 429);
        // Another address has its own budget; a valid key counts against the key, not the address.
        assert.equal((await call('203.0.113.2', 'Bearer cb_read_wrong4')).statusCode, 401);
        assert.equal((await call('203.0.113.1', `Bearer ${good}`)).statusCode, 200);
      } finally {
        await limited.close();
      }
    });
  });
}
