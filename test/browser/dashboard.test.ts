import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { main } from '../../src/cli/main.js';
import { type I18n, type Lang, makeI18n } from '../../web/src/i18n.js';
import { CHROMIUM, hasChromium, launchChromium } from './chromium.js';
import { type Demo, ROOT, startDemo, stopDemo } from './demo-helper.js';

/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against `comeback
 * demo` started as a user would start it. Every page is visited in English and Korean on a laptop and
 * a phone screen, the figures on the page are checked against the API's JSON, and each page is saved
 * as a PNG under test-artifacts/screenshots/.
 */

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
// In CI a missing browser must fail the run, not skip it: the test then runs and fails at launch.
const skip = hasChromium || process.env.CI ? false : `${CHROMIUM} not found (apt-get install chromium)`;

const LAPTOP = { width: 1366, height: 800 };
/** A narrower laptop, where the Loyalty page once spilled 84 px past the screen. */
const SMALL_LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const LANGS: readonly Lang[] = ['en', 'ko'];

function digits(text: string | null): string {
  return (text ?? '').replace(/[^\d]/g, '');
}

async function textOf(page: Page, testId: string): Promise<string> {
  const locator = page.getByTestId(testId);
  await locator.waitFor({ state: 'visible', timeout: 20_000 });
  return ((await locator.textContent()) ?? '').trim();
}

/** Waits until the page's content has loaded (no skeleton) and its charts have drawn. */
async function settle(page: Page): Promise<void> {
  // A locator, not a string evaluated in the page: the server's CSP forbids eval, as it should.
  await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 30_000 });
  if (await page.locator('.chart').count()) {
    await page.locator('.chart canvas').first().waitFor({ timeout: 10_000 });
  }
  await page.waitForTimeout(450);
}

