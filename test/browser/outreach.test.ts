import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import {
  advanceJourneys,
  enrolNewEntrants,
  saveFlow,
  setFlowEnabled,
  validateFlow,
} from '../../src/campaigns/index.js';
import type { OutreachTask } from '../../src/campaigns/outreach.queries.js';
import { openStore } from '../../src/store/index.js';
import { makeI18n } from '../../web/src/i18n.js';
import { addCustomer } from '../campaign-fixtures.js';
import { addOrder } from '../segments-fixtures.js';
import { chromiumSkip } from './chromium.js';
import type { Demo } from './demo-helper.js';
import { SHOTS, type SignedInDemo, startSignedInDemo } from './signed-in-demo.js';

/**
 * The staff outreach queue in the Flows workspace (`#/flows/outreach`), in Chromium against
 * `comeback demo`, with a flow of our own seeded into the demo's SQLite file: flow "sorry-test" fires on
 * `Complained` and has one outreach step (note "apologise and call"), no hold-out. Customer BASE+1 (Ann
 * Lee) has two paid orders, £20.00 twenty days ago and £35.50 ten days ago; customer BASE+2 (e-mail only)
 * has none. BASE+2 complains two minutes ago, BASE+1 one minute ago, so BASE+2's task is the oldest. By
 * hand: Ann has 2 orders, £55.50 spent, last order £35.50.
 */

const PHONE = { width: 390, height: 844 };
const BASE = 9_300_000;
const DAY = 86_400_000;
const NOTE = 'Called her: refunded the late parcel.\nWill order again.';

async function seed(file: string): Promise<void> {
  const store = await openStore(`sqlite:${file}`);
  const now = Date.now();
  try {
    const db = store.db;
    await addCustomer(db, BASE + 1, now - 30 * DAY, {
      source: 'outreach-test',
      email: 'ann.lee@example.com',
      first_name: 'Ann',
      last_name: 'Lee',
    });
    await addCustomer(db, BASE + 2, now - 30 * DAY, { source: 'outreach-test', email: 'bo@example.com' });
    await addOrder(db, BASE + 1, { at: now - 20 * DAY, totalMinor: 2000 });
    await addOrder(db, BASE + 1, { at: now - 10 * DAY, totalMinor: 3550 });
    const flow = validateFlow({
      key: 'sorry-test',
      name: 'Sorry (test)',
      trigger: { type: 'event', events: ['Complained'] },
      holdoutShare: 0,
      steps: [{ id: 'call', type: 'outreach', note: 'apologise and call' }],
    });
    if (!flow.ok) throw new Error(JSON.stringify(flow.problems));
    await saveFlow(db, flow.flow, now - 3_600_000);
    await setFlowEnabled(db, 'sorry-test', true, now - 3_600_000);
    await db
      .insertInto('events')
      .values(
        [1, 2].map((i) => ({
          message_id: `outreach-test-complaint-${i}`,
          type: 'track',
          event: 'Complained',
          customer_id: BASE + i,
          anonymous_id: null,
          session_id: null,
          properties: '{}',
          occurred_at: now - 60_000 * i,
          received_at: now - 60_000 * i,
        })),
      )
      .execute();
    await enrolNewEntrants(db, now);
    await advanceJourneys(db, { now, linkSecret: 'outreach-test' });
  } finally {
    await store.close();
  }
}

/** A task as `GET /api/v1/outreach` answers it. */
type Task = OutreachTask;

