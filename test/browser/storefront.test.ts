import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey } from '../../src/api/keys.queries.js';
import { recordEvents } from '../../src/ingest/index.js';
import { adjust, adjustCredit, earnForAction, enrolMember, loadProgram, saveProgram } from '../../src/loyalty/index.js';
import { openStore } from '../../src/store/index.js';
import { testProgramConfig } from '../loyalty-fixtures.js';
import { chromiumSkip, launchChromium } from './chromium.js';

/**
 * The storefront snippet in Chromium: `comeback serve` on one loopback port, a static test shop on
 * another (a different origin, as a real store is), the snippet loaded by the shop's pages with a
 * publishable key. A visitor browses from a newsletter link, adds to cart and wishlist, starts checkout,
 * signs in; the events land on the customer. The rewards launcher redeems a reward (the ledger shows the
 * debit) and the exit-intent offer shows once per visit, keyboard first.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SNIPPET = join(ROOT, 'web', 'dist', 'snippet', 'comeback.js');
const USER = 'shop-customer-42';

interface Serve {
  process: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

/** Starts `comeback serve --port 0` on a database file and reads its URL from stdout. */
async function startServe(file: string): Promise<Serve> {
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--db', `sqlite:${file}`],
    { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`comeback serve did not start in 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /at (http:\/\/\S+?)\/? /.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`comeback serve exited with ${code}:\n${out}\n${err}`));
    });
  });
  return { process: child, url, output: () => `${out}\n${err}` };
}

/** The test shop's pages: plain HTML with the embed code of the README and a few marked-up buttons. */
function shopPage(path: string, embed: string): string {
  const product =
    '<div data-comeback-product data-sku="MUG-1" data-name="Blue mug" data-price="12.5" data-currency="GBP"><h1>Blue mug</h1>' +
    '<button data-comeback-event="Product Added" data-sku="MUG-1" data-price="12.5" data-currency="GBP" data-quantity="1">Add to cart</button>' +
    '<button data-comeback-event="Product Added to Wishlist" data-sku="MUG-1">Save</button>' +
    '<a href="/checkout.html" data-comeback-event="Checkout Started">Checkout</a></div>';
  const body =
    path === '/product.html'
      ? product
      : path === '/checkout.html'
        ? '<h1>Checkout</h1><div data-comeback="email-capture"></div><a href="/account.html">Sign in</a>'
        : '<h1>Your account</h1><button id="store-button">Store button</button>' +
          '<template data-comeback="offer" data-title="Come back for 10% off"><p>Use code <b>STAY10</b> today.</p></template>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test shop ${path}</title></head><body>${body}${embed}</body></html>`;
}

describe('the storefront snippet in Chromium', { skip: chromiumSkip }, () => {
  let dir = '';
  let serve: Serve;
  let shop: Server;
  let shopUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let file = '';
  let customerId = 0;
  let key = '';
  let secret = '';
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(SNIPPET)) {
      execFileSync('npx', ['vite', 'build', '--config', 'web/snippet/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    dir = mkdtempSync(join(tmpdir(), 'comeback-storefront-'));
    file = join(dir, 'shop.db');
    // The shop's origin first: the publishable key is made for it.
    let embed = '';
    shop = createServer((request, response) => {
      const asked = new URL(request.url ?? '/', 'http://x');
      const path = asked.pathname;
      if (!/^\/(product|checkout|account)\.html$/.test(path)) {
        response.writeHead(path === '/favicon.ico' ? 204 : 404).end();
        return;
      }
      const user = asked.searchParams.get('user') ?? USER;
      const signedIn =
        path === '/account.html'
          ? ` data-customer-id="${user}" data-customer-hash="${createHmac('sha256', secret).update(user).digest('hex')}" data-offer="exit" data-offer-segments="member"`
          : asked.searchParams.get('consent') === 'required'
            ? ' data-consent="required"'
            : '';
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(shopPage(path, embed.replace('SIGNED_IN', signedIn)));
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;

    const store = await openStore(`sqlite:${file}`);
    try {
      const created = await createApiKey(store.db, { scope: 'publishable', origins: [shopUrl], now: Date.now() });
      key = created.key;
      secret = created.memberSecret!;
      const now = Date.now();
      await recordEvents(store.db, [{ type: 'identify', userId: USER, traits: { email: 'jo@example.com' } }], {
        now,
        userIdSource: 'api',
      });
      const row = await store.db
        .selectFrom('customers')
        .select('id')
        .where('email', '=', 'jo@example.com')
        .executeTakeFirstOrThrow();
      customerId = Number(row.id);
      // The loyalty program comes after the first test, which signs someone in to a store without one.
    } finally {
      await store.close();
    }
    serve = await startServe(file);
    embed = `<script src="${serve.url}/comeback.js" data-key="${key}" defer SIGNED_IN></script>`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    if (serve) {
      const exited = new Promise<number | null>((resolve) => serve.process.once('exit', resolve));
      serve.process.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => (shop ? shop.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The customer's events, oldest first, read from the database file `comeback serve` writes. */
  async function eventsOfCustomer(): Promise<
    Array<{
      type: string;
      event: string | null;
      properties: string;
      utm_source?: string | null;
      utm_medium?: string | null;
      utm_campaign?: string | null;
    }>
  > {
    const store = await openStore(`sqlite:${file}`);
    try {
      return await store.db
        .selectFrom('events')
        .select(['type', 'event', 'properties', 'utm_source', 'utm_medium', 'utm_campaign'])
        .where('customer_id', '=', customerId)
        .orderBy('id')
        .execute();
    } finally {
      await store.close();
    }
  }

  async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
    const end = Date.now() + 15_000;
    for (;;) {
      const value = await read();
      if (ok(value)) return value;
      if (Date.now() > end) assert.fail(`${what}: last seen ${JSON.stringify(value)}\n${serve.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  test('with no loyalty program the rewards launcher hides itself: no button, no error', async () => {
    // A browser of its own: its visitor id must not become jo's visit in the next test.
    const own = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const other = await own.newPage();
    const seen: string[] = [];
    other.on('pageerror', (error) => seen.push(error.message));
    other.on('response', (response) => {
      if (response.status() >= 400) seen.push(`${response.status()} ${response.url()}`);
    });
    const asked = other.waitForResponse((r) => r.url().endsWith('/api/v1/storefront/me'));
    await other.goto(`${shopUrl}/account.html?user=no-program-member`);
    const me = await asked;
    assert.equal(me.status(), 200);
    assert.deepEqual(await me.json(), { program: false, member: null });
    await other.waitForLoadState('networkidle');
    assert.equal(await other.locator('[data-comeback="launcher"]').count(), 0);
    assert.deepEqual(seen, []);
    await own.close();
    // Now the store starts its program, with jo as a member (50 signup + 30 contest points).
    const store = await openStore(`sqlite:${file}`);
    try {
      const now = Date.now();
      const program = await saveProgram(store.db, testProgramConfig(), { now: now - 60_000 });
      assert.ok((await enrolMember(store.db, program, { customerId, now: now - 50_000 })).ok);
      assert.ok(
        (await earnForAction(store.db, program, { customerId, action: 'custom:contest', now: now - 40_000 })).ok,
      );
    } finally {
      await store.close();
    }
  });

  test('browsing, cart and checkout land on the customer after identify, with the first visit’s campaign', async () => {
    await page.goto(`${shopUrl}/product.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring`);
    await page.waitForFunction('"comeback" in window');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Checkout' }).click();
    await page.waitForURL(/checkout/);
    // E-mail capture on the way, not signed in, with jo's own address: the form thanks the visitor as it
    // would anyone, but an address that is already a customer's changes nothing of theirs (anyone could
    // have typed it): jo gives consent through the preference centre, or signed in.
    await page.getByLabel('E-mail address').fill('jo@example.com');
    await page.getByLabel(/I agree to receive marketing e-mails/).check();
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Thank you! Please check your inbox.').waitFor();
    const store = await openStore(`sqlite:${file}`);
    try {
      const consent = await store.db
        .selectFrom('customer_consents')
        .innerJoin('customers', 'customers.id', 'customer_consents.customer_id')
        .select(['customer_consents.channel', 'customer_consents.granted', 'customer_consents.source'])
        .where('customers.email', '=', 'jo@example.com')
        .execute();
      assert.deepEqual(consent, []);
    } finally {
      await store.close();
    }
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/account/);
    const events = await until(
      'the visit’s events on the customer',
      eventsOfCustomer,
      (rows) => rows.some((r) => r.type === 'identify') && rows.filter((r) => r.type === 'page').length >= 3,
    );
    const tracked = events.filter((e) => e.type === 'track').map((e) => e.event);
    for (const name of ['Product Viewed', 'Product Added', 'Product Added to Wishlist', 'Checkout Started']) {
      assert.ok(tracked.includes(name), `${name} in ${tracked.join(', ')}`);
    }
    const added = events.find((e) => e.event === 'Product Added')!;
    assert.deepEqual(JSON.parse(added.properties), { sku: 'MUG-1', price: 12.5, currency: 'GBP', quantity: 1 });
    // The first visit's campaign travels with every later call, on every page.
    for (const e of events.filter((r) => r.type === 'page')) {
      assert.deepEqual([e.utm_source, e.utm_medium, e.utm_campaign], ['newsletter', 'email', 'spring']);
    }
    assert.deepEqual(pageErrors, []);
  });

  test('the rewards launcher redeems a reward in one step and the ledger shows the debit', async () => {
    await page.getByRole('button', { name: 'Rewards' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rewards' });
    // 50 signup + 30 contest (testProgramConfig), by hand.
    await dialog.locator('[data-comeback="balance"]').getByText('80 points').waitFor();
    await dialog.locator('button[data-reward="ship"]').click();
    const code = (await dialog.locator('.cb-code').textContent({ timeout: 15_000 }))?.trim() ?? '';
    assert.match(code, /\S{4,}/);
    const store = await openStore(`sqlite:${file}`);
    try {
      const ledger = await store.db
        .withTables<{ loyalty_ledger: { customer_id: number; amount: number; kind: string } }>()
        .selectFrom('loyalty_ledger')
        .select(['amount'])
        .where('customer_id', '=', customerId)
        .where('kind', '=', 'redeem')
        .execute();
      assert.deepEqual(
        ledger.map((l) => Number(l.amount)),
        [-60],
      );
      const issued = await store.db
        .withTables<{ loyalty_redemptions: { customer_id: number; code: string } }>()
        .selectFrom('loyalty_redemptions')
        .select('code')
        .where('customer_id', '=', customerId)
        .execute();
      assert.deepEqual(
        issued.map((r) => r.code),
        [code],
      );
    } finally {
      await store.close();
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('a refused redemption shows the API’s reason, not a generic error', async () => {
    const change = async (points: number) => {
      const store = await openStore(`sqlite:${file}`);
      try {
        const program = await loadProgram(store.db);
        const done = await adjust(store.db, program, { customerId, points, reason: 'test', now: Date.now() });
        assert.ok(done.ok, JSON.stringify(done));
      } finally {
        await store.close();
      }
    };
    // 20 left after the last test; 100 more make the reward redeemable when the launcher opens...
    await change(100);
    await page.getByRole('button', { name: 'Rewards' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rewards' });
    await dialog.locator('[data-comeback="balance"]').getByText('120 points').waitFor();
    // ...and are spent elsewhere before the click: the API refuses with insufficient_points (422).
    await change(-100);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/storefront/me/redeem'));
    await dialog.locator('button[data-reward="ship"]').click();
    assert.equal((await answered).status(), 422);
    await dialog.getByText('You no longer have enough points for this reward.').waitFor();
    assert.equal(await dialog.getByText('Something went wrong').count(), 0);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('the rewards launcher shows the store credit and its checkout code once the member has some', async () => {
    const store = await openStore(`sqlite:${file}`);
    let code = '';
    try {
      const credited = await adjustCredit(store.db, {
        customerId,
        currency: 'GBP',
        amountMinor: 250,
        reason: 'goodwill',
        now: Date.now(),
      });
      assert.ok(credited.ok);
      const account = await store.db
        .withTables<{ store_credit_accounts: { customer_id: number; code: string } }>()
        .selectFrom('store_credit_accounts')
        .select('code')
        .where('customer_id', '=', customerId)
        .executeTakeFirstOrThrow();
      code = account.code;
    } finally {
      await store.close();
    }
    await page.getByRole('button', { name: 'Rewards' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rewards' });
    const credit = dialog.locator('[data-comeback="credit"]');
    await credit.getByText('Store credit: £2.50').waitFor({ timeout: 15_000 });
    assert.equal((await credit.locator('.cb-code').textContent())?.trim(), code);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('the exit-intent offer shows once per visit, takes focus, and Escape gives it back', async () => {
    await page.getByRole('button', { name: 'Store button' }).focus();
    await page.mouse.move(400, 300);
    await page.mouse.move(400, 5);
    await page.mouse.move(400, -20);
    const offer = page.getByRole('dialog', { name: 'Come back for 10% off' });
    await offer.waitFor({ timeout: 15_000 });
    assert.match((await offer.textContent()) ?? '', /STAY10/);
    assert.equal(await offer.locator(':focus').count(), 1, 'focus moved into the dialog');
    await page.keyboard.press('Escape');
    await offer.waitFor({ state: 'detached' });
    assert.equal(await page.locator('#store-button:focus').count(), 1, 'focus is back where it was');
    // Leaving again, and after a reload (the same visit), shows nothing.
    await page.mouse.move(400, 300);
    await page.mouse.move(400, -20);
    await page.reload();
    await page.waitForFunction('"comeback" in window');
    await page.mouse.move(400, 300);
    await page.mouse.move(400, -20);
    await page.waitForTimeout(1500);
    assert.equal(await page.getByRole('dialog').count(), 0);
    const shown = (await eventsOfCustomer()).filter((e) => e.event === 'Offer Shown');
    assert.equal(shown.length, 1);
  });

  test('with data-consent="required" nothing is stored or sent until consent(true), then what waited is sent', async () => {
    const visit = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ko-KR' });
    try {
      const tab = await visit.newPage();
      const apiCalls: string[] = [];
      tab.on('request', (r) => {
        if (r.url().startsWith(`${serve.url}/api/`) && r.method() === 'POST') apiCalls.push(r.url());
      });
      await tab.goto(`${shopUrl}/product.html?consent=required&utm_source=ads`);
      await tab.waitForFunction('"comeback" in window');
      await tab.getByRole('button', { name: 'Add to cart' }).click();
      await tab.waitForTimeout(800);
      assert.deepEqual(apiCalls, [], 'nothing sent before consent');
      assert.deepEqual(await visit.cookies(), []);
      assert.equal(await tab.evaluate('localStorage.length + sessionStorage.length'), 0);
      await tab.evaluate('window.comeback.consent(true)');
      const anonymousId = String(await tab.evaluate('window.comeback.anonymousId()'));
      assert.equal(await tab.evaluate('localStorage.getItem("comeback_aid")'), anonymousId);
      const store = await openStore(`sqlite:${file}`);
      try {
        const sent = await until(
          'the waiting events after consent',
          () =>
            store.db
              .selectFrom('events')
              .select(['type', 'event', 'utm_source', 'occurred_at'])
              .where('anonymous_id', '=', anonymousId)
              .orderBy('id')
              .execute(),
          (rows) => rows.length >= 3,
        );
        // The waiting events may be stored in any order (they go out together); each keeps its own time.
        assert.deepEqual(
          sent.map((e) => [e.type, e.event, e.utm_source]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
          [
            ['page', null, 'ads'],
            ['track', 'Product Added', 'ads'],
            ['track', 'Product Viewed', 'ads'],
          ],
        );
        const at = (name: string) => Number(sent.find((e) => e.event === name)!.occurred_at);
        assert.ok(at('Product Viewed') <= at('Product Added'), 'viewed before added');
      } finally {
        await store.close();
      }
    } finally {
      await visit.close();
    }
  });
});
