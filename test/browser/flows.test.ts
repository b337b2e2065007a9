import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { campaignDb } from '../../src/campaigns/tables.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeI18n } from '../../web/src/i18n.js';
import { CHROMIUM, hasChromium, launchChromium } from './chromium.js';
import { type Demo, ROOT, startDemo, stopDemo } from './demo-helper.js';

/**
 * The Flows page in Chromium against `comeback demo`: the built-in flows listed in English and Korean,
 * the on/off switch changing what the API answers, and a flow's lift report — seeded straight into the
 * demo's SQLite file — showing the figures counted here by hand and the intervals the API returns.
 */

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const skip = hasChromium || process.env.CI ? false : `${CHROMIUM} not found (apt-get install chromium)`;
// In the page, on failure: the outermost elements that stick out on the right.
const WIDEST = `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.parentElement?.closest('.table-scroll')).slice(0, 5).map((e) => e.tagName + '.' + e.className).join(' ')`;
const PHONE = { width: 390, height: 844 };
const DAY = 86_400_000;
// The built-in flows of src/campaigns/builtin.ts, by hand.
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

async function settle(page: Page): Promise<void> {
  // A locator, not a string evaluated in the page: the server's CSP forbids eval, as it should.
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 30_000 });
  await page.waitForTimeout(400);
}

async function textOf(page: Page, testId: string): Promise<string> {
  const locator = page.getByTestId(testId);
  await locator.waitFor({ state: 'visible', timeout: 20_000 });
  return ((await locator.textContent()) ?? '').trim();
}

/**
 * Ten entrants of the welcome flow, entered ten days ago: six treated, four held out. Treated: customers
 * 1 (orders 10.00 + 20.00), 2 (15.00), 3 (5.00) convert, 4–6 do not; held out: customer 7 (30.00)
 * converts. Step "welcome": 4 sent, 1 skipped for no consent, 1 queued, 4 held out; 2 opened, 1 clicked.
 */