describe('the staff outreach queue in Chromium', { skip: chromiumSkip }, () => {
  let session: SignedInDemo;
  let demo: Demo;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  before(async () => {
    session = await startSignedInDemo('outreach', seed);
    ({ demo, context } = session);
  });

  after(async () => {
    await session?.close();
    assert.deepEqual(pageErrors, []);
  });

  async function ours(status: 'open' | 'done' | 'all'): Promise<Task[]> {
    const response = await context.request.get(new URL(`/api/v1/outreach?status=${status}`, demo.url).href);
    assert.equal(response.status(), 200, await response.text());
    return ((await response.json()) as { tasks: Task[] }).tasks.filter((t) => t.flow.key === 'sorry-test');
  }

  async function open(lang: 'en' | 'ko', viewport?: typeof PHONE): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    if (viewport) await page.setViewportSize(viewport);
    await page.goto(new URL(`/?lang=${lang}#/flows/outreach`, demo.url).href);
    await page.getByTestId('outreach-list').waitFor({ timeout: 30_000 });
    return page;
  }

  test('lists the open tasks oldest first, marks one done with a note, and the API has it', async () => {
    const tasks = await ours('open');
    assert.deepEqual(
      tasks.map((t) => t.customer.id),
      [BASE + 2, BASE + 1],
    );
    const [bo, ann] = tasks as [Task, Task];
    const page = await open('en', PHONE);
    assert.equal(await page.locator('h1').first().textContent(), 'Outreach');
    assert.equal(await page.getByTestId('flows-tab-outreach').getAttribute('aria-current'), 'page');
    // Oldest first in the page too: Bo's card comes before Ann's.
    const items = page.locator('[data-testid="outreach-list"] > li');
    const order: Array<string | null> = [];
    for (let i = 0; i < (await items.count()); i++) order.push(await items.nth(i).getAttribute('data-customer'));
    assert.ok(order.indexOf(String(BASE + 2)) < order.indexOf(String(BASE + 1)), order.join(','));

    const card = page.getByTestId(`outreach-task-${ann.id}`);
    assert.equal(await card.getByTestId('outreach-customer').textContent(), 'Ann Lee');
    assert.equal(await card.getByTestId('outreach-customer').getAttribute('href'), `#/customers/${BASE + 1}`);
    assert.equal(await card.getByTestId('outreach-why').textContent(), 'apologise and call');
    assert.equal(await card.getByTestId('outreach-flow').textContent(), 'Sorry (test) · call');
    assert.equal(await card.getByTestId('outreach-orders').textContent(), '2');
    assert.equal(await card.getByTestId('outreach-spent').textContent(), '£55.50');
    assert.match((await card.getByTestId('outreach-last-order').textContent()) ?? '', / · £35\.50$/);
    assert.equal(await card.getByTestId('outreach-clv').textContent(), 'no prediction yet');
    const boCard = page.getByTestId(`outreach-task-${bo.id}`);
    assert.equal(await boCard.getByTestId('outreach-customer').textContent(), 'bo@example.com');
    assert.equal(await boCard.getByTestId('outreach-orders').textContent(), '0');
    assert.equal(await boCard.getByTestId('outreach-last-order').textContent(), 'none');
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await page.screenshot({ path: join(SHOTS, 'en-phone-outreach.png'), fullPage: true });

    await card.getByTestId('outreach-mark-done').click();
    await card.getByTestId('outreach-note').fill(NOTE);
    await card.getByTestId('outreach-save').click();
    // The open list reloads without Ann's task; Bo's stays.
    await card.waitFor({ state: 'detached', timeout: 20_000 });
    await boCard.waitFor({ timeout: 20_000 });

    const done = (await ours('done')).find((t) => t.id === ann.id);
    assert.ok(done?.done, 'the API lists the task as done');
    assert.equal(done.done.note, NOTE.trim());
    assert.equal(done.done.by, demo.user);
    assert.deepEqual(
      (await ours('open')).map((t) => t.id),
      [bo.id],
    );

    // The done filter shows who, when and the note.
    await page.getByTestId('outreach-filter-done').click();
    const doneCard = page.getByTestId(`outreach-task-${ann.id}`);
    await doneCard.getByTestId('outreach-done').waitFor({ timeout: 20_000 });
    assert.equal(await doneCard.getByTestId('outreach-done-note').textContent(), NOTE.trim());
    assert.ok(((await doneCard.getByTestId('outreach-done').textContent()) ?? '').includes(`Done by ${demo.user}`));
    assert.equal(await doneCard.getByTestId('outreach-mark-done').count(), 0);
    assert.equal(await page.getByTestId(`outreach-task-${bo.id}`).count(), 0);

    // The customer's name opens their 360 page.
    await doneCard.getByTestId('outreach-customer').click();
    await page.locator('h1', { hasText: 'Ann Lee' }).waitFor({ timeout: 20_000 });
    assert.equal(new URL(page.url()).hash, `#/customers/${BASE + 1}`);
    await page.close();
  });

  test('the tab and the queue read in Korean', async () => {
    assert.equal(makeI18n('ko').t('outreachTab'), '직접 연락');
    const page = await open('ko', PHONE);
    assert.equal(await page.getByTestId('flows-tab-outreach').textContent(), '직접 연락');
    assert.equal(await page.locator('h1').first().textContent(), '직접 연락');
    assert.equal(await page.getByTestId('outreach-filter-open').textContent(), '할 일');
    assert.ok(((await page.getByTestId('outreach-mark-done').first().textContent()) ?? '') === '완료 처리');
    await page.screenshot({ path: join(SHOTS, 'ko-phone-outreach.png'), fullPage: true });
    await page.close();
  });
});
