import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { saveTemplate } from '../../src/campaigns/index.js';
import { parseRule, saveSegment } from '../../src/segments/index.js';
import { openStore } from '../../src/store/index.js';
import { makeI18n } from '../../web/src/i18n.js';
import { chromiumSkip } from './chromium.js';
import type { Demo } from './demo-helper.js';
import { SHOTS, type SignedInDemo, startSignedInDemo } from './signed-in-demo.js';

/**
 * The flow editor, campaign composer and template previews in Chromium against `comeback demo`, with
 * five customers of our own seeded into the demo's SQLite file: the preview escapes a name that is
 * HTML, an invalid flow edit shows the field and saves nothing, and a campaign composed in the page is
 * listed with the customers it entered.
 */

const PHONE = { width: 390, height: 844 };
const BASE = 9_200_000;
const NAME = '<img src=x onerror=alert(1)>Ann';
// In the page, on failure: the outermost elements that stick out on the right.
const WIDEST = `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.parentElement?.closest('.table-scroll')).slice(0, 5).map((e) => e.tagName + '.' + e.className).join(' ')`;

/**
 * Customers BASE+1…BASE+5, source `composer-test`: 1 (named NAME) and 2 consent to e-mail, 3 refused,
 * 4 has no consent row, 5 has no e-mail address. By hand: 5 members, 2 reachable, 2 without consent, 1
 * without an address.
 */
async function seed(file: string): Promise<void> {
  const store = await openStore(`sqlite:${file}`);
  const now = Date.now();
  try {
    const db = store.db;
    for (let i = 1; i <= 5; i++) {
      await db
        .insertInto('customers')
        .values({
          id: BASE + i,
          source: 'composer-test',
          email: i === 5 ? null : `composer${i}@example.com`,
          first_name: i === 1 ? NAME : `C${i}`,
          first_seen_at: now - 86_400_000,
          created_at: now - 86_400_000,
        })
        .execute();
    }
    for (const [i, granted] of [
      [1, 1],
      [2, 1],
      [3, 0],
    ] as const) {
      await db
        .insertInto('customer_consents')
        .values({ customer_id: BASE + i, channel: 'email', granted, updated_at: now - 3_600_000, source: 'test' })
        .execute();
    }
    await saveTemplate(
      db,
      {
        key: 'composer-hello',
        channel: 'email',
        purpose: 'marketing',
        subject: 'Hi {{ customer.first_name }}',
        body: `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ customer.first_name }}</mj-text>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`,
      },
      now,
    );
    await saveSegment(db, 'composer-test', parseRule({ field: 'source', op: 'eq', value: 'composer-test' }), {
      asOf: now,
      now,
    });
  } finally {
    await store.close();
  }
}

