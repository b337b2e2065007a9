import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli as run } from '../../../test/run-cli.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { buildApp } from '../../api/build-app.js';

for (const dialect of DIALECTS) {
  describe(`comeback keys and admin on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('a key is printed once, stored as a hash, listed, and refused once revoked', async () => {
      const created = await run('keys', 'create', '--scope', 'write', '--name', 'storefront', '--db', t.url);
      assert.equal(created.code, 0, created.err);
      const key = created.out.trim();
      assert.match(key, /^cb_write_[\w-]{43}$/);
      assert.match(created.err, /not shown again/);
      const rows = await t.store.db
        .withTables<{ api_keys: { secret_sha256: string; prefix: string } }>()
        .selectFrom('api_keys')
        .selectAll()
        .execute();
      assert.ok(!JSON.stringify(rows).includes(key), 'the key itself is not stored');

      const listed = await run('keys', 'list', '--json', '--db', t.url);
      const [entry] = JSON.parse(listed.out);
      assert.deepEqual([entry.name, entry.scope, key.startsWith(entry.prefix)], ['storefront', 'write', true]);

      const app = await buildApp({ store: t.store, rateLimit: false });
      try {
        const call = () =>
          app.inject({
            method: 'POST',
            url: '/api/v1/track',
            headers: { authorization: `Bearer ${key}` },
            payload: { anonymousId: 'a', event: 'Viewed' },
          });
        assert.equal((await call()).statusCode, 200);
        assert.equal((await run('keys', 'revoke', String(entry.id), '--db', t.url)).code, 0);
        assert.equal((await call()).statusCode, 401);
      } finally {
        await app.close();
      }
      assert.equal((await run('keys', 'create', '--scope', 'root', '--db', t.url)).code, 2);
      assert.equal((await run('keys', 'revoke', '999', '--db', t.url)).code, 1);
    });

    test('admin create makes an account that signs in to the dashboard', async () => {
      assert.equal((await run('admin', 'create', 'owner', '--password', 'short', '--db', t.url)).code, 1);
      const created = await run('admin', 'create', 'owner', '--password', 'a long passphrase', '--db', t.url);
      assert.equal(created.code, 0, created.err);
      const app = await buildApp({ store: t.store, rateLimit: false });
      try {
        const login = await app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: 'owner', password: 'a long passphrase' },
        });
        assert.equal(login.statusCode, 200);
        const cookie = String(login.headers['set-cookie']).split(';')[0]!;
        const stats = () => app.inject({ url: '/api/v1/stats', headers: { cookie } });
        assert.equal((await stats()).statusCode, 200);
        const listed = await run('admin', 'sessions', '--db', t.url);
        assert.equal(listed.code, 0, listed.err);
        const line = listed.out.trim().split('\n');
        assert.equal(line.length, 1, listed.out);
        assert.match(
          line[0]!,
          /^\d+\towner\tadmin\tpassword\topened \d{4}-\d\d-\d\d \d\d:\d\d UTC\tfrom 127\.0\.0\.1$/,
        );
        const id = line[0]!.split('\t')[0]!;
        assert.equal((await run('admin', 'sessions', '--revoke', 'x', '--db', t.url)).code, 2);
        const ended = await run('admin', 'sessions', '--revoke', id, '--db', t.url);
        assert.equal(ended.code, 0, ended.err);
        assert.equal((await stats()).statusCode, 401);
        assert.equal((await run('admin', 'sessions', '--db', t.url)).out, 'No live sessions.\n');

        // Setting a new password from the CLI signs the account out everywhere.
        const again = await app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: 'owner', password: 'a long passphrase' },
        });
        const second = String(again.headers['set-cookie']).split(';')[0]!;
        assert.equal((await app.inject({ url: '/api/v1/stats', headers: { cookie: second } })).statusCode, 200);
        const changed = await run('admin', 'create', 'owner', '--password', 'another passphrase', '--db', t.url);
        assert.match(changed.out, /signed out/);
        assert.equal((await app.inject({ url: '/api/v1/stats', headers: { cookie: second } })).statusCode, 401);
      } finally {
        await app.close();
      }
    });
  });
}