async function shoot(page: Page, name: string): Promise<void> {
  // Nothing may stick out sideways: on a phone the page scrolls down only (tables scroll in their box).
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
  assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the screen`);
  // From the top, so that the sticky sidebar sits where a visitor first sees it.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe('dashboard in Chromium against comeback demo', { skip }, () => {
  let dir: string;
  let demo: Demo;
  let browser: Browser;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
      execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'comeback-browser-'));
    demo = await startDemo(join(dir, 'demo.db'));
    browser = await launchChromium();
    context = await browser.newContext({ viewport: LAPTOP, locale: 'en-GB' });
    // The server's Content-Security-Policy must not block anything the dashboard itself does.
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) pageErrors.push(`CSP: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    if (demo) {
      const code = await stopDemo(demo);
      assert.equal(code, 0, `comeback demo should stop cleanly on SIGTERM:\n${demo.output()}`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GETs an API path with the signed-in browser's cookies. */
  async function api<T>(path: string): Promise<T> {
    const response = await context.request.get(new URL(`/api/v1${path}`, demo.url).href);
    assert.equal(response.status(), 200, `${path}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  function open(page: Page, lang: Lang, hash: string): Promise<unknown> {
    return page.goto(new URL(`/?lang=${lang}#/${hash}`, demo.url).href);
  }

  let loyalty: Promise<void> | undefined;
  /** `comeback loyalty init --config samples/loyalty/program.example.json` and `loyalty sync` on the demo's store, once. */
  function withLoyaltyProgram(): Promise<void> {
    loyalty ??= (async () => {
      const example = join(ROOT, 'samples/loyalty/program.example.json');
      for (const args of [
        ['loyalty', 'init', '--config', example],
        ['loyalty', 'sync'],
      ]) {
        let err = '';
        const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
        const errors = new Writable({
          write(chunk: Buffer, _encoding, done) {
            err += chunk.toString();
            done();
          },
        });
        const code = await main(
          ['node', 'comeback', ...args],
          { out: sink, err: errors },
          {
            ...process.env,
            COMEBACK_DB: `sqlite:${join(dir, 'demo.db')}`,
          },
        );
        assert.equal(code, 0, `comeback ${args.join(' ')}: ${err}`);
      }
    })();
    return loyalty;
  }

  test('refuses the API without credentials and shows the sign-in page', async () => {
    const response = await context.request.get(new URL('/api/v1/dashboard/segments', demo.url).href);
    assert.equal(response.status(), 401);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL('/?lang=en', demo.url).href);
    await page.getByLabel('Password').waitFor();
    await shoot(page, 'en-laptop-sign-in');
    await page.getByLabel('User name').fill(demo.user);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Wrong user name or password/);
    await page.getByLabel('Password').fill(demo.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('nav-overview').waitFor();
    await page.close();
  });

  for (const lang of LANGS) {
    describe(`in ${lang === 'en' ? 'English' : 'Korean'}`, () => {
      const i18n: I18n = makeI18n(lang);

      test('Overview shows the API’s customers, retention rate and AOV', async () => {
        interface Report {
          currency: string;
          customersEnd: number;
          crr: number | null;
          aov: number | null;
          revenue: number;
        }
        for (const [viewport, size] of [
          ['laptop', LAPTOP],
          ['phone', PHONE],
        ] as const) {
          const page = await context.newPage();
          page.on('pageerror', (error) => pageErrors.push(error.message));
          await page.setViewportSize(size);
          await open(page, lang, 'overview');
          await settle(page);
          // The page asks /metrics for the months it shows; the same query must give the same figures.
          const line = page.getByTestId('period-line');
          const from = await line.getAttribute('data-from');
          const to = await line.getAttribute('data-to');
          const report = await api<Report>(`/metrics?from=${from}&to=${to}`);
          assert.equal(await textOf(page, 'kpi-customersEnd-value'), i18n.number(report.customersEnd));
          assert.equal(await textOf(page, 'kpi-crr-value'), report.crr === null ? '—' : i18n.percent(report.crr));
          assert.equal(
            await textOf(page, 'kpi-aov-value'),
            report.aov === null ? '—' : i18n.money(report.aov, report.currency),
          );
          assert.equal(
            digits(await textOf(page, 'kpi-revenue-value')),
            digits(i18n.money(report.revenue, report.currency)),
          );
          assert.equal(await page.getByTestId('nav-overview').getAttribute('aria-current'), 'page');
          await shoot(page, `${lang}-${viewport}-overview`);
          await page.close();
        }
      });

      test('Cohorts shows the API’s cohort sizes, for customers, revenue and LTV', async () => {
        interface CohortJson {
          currency: string;
          cohorts: Array<{ cohort: string; size: number; values: number[] }>;
        }
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await open(page, lang, 'cohorts');
        for (const metric of ['customers', 'revenue', 'ltv'] as const) {
          const table = await api<CohortJson>(`/cohorts?metric=${metric}&period=month`);
          await page.getByTestId(`metric-${metric}`).click();
          await settle(page);
          const first = table.cohorts[0]!;
          assert.equal(await textOf(page, `cohort-size-${first.cohort}`), i18n.number(first.size));
          await shoot(page, `${lang}-laptop-cohorts-${metric}`);
        }
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-cohorts-ltv`);
        await page.close();
      });

      test('Overview and Cohorts side by side by country: the API’s groups, the derived window, partial months', async () => {
        interface GroupedJson {
          currency: string;
          activeWindow: { source: string };
          byGroup: { groups: Array<{ group: string; customersEnd: number; crr: number | null }> };
        }
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await open(page, lang, 'overview');
        await settle(page);
        await page.getByTestId('group-by').selectOption('country');
        await page.getByTestId('group-table').waitFor();
        await settle(page);
        const line = page.getByTestId('period-line');
        const from = await line.getAttribute('data-from');
        const to = await line.getAttribute('data-to');
        const report = await api<GroupedJson>(`/metrics?from=${from}&to=${to}&by=country`);
        assert.notEqual(report.activeWindow.source, 'given', 'the default window comes from the store');
        assert.ok(report.byGroup.groups.length >= 2);
        for (const g of report.byGroup.groups) {
          const row = page.getByTestId(`group-${g.group}`);
          const cells = await row.locator('td').allTextContents();
          assert.equal(cells[0]?.trim(), i18n.number(g.customersEnd), `${g.group} active customers`);
          assert.equal(cells[2]?.trim(), g.crr === null ? '—' : i18n.percent(g.crr), `${g.group} retention`);
        }
        await shoot(page, `${lang}-laptop-overview-by-country`);
        await open(page, lang, 'cohorts');
        await settle(page);
        await page.getByTestId('cohort-group-by').selectOption('country');
        await settle(page);
        const table = await api<{ cohorts: Array<{ cohort: string; group: string; size: number }> }>(
          '/cohorts?metric=customers&period=month&by=country',
        );
        const first = table.cohorts[0]!;
        assert.equal(await textOf(page, `cohort-size-${first.cohort}-${first.group}`), i18n.number(first.size));
        await page.close();
      });

      test('Customers lists the API’s total and opens the 360 page', async () => {
        interface ListJson {
          total: number;
          customers: Array<{ id: number }>;
        }
        interface ProfileJson {
          revenue: Array<{ currency: string; orders: number; revenue: number }>;
          orders: unknown[];
          identities: Array<{ source: string; externalId: string }>;
        }
        const list = await api<ListJson>('/customers?limit=25&offset=0');
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await open(page, lang, 'customers');
        await settle(page);
        assert.equal(digits(await textOf(page, 'customers-total')), digits(i18n.number(list.total)));
        await shoot(page, `${lang}-laptop-customers`);
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-customers`);
        await page.setViewportSize(LAPTOP);
        const id = list.customers[0]!.id;
        const profile = await api<ProfileJson>(`/customers/${id}`);
        await page.locator(`a[href="#/customers/${id}"]`).click();
        await settle(page);
        await page.getByTestId('kpi-customer-palive-value').waitFor();
        const revenue = profile.revenue[0]!;
        assert.equal(await textOf(page, 'kpi-customer-orders-value'), i18n.number(revenue.orders));
        assert.equal(await textOf(page, 'kpi-customer-revenue-value'), i18n.money(revenue.revenue, revenue.currency));
        // The demo sample cannot tell who has left (BG/NBD reduces to NBD), so P(alive) shows '—'.
        const story = await api<{ prediction: { pAlive: number | null } | null }>(`/dashboard/customers/${id}`);
        const pAlive = story.prediction?.pAlive ?? null;
        assert.equal(await textOf(page, 'kpi-customer-palive-value'), pAlive === null ? '—' : i18n.percent(pAlive));
        await shoot(page, `${lang}-laptop-customer-360`);
        // Search by the customer's id in the store it came from, as a shop owner would.
        const externalId = profile.identities[0]!.externalId;
        const found = await api<ListJson>(`/customers?limit=25&offset=0&q=${encodeURIComponent(externalId)}`);
        await open(page, lang, 'customers');
        await settle(page);
        await page.getByLabel(i18n.t('search')).fill(externalId);
        await page.getByLabel(i18n.t('search')).press('Enter');
        await page.waitForURL(/q=/);
        await settle(page);
        assert.equal(digits(await textOf(page, 'customers-total')), digits(i18n.number(found.total)));
        assert.ok(await page.locator(`a[href="#/customers/${id}"]`).isVisible(), 'the customer is found');
        await open(page, lang, `customers/${id}`);
        await settle(page);
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-customer-360`);
        await page.close();
      });

      test('Segments shows the API’s RFM cells and groups', async () => {
        interface SegmentsJson {
          rfm: {
            cells: Array<{ r: number; f: number; customers: number }>;
            groups: Array<{ group: string; customers: number }>;
          };
          saved: Array<{ name: string; size: number; history: unknown[] }>;
        }
        const view = await api<SegmentsJson>('/dashboard/segments');
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await open(page, lang, 'segments');
        await settle(page);
        for (const cell of view.rfm.cells.filter((c) => (c.r === 5 && c.f === 5) || (c.r === 1 && c.f === 1))) {
          const text = await textOf(page, `rfm-cell-${cell.r}-${cell.f}`);
          assert.equal(text.split(/\D/)[0], digits(i18n.number(cell.customers)), `cell R${cell.r} F${cell.f}: ${text}`);
        }
        assert.ok(view.saved.length > 0, 'the demo saves segments');
        for (const saved of view.saved) {
          assert.equal(await textOf(page, `saved-size-${saved.name}`), i18n.number(saved.size));
          const csv = await context.request.get(
            new URL(`/api/v1/dashboard/segments/${encodeURIComponent(saved.name)}/members.csv`, demo.url).href,
          );
          assert.equal(csv.status(), 200);
          assert.equal((await csv.text()).trim().split('\n').length - 1, saved.size, `${saved.name}: CSV rows`);
        }
        const download = page.waitForEvent('download');
        await page
          .getByRole('button', { name: i18n.t('exportCsv') })
          .first()
          .click();
        assert.match((await download).suggestedFilename(), /\.csv$/);
        const champions = view.rfm.groups.find((g) => g.group === 'Champions')!;
        assert.equal(await textOf(page, 'rfm-group-Champions'), i18n.number(champions.customers));
        await shoot(page, `${lang}-laptop-segments`);
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-segments`);
        await page.close();
      });

      test('Predictions shows the API’s model figures', async () => {
        interface PredictionsJson {
          available: boolean;
          customers: number;
          meanPAlive: number | null;
        }
        const report = await api<PredictionsJson>('/dashboard/predictions');
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await open(page, lang, 'predictions');
        await settle(page);
        assert.ok(report.available, 'the demo data is enough to fit the models');
        assert.equal(await textOf(page, 'kpi-model-customers-value'), i18n.number(report.customers));
        if (report.meanPAlive === null) {
          assert.equal(await textOf(page, 'kpi-mean-palive-value'), '—');
          await page.locator('#palive-not-informative').waitFor();
          assert.equal((await page.locator('.chart canvas').count()) >= 2, true, 'CLV and hold-out charts drawn');
        } else {
          assert.equal(await textOf(page, 'kpi-mean-palive-value'), i18n.percent(report.meanPAlive));
          assert.equal((await page.locator('.chart canvas').count()) >= 3, true, 'three charts drawn');
        }
        await shoot(page, `${lang}-laptop-predictions`);
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-predictions`);
        await page.close();
      });

      test('Loyalty is as of the data’s last day, lists the API’s dormant members and fits a 1280-px laptop', async () => {
        await withLoyaltyProgram();
        const report = await api<{ asOfDay: string; members: number }>('/loyalty');
        const dormant = await api<{
          asOfDay: string;
          total: number;
          members: Array<{ customerId: number; daysInactive: number }>;
        }>('/loyalty/dormant');
        assert.equal(report.asOfDay, '2011-12-09', 'the demo data ends on 9 December 2011');
        assert.equal(dormant.asOfDay, report.asOfDay);
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await page.setViewportSize(SMALL_LAPTOP);
        await open(page, lang, 'loyalty');
        await settle(page);
        const lead = (await page.locator('.page-head p').first().textContent()) ?? '';
        assert.ok(lead.includes(i18n.date(Date.parse(report.asOfDay))), `the lead names the as-of day: ${lead}`);
        const first = page.locator('.card.wide tbody tr').first().locator('td');
        assert.equal(
          ((await first.nth(1).textContent()) ?? '').trim(),
          i18n.number(dormant.members[0]?.daysInactive ?? -1),
        );
        // The demo has more dormant members than the 50 listed: the page says how many there are in all.
        assert.equal(dormant.members.length, 50);
        assert.ok(dormant.total > 50, `${dormant.total} dormant members`);
        assert.equal(
          await textOf(page, 'dormant-count'),
          i18n.t('loyDormantShown', { shown: i18n.number(50), total: i18n.number(dormant.total) }),
        );
        const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
        assert.ok(width <= SMALL_LAPTOP.width, `the page is ${width}px wide on a ${SMALL_LAPTOP.width}px screen`);
        // The dormant table's last column ("next reward") is on screen, not scrolled out of its card.
        const scroller = "document.querySelector('.card.wide .table-scroll')";
        const inner = Number(await page.evaluate(`${scroller}.scrollWidth`));
        const outer = Number(await page.evaluate(`${scroller}.clientWidth`));
        assert.ok(inner <= outer, `the dormant table is ${inner}px wide in a ${outer}px card`);
        await shoot(page, `${lang}-laptop-loyalty`);
        await page.setViewportSize(PHONE);
        await settle(page);
        await shoot(page, `${lang}-phone-loyalty`);
        await page.close();
      });
    });
  }

  test('follows the browser’s language without ?lang, and the phone menu opens', async () => {
    const korean = await browser.newContext({ viewport: PHONE, locale: 'ko-KR' });
    await korean.addCookies(await context.cookies());
    const page = await korean.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL('/#/overview', demo.url).href);
    await settle(page);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByTestId('nav-cohorts').waitFor({ state: 'visible' });
    assert.equal((await page.getByTestId('nav-cohorts').textContent())?.trim(), '코호트');
    await shoot(page, 'ko-phone-menu');
    await korean.close();
  });

  for (const lang of LANGS) {
    test(`Customers (${lang}): store ids and net revenue in the list, "1 customer", a search with no match says so`, async () => {
      const i18n = makeI18n(lang);
      interface Row {
        id: number;
        storeId: string | null;
        revenue: Array<{ currency: string; revenue: number }>;
      }
      const list = await api<{ total: number; customers: Row[] }>('/customers?limit=25&offset=0');
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await open(page, lang, 'customers');
      await settle(page);
      for (const c of list.customers.slice(0, 5)) {
        // The store's id and revenue from the customer's own profile (another query than the list's).
        const profile = await api<{
          identities: Array<{ source: string; externalId: string }>;
          revenue: Array<{ currency: string; revenue: number }>;
        }>(`/customers/${c.id}`);
        const cells = (await page.getByTestId(`customer-row-${c.id}`).locator('td').allTextContents()).map((x) =>
          x.trim(),
        );
        assert.equal(cells[1], profile.identities.find((i) => i.source === 'online-retail')?.externalId);
        const revenue = profile.revenue[0];
        assert.equal(cells[4], revenue ? i18n.money(revenue.revenue, revenue.currency) : '—', `customer ${c.id}`);
        assert.doesNotMatch(cells[0]!, /#\d/, 'a customer is named, not numbered');
      }
      const storeId = list.customers[0]!.storeId!;
      await page.getByLabel(i18n.t('search')).fill(storeId);
      await page.getByLabel(i18n.t('search')).press('Enter');
      await page.waitForURL(/q=/);
      await settle(page);
      assert.equal(await textOf(page, 'customers-total'), lang === 'en' ? '1 customer' : '고객 1명');
      await page.getByLabel(i18n.t('search')).fill('nobody-by-this-name');
      await page.getByLabel(i18n.t('search')).press('Enter');
      await page.waitForURL(/nobody/);
      await settle(page);
      const empty = page.getByTestId('empty');
      assert.equal(
        (await empty.locator('.empty-title').textContent())?.trim(),
        lang === 'en' ? 'No customer matches “nobody-by-this-name”' : '“nobody-by-this-name”에 맞는 고객이 없습니다',
      );
      assert.doesNotMatch((await empty.textContent()) ?? '', new RegExp(i18n.t('noData')));
      await page.close();
    });
  }

  test('the timeline names the order #1001, labels gross and net as the orders table does, in local time with the zone', async () => {
    const posted = await context.request.post(new URL('/api/v1/orders', demo.url).href, {
      data: {
        externalId: '5550001001',
        name: '#1001',
        placedAt: '2011-12-09T12:50:00+01:00',
        currency: 'GBP',
        status: 'partially_refunded',
        totalMinor: 32924,
        refundedMinor: 6084,
        customer: { externalId: 'timeline-1', email: 'timeline@example.com', firstName: 'Tia', lastName: 'Line' },
        lines: [{ sku: 'T-1', title: 'Lamp', quantity: 1, unitPriceMinor: 32924 }],
      },
    });
    assert.ok(posted.ok(), await posted.text());
    const found = await api<{ customers: Array<{ id: number }> }>('/customers?limit=5&offset=0&q=timeline@example.com');
    const id = found.customers[0]!.id;
    for (const lang of LANGS) {
      const i18n = makeI18n(lang);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await open(page, lang, `customers/${id}`);
      await settle(page);
      const entry = page.locator('.timeline-item', { hasText: '#1001' });
      await entry.waitFor();
      const text = ((await entry.textContent()) ?? '').replace(/\s+/g, ' ');
      // £329.24 placed, £60.84 refunded: £268.40 net. 11:50 UTC on a clock one hour east is 12:50.
      const gross = lang === 'en' ? 'gross £329.24' : '결제 금액 £329.24';
      const net = lang === 'en' ? 'net £268.40' : '환불 후 £268.40';
      assert.ok(text.includes('#1001'), text);
      assert.ok(!text.includes('5550001001'), `Shopify's id is not shown: ${text}`);
      assert.ok(text.includes(gross) && text.includes(net), text);
      assert.match((await entry.locator('time').textContent()) ?? '', /12:50 UTC\+01:00$/);
      // The orders table says its amount is the net one, and shows the same name.
      const header = await page.locator('th').allTextContents();
      assert.ok(header.includes(i18n.t('netTotal')), header.join('|'));
      const row = page.locator('tr', { hasText: '#1001' });
      assert.ok(((await row.textContent()) ?? '').includes('£268.40'));
      await page.close();
    }
  });

  test('the CLV histogram bins read as round money', async () => {
    const report = await api<{ currency: string; clv: Array<{ from: number; to: number; count: number }> }>(
      '/dashboard/predictions',
    );
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await open(page, 'en', 'predictions');
    await settle(page);
    const text = ((await page.getByTestId('clv-bins').textContent()) ?? '').trim();
    const ranges = text.split('; ').map((part) => part.split(':')[0]!);
    assert.equal(ranges.length, report.clv.length);
    for (const range of ranges) {
      // Every edge is a whole number of pounds (or of thousands): no "£671.6".
      for (const edge of range.split('–')) assert.match(edge, /^£(\d+|\d+(\.\d+)?[kKM])$/, `${range} in ${text}`);
    }
    assert.equal(ranges[0]!.split('–')[0], '£0');
    await page.close();
  });

  test('on a phone a wide table shows that it scrolls, and the shadow moves as it does', async () => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.setViewportSize(PHONE);
    await open(page, 'en', 'segments');
    await settle(page);
    const hints = page.getByTestId('scroll-hint');
    assert.ok((await hints.count()) >= 1, 'a wide table says it scrolls');
    await hints.first().waitFor({ state: 'visible' });
    assert.equal((await hints.first().textContent())?.trim(), 'Scroll sideways to see every column →');
    const wrap = page.locator('.table-scroll-wrap.overflows').first();
    assert.match((await wrap.getAttribute('class')) ?? '', /shadow-end/);
    assert.doesNotMatch((await wrap.getAttribute('class')) ?? '', /shadow-start/);
    await wrap.locator('.table-scroll').evaluate((element) => {
      const box = element as unknown as { scrollLeft: number; scrollWidth: number };
      box.scrollLeft = box.scrollWidth;
    });
    await page.waitForTimeout(200);
    assert.match((await wrap.getAttribute('class')) ?? '', /shadow-start/);
    assert.doesNotMatch((await wrap.getAttribute('class')) ?? '', /shadow-end/);
    await page.setViewportSize(LAPTOP);
    await open(page, 'en', 'overview');
    await settle(page);
    assert.equal(await page.getByTestId('scroll-hint').count(), 0, 'no hint where nothing is cut off');
    await page.close();
  });

  test('a pasted read key is traded for a session cookie: nothing in sessionStorage, sign-out ends it', async () => {
    const created = await context.request.post(new URL('/api/v1/keys', demo.url).href, {
      data: { scope: 'read', name: 'browser test' },
    });
    assert.equal(created.status(), 201, await created.text());
    const { key } = (await created.json()) as { key: string };
    const fresh = await browser.newContext({ viewport: LAPTOP, locale: 'en-GB' });
    const page = await fresh.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL('/?lang=en#/predictions', demo.url).href);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await settle(page);
    await page.getByTestId('kpi-model-customers-value').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0, 'the page keeps no key');
    const cookies = await fresh.cookies();
    assert.deepEqual(
      cookies.map((c) => [c.name, c.httpOnly]),
      [['comeback_session', true]],
    );
    const who = await fresh.request.get(new URL('/api/v1/session', demo.url).href);
    assert.deepEqual(await who.json(), { kind: 'session', scope: 'read', name: 'browser test', viaKey: true });
    const copy = `comeback_session=${cookies[0]!.value}`;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    // A copy of the cookie taken before sign-out no longer works: the session ended on the server.
    const replay = await fresh.request.get(new URL('/api/v1/stats', demo.url).href, { headers: { cookie: copy } });
    assert.equal(replay.status(), 401);
    await fresh.close();
  });

  test('a fresh load logs no error in the console before sign-in', async () => {
    const fresh = await browser.newContext({ viewport: LAPTOP, locale: 'en-GB' });
    const page = await fresh.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(new URL('/?lang=en#/overview', demo.url).href);
    await page.getByLabel('Password').waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(errors, []);
    await fresh.close();
  });

  test('no script errors on any page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