describe('flow editor, campaign composer and template preview in Chromium', { skip: chromiumSkip }, () => {
  let session: SignedInDemo;
  let demo: Demo;
  let browser: Browser;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  before(async () => {
    session = await startSignedInDemo('compose', seed);
    ({ demo, browser, context } = session);
  });

  after(async () => {
    await session?.close();
    assert.deepEqual(pageErrors, []);
  });

  const api = <T>(path: string) => session.api<T>(path);

  async function open(lang: 'en' | 'ko', tab: string, ready: string, viewport?: typeof PHONE): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      pageErrors.push(`a dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    if (viewport) await page.setViewportSize(viewport);
    await page.goto(new URL(`/?lang=${lang}#/flows/${tab}`, demo.url).href);
    await page.getByTestId(ready).waitFor({ timeout: 30_000 });
    return page;
  }

  async function fitsTheScreen(page: Page): Promise<void> {
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    const wide = overflow > 0 ? await page.evaluate(WIDEST) : '';
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen: ${wide}`);
  }

  test('a preview renders the template for a customer, the name escaped, in English and in Korean', async () => {
    for (const [lang, viewport] of [
      ['en', undefined],
      ['ko', PHONE],
    ] as const) {
      const i18n = makeI18n(lang);
      const page = await open(lang, 'templates', 'preview-template', viewport);
      assert.equal(await page.locator('h1').first().textContent(), i18n.t('composeTabTemplates'));
      await page.getByTestId('preview-template').selectOption('composer-hello');
      await page.getByTestId('preview-customer').fill(String(BASE + 1));
      await page.getByTestId('preview-run').click();
      await page.getByTestId('preview-result').waitFor({ timeout: 20_000 });
      // The subject is text: the name shows as typed, never as markup.
      assert.equal(await page.getByTestId('preview-subject').textContent(), `Hi ${NAME}`);
      assert.equal(await page.getByTestId('preview-for').locator('img').count(), 0);
      assert.ok(((await page.getByTestId('preview-for').textContent()) ?? '').includes(NAME));
      // The HTML escapes it: the frame shows the text and holds no <img>; the frame runs no script.
      const frame = page.getByTestId('preview-html');
      assert.equal(await frame.getAttribute('sandbox'), '');
      assert.ok(((await frame.getAttribute('srcdoc')) ?? '').includes('Hello &lt;img src=x onerror=alert(1)&gt;Ann'));
      const inside = page.frameLocator('[data-testid="preview-html"]');
      await inside.getByText(`Hello ${NAME}`).waitFor({ timeout: 20_000 });
      assert.equal(await inside.locator('img').count(), 0);
      assert.match(
        (await page.getByTestId('preview-text').textContent()) ?? '',
        /Hello <img src=x onerror=alert\(1\)>Ann/,
      );
      if (viewport) await fitsTheScreen(page);
      await page.screenshot({
        path: join(SHOTS, `${lang}-${viewport ? 'phone' : 'laptop'}-template-preview.png`),
        fullPage: true,
      });

      // An unknown customer: the server's refusal names the field.
      await page.getByTestId('preview-customer').fill('nobody@example.com');
      await page.getByTestId('preview-run').click();
      await page.getByTestId('preview-error').waitFor({ timeout: 20_000 });
      assert.equal(
        await page.getByTestId('preview-error-field').textContent(),
        i18n.t('errorField', { field: 'customer' }),
      );
      await page.close();
    }
  });

  test('an invalid flow edit shows the field next to the editor and saves nothing; a valid one saves a version', async () => {
    const before = await api<{ version: number; definition: { name: string } }>('/flows/welcome');
    const page = await open('en', 'edit', 'flow-edit-choose', PHONE);
    await page.getByTestId('flow-edit-choose').selectOption('welcome');
    await page.locator('[data-testid="flow-editor"][data-flow="welcome"]').waitFor({ timeout: 20_000 });
    assert.ok(((await page.getByTestId('flow-doc-step-wait').textContent()) ?? '').includes('Wait 2 h'));
    const json = page.getByTestId('flow-json');
    const text = (await json.inputValue()) ?? '';
    assert.ok(text.includes('"next": "welcome"'), text);
    await json.fill(text.replace('"next": "welcome"', '"next": "nowhere"'));
    await page.getByTestId('flow-save').click();
    await page.getByTestId('flow-edit-error').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('flow-edit-error-field').textContent(), 'Field: steps.0.next');
    assert.match((await page.getByTestId('flow-edit-error').textContent()) ?? '', /nowhere/);
    assert.equal(await json.getAttribute('aria-invalid'), 'true');
    assert.equal((await api<{ version: number }>('/flows/welcome')).version, before.version, 'nothing was saved');
    await fitsTheScreen(page);
    await page.screenshot({ path: join(SHOTS, 'en-phone-flow-editor-error.png'), fullPage: true });

    await json.fill(text.replace(`"name": "${before.definition.name}"`, '"name": "Welcome, edited in the page"'));
    await page.getByTestId('flow-save').click();
    await page.getByTestId('flow-edit-notice').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('flow-edit-notice').textContent(), `Saved as version ${before.version + 1}.`);
    const after = await api<{ version: number; name: string }>('/flows/welcome');
    assert.deepEqual([after.version, after.name], [before.version + 1, 'Welcome, edited in the page']);
    await page.close();
  });

  test('a campaign composed in the page shows its audience, then appears in the list with it', async () => {
    const i18n = makeI18n('en');
    const page = await open('en', 'campaigns', 'campaign-composer');
    await page.getByTestId('compose-key').fill('composer-june');
    await page.getByTestId('compose-name').fill('June hello');
    await page.getByTestId('compose-segment').selectOption('composer-test');
    await page.getByTestId('compose-templateA').selectOption('composer-hello');
    await page.getByTestId('compose-preview-templateA').click();
    await page.getByTestId('preview-run').click();
    await page.getByTestId('preview-subject').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByTestId('preview-subject').textContent(), 'Hi Alex');
    await page.getByTestId('compose-holdout').fill('0');
    await page.getByTestId('compose-check').click();
    await page.getByTestId('compose-audience').waitFor({ timeout: 30_000 });
    const figure = async (id: string) =>
      ((await page.getByTestId(`compose-audience-${id}`).textContent()) ?? '').trim();
    assert.deepEqual(
      [
        await figure('members'),
        await figure('reachable'),
        await figure('no-consent'),
        await figure('suppressed'),
        await figure('no-address'),
        await figure('held-out'),
      ],
      ['5', '2', '2', '0', '1', '0'],
    );
    assert.equal(await page.getByTestId('compose-send').textContent(), i18n.t('composeConfirm', { n: '5' }));
    await page.getByTestId('compose-send').click();
    await page.getByTestId('compose-done').waitFor({ timeout: 30_000 });
    const row = page.getByTestId('campaign-composer-june');
    await row.waitFor({ timeout: 20_000 });
    assert.equal(((await row.locator('[data-col="entered"]').textContent()) ?? '').trim(), '5');
    assert.equal(((await row.locator('[data-col="held-out"]').textContent()) ?? '').trim(), '0');
    const listed = await api<{ campaigns: { key: string; entered: number; name: string }[] }>('/campaigns/sends');
    assert.deepEqual(
      listed.campaigns.filter((c) => c.key === 'composer-june').map((c) => [c.name, c.entered]),
      [['June hello', 5]],
    );
    await page.screenshot({ path: join(SHOTS, 'en-laptop-campaign-composer.png'), fullPage: true });
    await page.close();

    const ko = makeI18n('ko');
    const phone = await open('ko', 'campaigns', 'campaigns-table', PHONE);
    assert.equal(await phone.locator('h1').first().textContent(), ko.t('composeTabCampaigns'));
    // Waits for the page to render it (isVisible alone does not wait, and under load it was read too early).
    await phone.getByText(ko.t('composeTitle')).waitFor({ state: 'visible' });
    await fitsTheScreen(phone);
    await phone.screenshot({ path: join(SHOTS, 'ko-phone-campaigns.png'), fullPage: true });
    await phone.close();
  });

  test('a scheduled campaign sends at the date and time typed, in the browser’s own zone (Seoul here)', async () => {
    const seoul = await browser.newContext({ viewport: PHONE, locale: 'ko-KR', timezoneId: 'Asia/Seoul' });
    try {
      const signIn = await seoul.request.post(new URL('/api/v1/session', demo.url).href, {
        data: { username: demo.user, password: demo.password },
      });
      assert.equal(signIn.status(), 200);
      const page = await seoul.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(new URL('/?lang=ko#/flows/campaigns', demo.url).href);
      await page.getByTestId('campaign-composer').waitFor({ timeout: 30_000 });
      await page.getByTestId('compose-key').fill('composer-later');
      await page.getByTestId('compose-segment').selectOption('composer-test');
      await page.getByTestId('compose-templateA').selectOption('composer-hello');
      await page.getByTestId('compose-later').check();
      // 09:30 on 15 January 2030 in Seoul (UTC+9, no daylight saving) is 00:30 UTC.
      await page.getByTestId('compose-at').fill('2030-01-15T09:30');
      await page.getByTestId('compose-check').click();
      await page.getByTestId('compose-audience').waitFor({ timeout: 30_000 });
      assert.equal(
        await page.getByTestId('compose-send').textContent(),
        makeI18n('ko').t('composeConfirmLater', { n: '5' }),
      );
      await page.getByTestId('compose-send').click();
      await page.getByTestId('compose-done').waitFor({ timeout: 30_000 });
      await fitsTheScreen(page);
      const listed = await api<{ campaigns: { key: string; entered: number; sendAt: number | null }[] }>(
        '/campaigns/sends',
      );
      assert.deepEqual(
        listed.campaigns.filter((c) => c.key === 'composer-later').map((c) => [c.entered, c.sendAt]),
        [[5, Date.UTC(2030, 0, 15, 0, 30)]],
      );
      const cell = page.getByTestId('campaign-composer-later').locator('[data-col="send-at"]');
      assert.match((await cell.textContent()) ?? '', /UTC\+09:00/);
    } finally {
      await seoul.close();
    }
  });
});