async function seedWelcome(store: Store, base: number): Promise<void> {
  const db = campaignDb(store.db);
  const flow = await db
    .selectFrom('flows')
    .select(['id', 'current_version'])
    .where('key', '=', 'welcome')
    .executeTakeFirstOrThrow();
  const entered = Date.now() - 10 * DAY;
  const arms = ['treatment', 'treatment', 'treatment', 'treatment', 'treatment', 'treatment'];
  arms.push('control', 'control', 'control', 'control');
  const statuses = ['sent', 'sent', 'sent', 'sent', 'skipped', 'pending'] as const;
  for (let i = 0; i < 10; i++) {
    const id = base + i + 1;
    await db
      .insertInto('customers')
      .values({ id, source: 'test', email: `flow${id}@example.com`, first_seen_at: entered, created_at: entered })
      .execute();
    const journey = await db
      .insertInto('journeys')
      .values({
        flow_id: flow.id,
        version: flow.current_version,
        customer_id: id,
        occurrence: 'order:1',
        arm: arms[i]!,
        entered_at: entered,
        step_id: null,
        step_started_at: entered,
        wake_at: null,
        status: 'done',
        exit_reason: null,
        updated_at: entered,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const status = i < 6 ? statuses[i]! : 'held_out';
    const outbox = await db
      .insertInto('outbox')
      .values({
        journey_id: journey.id,
        flow_id: flow.id,
        step_id: 'welcome',
        customer_id: id,
        arm: arms[i]!,
        channel: 'email',
        purpose: 'marketing',
        template_key: 'welcome',
        template_version: 1,
        to_address: `flow${id}@example.com`,
        status,
        reason: status === 'skipped' ? 'no_consent: email' : null,
        payload: null,
        coupon_code: null,
        attempts: status === 'sent' ? 1 : 0,
        claim_token: null,
        lease_until: null,
        send_after: entered + 2 * 3_600_000,
        send_by: entered + 2 * DAY,
        message_id: `<flow-test-${id}@example.com>`,
        provider_id: null,
        last_error: null,
        created_at: entered + 2 * 3_600_000,
        sent_at: status === 'sent' ? entered + 2 * 3_600_000 : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const events = i === 0 ? ['opened', 'clicked'] : i === 1 ? ['opened'] : [];
    for (const kind of events) {
      await db
        .insertInto('message_events')
        .values({ outbox_id: outbox.id, customer_id: id, kind, detail: null, occurred_at: entered + 3 * 3_600_000 })
        .execute();
    }
  }
  const orders: Array<[number, number]> = [
    [1, 1000],
    [1, 2000],
    [2, 1500],
    [3, 500],
    [7, 3000],
  ];
  for (const [n, [who, total]] of orders.entries()) {
    const at = entered + DAY + n * 3_600_000;
    await store.db
      .insertInto('orders')
      .values({
        source: 'test',
        external_id: `flow-test-${n}`,
        customer_id: base + who,
        email: null,
        placed_at: at,
        placed_offset: 0,
        placed_date: new Date(at).toISOString().slice(0, 10),
        currency: 'GBP',
        subtotal_minor: total,
        shipping_minor: 0,
        tax_minor: 0,
        discount_minor: 0,
        total_minor: total,
        refunded_minor: 0,
        status: 'paid',
        discount_codes: '',
        country: 'GB',
        cancelled_at: null,
        imported_at: at,
      })
      .execute();
  }
}

describe('Flows page in Chromium against comeback demo', { skip }, () => {
  let dir: string;
  let demo: Demo;
  let browser: Browser;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  before(async () => {
    if (!hasChromium) throw new Error(`CI is set and ${CHROMIUM} is missing`);
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
      execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'comeback-flows-'));
    demo = await startDemo(join(dir, 'demo.db'));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: 'en-GB' });
    const signIn = await context.request.post(new URL('/api/v1/session', demo.url).href, {
      data: { username: demo.user, password: demo.password },
    });
    assert.equal(signIn.status(), 200, await signIn.text());
  });

  after(async () => {
    await browser?.close();
    if (demo) await stopDemo(demo);
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(pageErrors, []);
  });

  async function api<T>(path: string): Promise<T> {
    const response = await context.request.get(new URL(`/api/v1${path}`, demo.url).href);
    assert.equal(response.status(), 200, `${path}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  async function open(lang: 'en' | 'ko', viewport?: { width: number; height: number }): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    if (viewport) await page.setViewportSize(viewport);
    await page.goto(new URL(`/?lang=${lang}#/flows`, demo.url).href);
    await page.getByTestId('flows-table').waitFor({ timeout: 30_000 });
    await settle(page);
    return page;
  }

  test('the demo’s public address is where it serves, so its links and pages point at it', async () => {
    const settings = await api<{ publicUrl: string }>('/settings/messaging');
    assert.equal(settings.publicUrl, new URL(demo.url).origin);
  });

  test('lists the built-in flows, off, in English and in Korean', async () => {
    for (const lang of ['en', 'ko'] as const) {
      const i18n = makeI18n(lang);
      const page = await open(lang);
      assert.equal(await page.locator('h1').first().textContent(), i18n.t('navFlows'));
      for (const key of BUILTIN_KEYS) {
        assert.equal(await textOf(page, `flow-state-${key}`), i18n.t('flowOff'), `${lang} ${key}`);
      }
      assert.equal(await page.locator('[data-testid="flows-table"] tbody tr').count(), BUILTIN_KEYS.length);
      await page.screenshot({ path: join(SHOTS, `${lang}-laptop-flows.png`), fullPage: true });
      await page.close();
    }
    assert.equal(makeI18n('ko').t('navFlows'), '메시지 흐름');
  });

  test('the switch turns a flow on and off through the API', async () => {
    const page = await open('en');
    const state = async () =>
      (await api<{ flows: { key: string; enabled: boolean }[] }>('/flows')).flows.find((f) => f.key === 'second-order')
        ?.enabled;
    assert.equal(await state(), false);
    await page.getByTestId('flow-toggle-second-order').click();
    await page.getByTestId('flow-state-second-order').getByText('On', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await state(), true);
    await page.getByTestId('flow-toggle-second-order').click();
    await page.getByTestId('flow-state-second-order').getByText('Off', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await state(), false);
    await page.close();
  });

  test('a flow with entrants shows its lift report as counted by hand and as the API answers', async () => {
    const store = await openStore(`sqlite:${join(dir, 'demo.db')}`);
    try {
      await seedWelcome(store, 9_000_000);
    } finally {
      await store.close();
    }
    interface Interval {
      estimate: number;
      low: number | null;
      high: number | null;
    }
    const report = await api<{
      lift: {
        conversionLift: Interval;
        incrementalRevenueMinor: Interval;
        incrementalOrders: Interval;
        verdict: string;
        moreEntrantsNeeded: number | null;
      };
    }>('/flows/welcome/report');
    for (const lang of ['en', 'ko'] as const) {
      const i18n = makeI18n(lang);
      for (const viewport of [undefined, PHONE]) {
        const page = await open(lang, viewport);
        await page.getByTestId('flow-select-welcome').click();
        await page.getByTestId('flow-report').waitFor();
        await settle(page);
        assert.equal(await textOf(page, 'kpi-flow-treated-value'), '6');
        assert.equal(await textOf(page, 'kpi-flow-held-out-value'), '4');
        assert.equal(await textOf(page, 'kpi-flow-rate-treated-value'), i18n.percent(0.5, 1));
        assert.equal(await textOf(page, 'kpi-flow-rate-held-out-value'), i18n.percent(0.25, 1));
        // Lift 3/6 − 1/4 = +25.0 pp; its interval as the API computes it.
        const lift = await textOf(page, 'flow-conversion-lift');
        const l = report.lift.conversionLift;
        assert.ok(lift.includes(`+${i18n.number(25, 1)}`), lift);
        assert.ok(lift.includes(i18n.number(l.low! * 100, 1)) && lift.includes(i18n.number(l.high! * 100, 1)), lift);
        // Incremental revenue (5000/6 − 3000/4) × 6 = 500 minor = £5.00; orders (4/6 − 1/4) × 6 = 2.5.
        const revenue = await textOf(page, 'flow-incremental-revenue');
        assert.ok(revenue.startsWith(i18n.money(5, 'GBP')), revenue);
        const r = report.lift.incrementalRevenueMinor;
        assert.ok(revenue.includes(i18n.money(r.low! / 100, 'GBP')), revenue);
        assert.ok((await textOf(page, 'flow-incremental-orders')).startsWith(i18n.number(2.5, 1)));
        assert.ok((await textOf(page, 'flow-coupon-cost')).startsWith(i18n.money(0, 'GBP')));
        assert.equal(report.lift.verdict, 'inconclusive');
        assert.equal(
          await textOf(page, 'flow-verdict'),
          i18n.t('flowVerdictInconclusive', { n: i18n.number(report.lift.moreEntrantsNeeded!) }),
        );
        const cell = async (col: string) =>
          ((await page.locator(`[data-testid="flow-step-welcome"] [data-col="${col}"]`).textContent()) ?? '').trim();
        assert.deepEqual(
          [
            await cell('sent'),
            await cell('queued'),
            await cell('skipped'),
            await cell('held-out'),
            await cell('opened'),
            await cell('clicked'),
            await cell('unsubscribed'),
          ],
          ['4', '1', `${i18n.t('flowSkipNoConsent')}: 1`, '4', '2', '1', '0'],
        );
        await page.locator('[data-testid="flow-report"] .chart canvas').first().waitFor();
        const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
        const wide = overflow > 0 ? await page.evaluate(WIDEST) : '';
        assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen: ${wide}`);
        if (viewport) assert.ok(await page.locator('[data-testid="flow-report"] .scroll-hint').isVisible());
        await page.screenshot({
          path: join(SHOTS, `${lang}-${viewport ? 'phone' : 'laptop'}-flow-report.png`),
          fullPage: true,
        });
        await page.close();
      }
    }
  });
});
