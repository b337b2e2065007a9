import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase } from '../../../test/setup.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const NOW = Date.parse('2026-06-01T10:00:00Z');
// The built-in flows, as src/campaigns/builtin.ts defines them, listed by hand.
const BUILTIN_KEYS = [
  'birthday',
  'browse-abandonment',
  'cart-abandonment',
  'replenishment',
  'review-request',
  'second-order',
  'welcome',
  'win-back',
];

for (const dialect of DIALECTS) {
  describe(`flows API (${dialect.name})`, { skip: dialect.skip }, () => {
    test('listing installs the built-ins once; enable/disable need a write key and name unknown flows', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const keys = {
          read: (await createApiKey(t.store.db, { scope: 'read', now: NOW })).key,
          write: (await createApiKey(t.store.db, { scope: 'write', now: NOW })).key,
        };
        const as = (scope: 'read' | 'write') => ({ authorization: `Bearer ${keys[scope]}` });
        const list = async () => {
          const res = await app.inject({ url: '/api/v1/flows', headers: as('read') });
          assert.equal(res.statusCode, 200);
          return (res.json() as { flows: { key: string; enabled: boolean; version: number; trigger: string }[] }).flows;
        };

        assert.equal((await app.inject({ url: '/api/v1/flows' })).statusCode, 401);
        const first = await list();
        assert.deepEqual(
          first.map((f) => f.key),
          BUILTIN_KEYS,
        );
        assert.ok(first.every((f) => !f.enabled && f.version === 1));
        assert.equal(first.find((f) => f.key === 'win-back')?.trigger, 'segment_entered');
        assert.equal((await list()).length, BUILTIN_KEYS.length, 'a second listing installs nothing more');

        const post = (url: string, scope?: 'read' | 'write') =>
          app.inject({ method: 'POST', url, headers: scope ? as(scope) : {} });
        assert.equal((await post('/api/v1/flows/welcome/enable')).statusCode, 401);
        const forbidden = await post('/api/v1/flows/welcome/enable', 'read');
        assert.equal(forbidden.statusCode, 403);
        assert.equal((await list()).find((f) => f.key === 'welcome')?.enabled, false, 'a refused call changes nothing');

        const on = await post('/api/v1/flows/welcome/enable', 'write');
        assert.equal(on.statusCode, 200);
        assert.deepEqual(on.json(), { key: 'welcome', enabled: true, changed: true });
        assert.equal((await list()).find((f) => f.key === 'welcome')?.enabled, true);
        assert.deepEqual((await post('/api/v1/flows/welcome/enable', 'write')).json(), {
          key: 'welcome',
          enabled: true,
          changed: false,
        });
        const detail = await app.inject({ url: '/api/v1/flows/welcome', headers: as('read') });
        assert.equal((detail.json() as { enabled: boolean }).enabled, true);

        const off = await post('/api/v1/flows/welcome/disable', 'write');
        assert.deepEqual(off.json(), { key: 'welcome', enabled: false, changed: true });
        assert.equal((await list()).find((f) => f.key === 'welcome')?.enabled, false);

        const unknown = await post('/api/v1/flows/no-such-flow/enable', 'write');
        assert.equal(unknown.statusCode, 404);
        assert.match(unknown.body, /no-such-flow/);
        const unknownReport = await app.inject({ url: '/api/v1/flows/no-such-flow/report', headers: as('read') });
        assert.equal(unknownReport.statusCode, 404);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
