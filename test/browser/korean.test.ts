import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeI18n } from '../../web/src/i18n.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { type Demo, ROOT, startDemo, stopDemo } from './demo-helper.js';

/**
 * Every dashboard page in Korean, signed in, in a real browser: the visible text (and the titles,
 * labels and placeholders a reader meets) must hold no English. Data the store typed itself (product
 * names, customer names, e-mails, ids) sits in elements marked `translate="no"` and is not read; codes
 * a Korean reader sees as they are (currency codes, NPS, RFM …) are allowed by name.
 *
 * It runs over the Korean demo store (`comeback demo --store kr`) and over the bundled demo data;
 * `COMEBACK_BROWSER_STORE=kr` (or `retail`) runs one of them.
 */

/** The Korean demo store (`demo --store kr`) and the bundled demo data; or the one the variable names. */
const STORES: ReadonlyArray<string | undefined> = process.env.COMEBACK_BROWSER_STORE
  ? [process.env.COMEBACK_BROWSER_STORE]
  : ['kr', undefined];

/** Latin-letter words a Korean page may show as they are: the product's name, codes and abbreviations. */
const ALLOWED = new Set([
  'Comeback',
  'NPS',
  'CSAT',
  'RFM',
  'CLV',
  'AOV',
  'CRR',
  'LTV',
  'BG',
  'NBD',
  'Pareto',
  'Gamma',
  'CSV',
  'JSON',
  'API',
  'SMS',
  'LMS',
  'ID',
  'KakaoTalk',
  'P',
  'R',
  'F',
  'M',
]);
/** ISO 4217 codes (KRW, GBP …) are codes, not English. */
const CURRENCY = /^[A-Z]{3}$/;

/** Collects visible text nodes and reader-facing attributes outside `translate="no"`, as a string script (CSP-safe). */
const COLLECT = `(() => {
  const out = [];
  const hidden = (el) => !el || el.closest('[translate="no"], script, style, noscript, [aria-hidden="true"]') ||
    el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text && !hidden(node.parentElement)) out.push(text);
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], input[type=submit], button[value]')) {
    if (hidden(el)) continue;
    for (const name of ['title', 'aria-label', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out;
})()`;

/** The English words in a piece of text, after removing e-mails, URLs, codes and the store's own names. */
function englishWords(text: string, storeNames: readonly string[]): string[] {
  let own = text;
  for (const name of storeNames) own = own.replaceAll(name, ' ');
  const stripped = own
    .replace(/\S+@\S+/g, ' ')
    // Percentage points are written %p in Korean.
    .replace(/%p\b/g, '%')
    .replace(/https?:\/\/\S+/g, ' ')
    // Codes that mix letters and digits (order ids, coupon codes, SKUs): not words.
    .replace(/\b[\w-]*\d[\w-]*\b/g, ' ');
  const words = stripped.match(/[A-Za-z][A-Za-z'’]*/g) ?? [];
  return words.filter((w) => !ALLOWED.has(w) && !CURRENCY.test(w));
}

for (const STORE of STORES) {
  const DEMO_ARGS = STORE ? ['--store', STORE] : [];
  describe(`the dashboard in Korean has no English left (${STORE ? `demo --store ${STORE}` : 'demo data'})`, {
    skip: chromiumSkip,
  }, () => {
    let dir: string;
    let demo: Demo;
    let browser: Browser;
    let context: BrowserContext;
    const ko = makeI18n('ko');
    const pageErrors: string[] = [];
    /** Names the store gave its own saved segments: its words, shown as they are (in chart labels, too). */
    let storeNames: string[] = [];

    before(async () => {
      if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
        execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
      }
      dir = mkdtempSync(join(tmpdir(), 'comeback-korean-'));
      demo = await startDemo(join(dir, 'demo.db'), DEMO_ARGS);
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: 'ko-KR' });
    });

    after(async () => {
      await browser?.close();
      if (demo) await stopDemo(demo);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function settle(page: Page): Promise<void> {
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 30_000 });
      await page.waitForTimeout(400);
    }

    /** The English strings on the page as it stands, each with the text it was found in. */
    async function english(page: Page): Promise<string[]> {
      const texts = (await page.evaluate(COLLECT)) as string[];
      const found: string[] = [];
      for (const text of texts) {
        const words = englishWords(text, storeNames);
        if (words.length > 0) found.push(`${words.join(' ')}  ←  "${text.slice(0, 120)}"`);
      }
      return [...new Set(found)];
    }

    /** The page and every tab on it. */
    async function walk(page: Page, name: string, problems: string[]): Promise<void> {
      await settle(page);
      for (const e of await english(page)) problems.push(`${name}: ${e}`);
      const tabs = page.getByRole('tab');
      const count = await tabs.count();
      for (let i = 0; i < count; i++) {
        const tab = tabs.nth(i);
        if (!(await tab.isVisible())) continue;
        const label = ((await tab.textContent()) ?? '').trim();
        await tab.click();
        await settle(page);
        for (const e of await english(page)) problems.push(`${name} › ${label}: ${e}`);
      }
    }

    test('the sign-in page, then every page, signed in', async () => {
      const problems: string[] = [];
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(new URL('/?lang=ko', demo.url).href);
      await page.getByLabel(ko.t('password')).waitFor();
      for (const e of await english(page)) problems.push(`sign-in: ${e}`);
      await page.getByLabel(ko.t('username')).fill(demo.user);
      await page.getByLabel(ko.t('password')).fill(demo.password);
      await page.getByRole('button', { name: ko.t('signIn'), exact: true }).click();
      await page.getByTestId('nav-overview').waitFor();
      const segments = await context.request.get(new URL('/api/v1/dashboard/segments', demo.url).href);
      assert.equal(segments.status(), 200);
      storeNames = ((await segments.json()) as { saved: Array<{ name: string }> }).saved.map((s) => s.name);

      for (const hash of ['overview', 'cohorts', 'customers', 'segments', 'predictions', 'flows']) {
        await page.goto(new URL(`/?lang=ko#/${hash}`, demo.url).href);
        await walk(page, hash, problems);
      }
      // One customer's page: the first in the list.
      const response = await context.request.get(new URL('/api/v1/customers?limit=1', demo.url).href);
      assert.equal(response.status(), 200);
      const list = (await response.json()) as { customers?: Array<{ id: number }>; items?: Array<{ id: number }> };
      const first = (list.customers ?? list.items ?? [])[0];
      assert.ok(first, 'the demo has customers');
      await page.goto(new URL(`/?lang=ko#/customers/${first.id}`, demo.url).href);
      await walk(page, `customer ${first.id}`, problems);
      await page.close();
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(problems, [], `English on the Korean dashboard:\n${problems.join('\n')}`);
    });
  });
}
