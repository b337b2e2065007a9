import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ApiApp } from '../src/api/app.types.js';
import { buildApp } from '../src/api/build-app.js';
import { say, WORDS } from '../web/snippet/i18n.js';
import { freshDatabase, type TestDb } from './setup.js';

/** The storefront snippet's budget (issue 18): under 15 KB gzipped, served with caching headers. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILE = join(ROOT, 'web', 'dist', 'snippet', 'comeback.js');
const BUDGET = 15 * 1024;

describe('the storefront snippet', () => {
  let t: TestDb;
  let app: ApiApp;
  before(async () => {
    if (!existsSync(FILE)) {
      execFileSync('npx', ['vite', 'build', '--config', 'web/snippet/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    t = await freshDatabase('sqlite');
    app = await buildApp({ store: t.store, rateLimit: false, snippetFile: FILE });
  });
  after(async () => {
    await app?.close();
    await t?.drop();
  });

  test('is under 15 KB gzipped and holds no innerHTML', () => {
    const source = readFileSync(FILE);
    const gzipped = gzipSync(source, { level: 9 }).length;
    assert.ok(gzipped < BUDGET, `comeback.js is ${gzipped} bytes gzipped; the budget is ${BUDGET}`);
    assert.doesNotMatch(source.toString(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  test('says numbers with the locale’s grouping, and has every word in English and Korean', () => {
    assert.equal(say('en', 'short', { n: 1464 }), '1,464 more points');
    assert.equal(say('ko', 'short', { n: 1464 }), '1,464포인트 부족');
    assert.equal(say('en', 'tier', { tier: 'Gold' }), 'Gold member');
    assert.deepEqual(Object.keys(WORDS.ko).sort(), Object.keys(WORDS.en).sort());
  });

  test('is served at /comeback.js: gzipped, cached, revalidated by ETag, loadable by other origins', async () => {
    const response = await app.inject({ method: 'GET', url: '/comeback.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-encoding'], 'gzip');
    assert.match(String(response.headers['content-type']), /^text\/javascript/);
    assert.match(String(response.headers['cache-control']), /public, max-age=300/);
    assert.equal(response.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.deepEqual(gunzipSync(response.rawPayload), readFileSync(FILE));
    const etag = String(response.headers.etag);
    const again = await app.inject({ method: 'GET', url: '/comeback.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    const plain = await app.inject({ method: 'GET', url: '/comeback.js' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, readFileSync(FILE, 'utf8'));
  });

  test('answers 404 naming the build step when it is not built', async () => {
    const bare = await buildApp({ store: t.store, rateLimit: false, snippetFile: join(ROOT, 'no-such-file.js') });
    try {
      const response = await bare.inject({ method: 'GET', url: '/comeback.js' });
      assert.equal(response.statusCode, 404);
      assert.match(response.json().error.message, /npm run build:web/);
    } finally {
      await bare.close();
    }
  });
});
