import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chromiumSkip, launchChromium } from '../../test/browser/chromium.js';
import { addCustomer } from '../../test/loyalty-fixtures.js';
import { runCli } from '../../test/run-cli.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { buildApp } from '../api/build-app.js';
import { createApiKey, messageLinkSecret } from '../api/keys.queries.js';
import { messagingSettings, saveMessagingSettings, signLink } from '../campaigns/index.js';
import { ComebackError } from '../errors.js';
import { signPageLink } from '../feedback/index.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const DAY = 86_400_000;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

for (const dialect of DIALECTS) {
  describe(`the store's address on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('storeUrl must be https; a bad one is refused naming the field and nothing is saved', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        for (const bad of [
          'http://shop.example.com',
          'shop.example.com',
          'ftp://shop.example.com',
          'https://u:p@x.io',
        ]) {
          await assert.rejects(
            saveMessagingSettings(db, { storeUrl: bad, storeName: 'Changed' }),
            (e: unknown) => e instanceof ComebackError && e.kind === 'bad_input' && e.location?.field === 'storeUrl',
            bad,
          );
        }
        assert.equal((await messagingSettings(db)).storeName, 'Our store', 'nothing partial was saved');
        await saveMessagingSettings(db, { storeUrl: 'https://shop.example.com/' });
        assert.equal((await messagingSettings(db)).storeUrl, 'https://shop.example.com/');
        // The helpdesk may be a receiver on this machine over plain HTTP, nowhere else.
        await saveMessagingSettings(db, { helpdeskUrl: 'http://127.0.0.1:9/hook' });
        await assert.rejects(
          saveMessagingSettings(db, { helpdeskUrl: 'http://helpdesk.example.com/hook' }),
          (e: unknown) => e instanceof ComebackError && e.location?.field === 'helpdeskUrl',
        );
      } finally {
        await t.drop();
      }
    });

    test('the CLI and the API set it; the rewards page and the preference centre link back to the store', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const refused = await runCli('flows', 'settings', '--db', t.url, '--store-url', 'http://shop.example.com');
        assert.equal(refused.code, 1, refused.err);
        assert.match(refused.err, /^comeback: storeUrl: "http:\/\/shop\.example\.com" must start with https:\/\//m);
        assert.doesNotMatch(refused.err, /storeUrl: storeUrl/);
        const set = await runCli('flows', 'settings', '--db', t.url, '--store-url', 'https://cli.example.com');
        assert.equal(set.code, 0, set.err);
        assert.equal(JSON.parse(set.out).storeUrl, 'https://cli.example.com');

        await app.listen({ port: 0, host: '127.0.0.1' });
        const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        const { key } = await createApiKey(db, { scope: 'admin', now: NOW });
        const patch = (body: unknown) =>
          fetch(`${base}/api/v1/settings/messaging`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        const bad = await patch({ storeUrl: 'javascript:alert(1)' });
        assert.equal(bad.status, 400);
        assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'storeUrl');
        const good = await patch({ storeUrl: 'https://shop.example.com/?from=comeback&x="<', storeName: 'Mina & Co' });
        assert.equal(good.status, 200, await good.clone().text());
        const read = await fetch(`${base}/api/v1/settings/messaging`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(
          ((await read.json()) as { storeUrl: string }).storeUrl,
          'https://shop.example.com/?from=comeback&x="<',
        );
        const { key: readKey } = await createApiKey(db, { scope: 'read', now: NOW });
        const forbidden = await fetch(`${base}/api/v1/settings/messaging`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' },
          body: '{"storeUrl":null}',
        });
        assert.equal(forbidden.status, 403, 'a read key cannot change settings');

        const customer = await addCustomer(db, { email: 'mina@example.com' });
        const secret = await messageLinkSecret(db);
        const pages = {
          preferences: `/p/${signLink(secret, { c: customer, p: 'preferences', e: NOW + DAY })}`,
          rewards: `/w/${signPageLink(secret, { c: customer, p: 'rewards', e: NOW + DAY })}`,
        };
        // The address is escaped into the attribute; the name into the text.
        const href = 'href="https://shop.example.com/?from=comeback&amp;x=&quot;&lt;"';
        for (const [name, path] of Object.entries(pages)) {
          for (const [lang, text] of [
            ['en', '← Back to Mina &amp; Co'],
            ['ko', '← Mina &amp; Co 바로가기'],
          ] as const) {
            const response = await fetch(`${base}${path}?lang=${lang}`);
            const body = await response.text();
            assert.equal(response.status, 200, `${name}: ${body}`);
            assert.ok(
              body.includes(`<a ${href} rel="noopener" data-store-link>${text}</a>`),
              `${name} ${lang}: ${body}`,
            );
          }
        }
        // Without an address there is no link.
        await patch({ storeUrl: null });
        const plain = await (await fetch(`${base}${pages.rewards}`)).text();
        assert.ok(!plain.includes('data-store-link'), plain);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}

describe('the store link in Chromium', { skip: chromiumSkip || (hasOpenssl ? false : 'openssl not found') }, () => {
  test('tapping "back to the store" on the preference centre opens the store', async () => {
    // The store: an https page on loopback (a certificate made for the test) that says what was asked.
    const dir = mkdtempSync(join(tmpdir(), 'comeback-shop-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const shop = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (request, response) => {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><title>Shop</title><h1>Mina's shop</h1><p id="path">${request.url}</p>`);
      },
    );
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    const shopUrl = `https://127.0.0.1:${(shop.address() as AddressInfo).port}/home`;
    const t = await freshDatabase('sqlite');
    const app = await buildApp({ store: t.store, rateLimit: false });
    const browser = await launchChromium();
    try {
      const db = t.store.db;
      await saveMessagingSettings(db, { storeName: "Mina's shop", storeUrl: shopUrl });
      const customer = await addCustomer(db, { email: 'mina@example.com' });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const token = signLink(await messageLinkSecret(db), { c: customer, p: 'preferences', e: Date.now() + DAY });
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        ignoreHTTPSErrors: true,
      });
      const page = await context.newPage();
      await page.goto(`${url}/p/${token}?lang=ko`);
      const link = page.locator('[data-store-link]');
      assert.equal(await link.textContent(), "← Mina's shop 바로가기");
      await link.tap();
      await page.waitForURL(shopUrl);
      assert.equal(await page.locator('#path').textContent(), '/home');
      await context.close();
    } finally {
      await browser.close();
      await app.close();
      await t.drop();
      shop.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
