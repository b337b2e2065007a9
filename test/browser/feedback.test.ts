import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import type { ApiApp } from '../../src/api/app.types.js';
import { buildApp } from '../../src/api/build-app.js';
import { createApiKey, messageLinkSecret, upsertAdminUser } from '../../src/api/keys.queries.js';
import {
  BUILTIN_SURVEYS,
  feedbackDb,
  importFeedbackCsv,
  issueSurveyLink,
  saveSurvey,
} from '../../src/feedback/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { addOrder, addProduct } from '../loyalty-fixtures.js';

/**
 * The customer's pages in Chromium on a phone-sized screen, against a real server on loopback with a
 * real SQLite file: an NPS survey is answered from its signed link and shows on the customer's timeline
 * in the dashboard; the preference centre unsubscribes from everything and the consent ledger shows it.
 */

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const hasChromium = existsSync(CHROMIUM);
const hasDashboard = existsSync(join(ROOT, 'web', 'dist', 'index.html'));
const skip =
  hasChromium || process.env.CI
    ? hasDashboard || process.env.CI
      ? false
      : 'web/dist is not built (npm run build:web)'
    : `${CHROMIUM} not found (apt-get install chromium)`;
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

describe('customer pages in Chromium on a phone', { skip }, () => {
  let dir: string;
  let store: Store;
  let app: ApiApp;
  let url: string;
  let browser: Browser;
  let customer: number;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'comeback-feedback-'));
    store = await openStore(`sqlite:${join(dir, 'test.db')}`);
    const now = Date.now();
    const row = await store.db
      .insertInto('customers')
      .values({
        source: 'test',
        email: 'mina@example.com',
        first_name: 'Mina',
        first_seen_at: now - 86_400_000,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    customer = row.id;
    await store.db
      .insertInto('customer_consents')
      .values({ customer_id: customer, channel: 'email', granted: 1, updated_at: now - 86_400_000, source: 'import' })
      .execute();
    await upsertAdminUser(store.db, { username: 'admin', password: 'correct horse battery', now });
    app = await buildApp({ store, rateLimit: false });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  /** A laptop-sized browser signed in as the admin. */
  async function signedIn(): Promise<BrowserContext> {
    const admin = await browser.newContext({ viewport: LAPTOP, locale: 'en-GB' });
    const signIn = await admin.request.post(new URL('/api/v1/session', url).href, {
      data: { username: 'admin', password: 'correct horse battery' },
    });
    assert.equal(signIn.status(), 200, await signIn.text());
    return admin;
  }

  after(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(pageErrors, []);
  });

  test('before any feedback, the Feedback page says how feedback arrives, not to import orders', async () => {
    const admin = await signedIn();
    const page = await admin.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const empty = async (lang: 'en' | 'ko') => {
      await page.goto(new URL(`/?lang=${lang}#/feedback`, url).href);
      await page.getByTestId('kpi-nps').waitFor({ timeout: 30_000 });
      const texts = await page.getByTestId('empty').allTextContents();
      return { first: texts[0], hints: texts.filter((text) => text.includes('comeback')).length };
    };
    assert.deepEqual(await empty('en'), {
      first:
        'No feedback yetFeedback arrives when customers answer survey and review links: sent by a flow (links.csat, links.review in a message) or made with POST /api/v1/survey-links. Answers collected elsewhere come in with `comeback feedback import FILE`.',
      hints: 1,
    });
    const ko = await empty('ko');
    assert.match(
      ko.first ?? '',
      /^아직 고객 의견이 없습니다고객이 설문·리뷰 링크에 응답하면 채워집니다\..*`comeback feedback import FILE`/,
    );
    assert.equal(ko.hints, 1);
    await admin.close();
  });

  test('an NPS survey answered on a phone appears on the customer’s timeline', async () => {
    const link = await issueSurveyLink(store.db, await messageLinkSecret(store.db), {
      surveyKey: 'nps',
      customerId: customer,
      now: Date.now(),
    });
    const context = await browser.newContext({ viewport: PHONE, locale: 'ko-KR', isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL(`/s/${link.token}`, url).href);
    assert.equal(await page.locator('h1').textContent(), '저희 서비스는 어떠셨나요?');
    const box = await page.locator('main').boundingBox();
    assert.ok(
      box && box.x >= 0 && box.x + box.width <= PHONE.width,
      `the page fits the phone (${JSON.stringify(box)})`,
    );
    // The 0–10 scale: tap 9 (a promoter), then write a comment and send.
    await page.locator('label', { hasText: /^9$/ }).tap();
    await page.locator('textarea[name="comment"]').fill('배송이 빨라요');
    await page.screenshot({ path: join(SHOTS, 'ko-phone-survey.png'), fullPage: true });
    await page.getByRole('button', { name: '보내기' }).tap();
    await page.getByText('소중한 의견 감사합니다').waitFor({ timeout: 10_000 });
    // The same link again: already answered.
    const again = await page.goto(new URL(`/s/${link.token}`, url).href);
    assert.equal(again?.status(), 409);
    await context.close();

    const admin = await browser.newContext({ viewport: PHONE, locale: 'en-GB' });
    const signIn = await admin.request.post(new URL('/api/v1/session', url).href, {
      data: { username: 'admin', password: 'correct horse battery' },
    });
    assert.equal(signIn.status(), 200, await signIn.text());
    const dashboard = await admin.newPage();
    dashboard.on('pageerror', (error) => pageErrors.push(error.message));
    await dashboard.goto(new URL(`/?lang=en#/customers/${customer}`, url).href);
    await dashboard.locator('.timeline').getByText('Survey Answered').waitFor({ timeout: 30_000 });
    await dashboard.screenshot({ path: join(SHOTS, 'en-phone-timeline-survey.png'), fullPage: true });
    // An exit answer and the customer's one order of last week: the reason shows beside a churn the
    // history is too short to tell (a whole active window of sales is needed before the month).
    await addOrder(store.db, { customerId: customer, placedAt: Date.now() - 7 * 86_400_000, subtotalMinor: 1500 });
    const answeredAt = new Date(Date.now() - 3_600_000).toISOString();
    await importFeedbackCsv(
      store.db,
      `survey,customer,answered_at,reason\nexit,${customer},${answeredAt},too_expensive\n`,
      {
        file: 'exit.csv',
        now: Date.now(),
      },
    );
    // The Feedback page in Korean: one promoter is an NPS of 100.0 with a wide interval, said as such.
    await dashboard.goto(new URL('/?lang=ko#/feedback', url).href);
    await dashboard.getByTestId('kpi-nps-value').waitFor({ timeout: 30_000 });
    assert.equal((await dashboard.getByTestId('kpi-nps-value').textContent())?.trim(), '100.0');
    assert.equal(await dashboard.locator('h1').first().textContent(), '고객 의견');
    assert.match((await dashboard.getByTestId('nps-note').textContent()) ?? '', /응답 수가 적어/);
    assert.match((await dashboard.getByTestId('comments').textContent()) ?? '', /배송이 빨라요/);
    const churnByMonth = (await dashboard.getByTestId('exit-churn-byMonth').textContent()) ?? '';
    assert.match(churnByMonth, /가격 부담 1/);
    // The answer is dated now, after the store's orders end: its month's churn cannot be seen.
    assert.match(churnByMonth, /알 수 없음\(주문 데이터 이후\)/);
    assert.doesNotMatch(churnByMonth, /구매 이력이 짧음/);
    // Why, in Korean too (the server's note is English).
    const churnNote = (await dashboard.getByTestId('exit-churn-note-byMonth').textContent()) ?? '';
    assert.match(churnNote, /주문 데이터가 \S.*에 끝나므로 그 이후의 이탈은 알 수 없습니다/);
    assert.doesNotMatch(churnNote, /orders end|이탈률을 표시하지 않습니다/);
    // The stages end with the orders too: the answer is left out of them, and the page says so.
    const stageNote = (await dashboard.getByTestId('exit-churn-note-bySegment').textContent()) ?? '';
    assert.match(stageNote, /이탈 설문 응답 1건은 단계를 알 수 없어/);
    await dashboard.getByText('고객 단계별 이탈 이유와 이탈률').waitFor();
    await dashboard.screenshot({ path: join(SHOTS, 'ko-phone-feedback.png'), fullPage: true });
    // No loyalty program in this store: the Loyalty page says so instead of showing zeros.
    await dashboard.goto(new URL('/?lang=en#/loyalty', url).href);
    await dashboard.getByText('No loyalty program yet').waitFor({ timeout: 30_000 });
    await admin.close();
  });

  test('the preference centre unsubscribes from everything and the consent ledger shows it', async () => {
    const key = (await createApiKey(store.db, { scope: 'admin', now: Date.now() })).key;
    const headers = { authorization: `Bearer ${key}` };
    const context = await browser.newContext({ viewport: PHONE, locale: 'en-GB', isMobile: true, hasTouch: true });
    const made = await context.request.post(new URL('/api/v1/customer-links', url).href, {
      headers,
      data: { customerId: customer, page: 'preferences' },
    });
    assert.equal(made.status(), 200, await made.text());
    const { path } = (await made.json()) as { path: string };
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(new URL(path, url).href);
    assert.equal(await page.locator('input[name="channel_email"]').isChecked(), true);
    await page.getByRole('button', { name: 'Unsubscribe from everything' }).tap();
    await page.getByText('You are unsubscribed from all marketing messages.').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('input[name="channel_email"]').isChecked(), false);
    await page.screenshot({ path: join(SHOTS, 'en-phone-preferences.png'), fullPage: true });
    await context.close();
    const ledger = await fetch(new URL(`/api/v1/customers/${customer}/consent-ledger`, url), { headers });
    const { changes } = (await ledger.json()) as {
      changes: Array<{ subject: string; granted: boolean; source: string }>;
    };
    assert.deepEqual(
      changes.map((c) => [c.subject, c.granted, c.source]),
      // E-mail was a yes; SMS and KakaoTalk were never answered, and "everything" stores a "no" on them too.
      [
        ['email', false, 'preference_centre'],
        ['sms', false, 'preference_centre'],
        ['kakao', false, 'preference_centre'],
      ],
    );
  });

  test('the Feedback page names the surveys in English and Korean, a store’s own survey by its key', async () => {
    const now = Date.now();
    const csat = BUILTIN_SURVEYS.find((s) => s.key === 'csat');
    const saved = await saveSurvey(store.db, { ...csat, key: 'delivery_check' }, now);
    assert.ok(saved.ok, JSON.stringify(saved));
    const secret = await messageLinkSecret(store.db);
    for (const surveyKey of ['nps', 'cart', 'csat', 'exit', 'delivery_check']) {
      await issueSurveyLink(store.db, secret, { surveyKey, customerId: customer, now });
    }
    const admin = await signedIn();
    const page = await admin.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const surveys = async (lang: 'en' | 'ko') => {
      await page.goto(new URL(`/?lang=${lang}#/feedback`, url).href);
      const table = page.getByTestId('response-rates');
      await table.waitFor({ timeout: 30_000 });
      return table.locator('tbody tr td:first-child').allTextContents();
    };
    assert.deepEqual(await surveys('en'), [
      'Abandoned cart',
      'Satisfaction (CSAT)',
      'delivery_check',
      'Exit survey',
      'NPS',
    ]);
    assert.deepEqual(await surveys('ko'), [
      '장바구니 이탈',
      '만족도(CSAT)',
      'delivery_check',
      '이탈 설문',
      '순추천지수(NPS)',
    ]);
    await admin.close();
  });

  test('the Feedback page says why carts were left, in English and Korean', async () => {
    const at = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    await importFeedbackCsv(
      store.db,
      [
        'survey,customer,answered_at,reason',
        `cart,${customer},${at(3)},shipping_cost`,
        `cart,${customer},${at(2)},shipping_cost`,
        `cart,${customer},${at(1)},price`,
      ].join('\n'),
      { file: 'cart.csv', now: Date.now() },
    );
    const admin = await signedIn();
    const page = await admin.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const cart = async (lang: 'en' | 'ko') => {
      await page.goto(new URL(`/?lang=${lang}#/feedback`, url).href);
      const table = page.getByTestId('cart-reasons');
      await table.waitFor({ timeout: 30_000 });
      const card = page.locator('.card', { has: table });
      return {
        title: ((await card.locator('h2').first().textContent()) ?? '').trim(),
        rows: await Promise.all(
          (await table.locator('tbody tr').all()).map(async (row) =>
            (await row.locator('td').allTextContents()).join(' | '),
          ),
        ),
      };
    };
    assert.deepEqual(await cart('en'), {
      title: 'Why carts were left',
      rows: ['Shipping cost or time | 2', 'Price | 1'],
    });
    assert.deepEqual(await cart('ko'), {
      title: '장바구니에 담고 구매하지 않은 이유',
      rows: ['배송비나 배송 기간 | 2', '가격 | 1'],
    });
    await admin.close();
  });

  test('one CSAT answer and one review are “1 answer” and “1 review” on the Feedback page', async () => {
    const now = Date.now();
    await importFeedbackCsv(
      store.db,
      `survey,customer,answered_at,score\ncsat,${customer},${new Date(now - 3_600_000).toISOString()},5\n`,
      { file: 'csat.csv', now },
    );
    const product = {
      id: await addProduct(store.db, { sku: 'MUG-1', title: 'Mug', priceMinor: 1250, currency: 'GBP', at: now }),
    };
    const order = await addOrder(store.db, { customerId: customer, placedAt: now - 86_400_000, subtotalMinor: 1250 });
    await feedbackDb(store.db)
      .insertInto('product_reviews')
      .values({
        customer_id: customer,
        product_id: product.id,
        order_id: order,
        rating: 4,
        body: 'Nice',
        created_at: now,
      })
      .execute();
    const admin = await signedIn();
    const page = await admin.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const hints = async (lang: 'en' | 'ko') => {
      await page.goto(new URL(`/?lang=${lang}#/feedback`, url).href);
      await page.getByTestId('kpi-csat').waitFor({ timeout: 30_000 });
      const hint = async (id: string) =>
        ((await page.getByTestId(id).locator('.kpi-change').textContent()) ?? '').replace('■', '').trim();
      return [await hint('kpi-csat'), await hint('kpi-reviews')];
    };
    assert.deepEqual(await hints('en'), ['1 answer, mean 5.00 of 5', '1 review, average 4.00 of 5']);
    assert.deepEqual(await hints('ko'), ['응답 1건, 평균 5.00점(5점 만점)', '리뷰 1건, 평균 4.00점(5점 만점)']);
    await admin.close();
  });
});
