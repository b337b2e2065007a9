import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FlowDefinition,
  httpSender,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { applyPreferences } from '../src/hosted/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk as enterAtRiskEvents } from './campaign-fixtures.js';
import { startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

// The Korean 6-month transaction exception (정보통신망법 제50조 제1항 단서) speaks only for a recipient who
// never answered: a recorded "no" on the channel or a preference-centre pause is never overridden (제2항).

const seoul = (local: string) => Date.parse(`${local}+09:00`);
const DAY = 86_400_000;
const SECRET = 'kr-exception-secret';

/** The loopback SMS/KakaoTalk gateway (`failNext` answers 503 with Retry-After). */
const startGateway = () => startJsonGateway({ idPrefix: 'g' });

async function customer(db: Db, id: number, at: number): Promise<void> {
  await addCustomer(db, id, at - 800 * DAY, {
    email: `x${id}@example.kr`,
    phone: `+82103333000${id}`,
    first_name: '가람',
    last_name: '이',
    country: 'KR',
  });
  // A paid order on 2026-04-01 12:00 Seoul: the 6 months run to 2026-10-01 12:00 Seoul.
  await db
    .insertInto('orders')
    .values({
      source: 'test',
      external_id: `x-o-${id}`,
      customer_id: id,
      email: null,
      placed_at: seoul('2026-04-01T12:00:00'),
      placed_offset: 540,
      placed_date: '2026-04-01',
      status: 'paid',
      currency: 'KRW',
      total_minor: 30000,
      subtotal_minor: 30000,
      discount_minor: 0,
      shipping_minor: 0,
      tax_minor: 0,
      refunded_minor: 0,
      discount_codes: '',
      country: 'KR',
      cancelled_at: null,
      imported_at: seoul('2026-04-01T12:00:00'),
    })
    .execute();
}

/** A `segment_entered` at_risk event only, one per instant (a customer can enter again). */
const enterAtRisk = (db: Db, id: number, at: number) =>
  enterAtRiskEvents(db, [id], at, () => `lifecycle:${id}:at_risk:${at}`, true);

const flow = validateFlow({
  key: 'kr-sms-ex',
  name: '문자 광고',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  holdoutShare: 0,
  reentry: { type: 'after', days: 1 },
  steps: [{ id: 'ad', type: 'send', channels: ['sms'], template: 'kr-sms-ex', purpose: 'marketing' }],
});

const TOPICS = { offers: true, new_products: true, rewards: true, surveys: true };
const channels = (email: boolean, sms: boolean) => ({ email, sms, kakao: false });

for (const dialect of DIALECTS) {
  describe(`the transaction exception and explicit opt-outs (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let gw: Awaited<ReturnType<typeof startGateway>>;
    let clock = 0;
    const tick = (now: number) => {
      clock = now;
      return workerTick(t.store.db, {
        now: () => clock,
        random: () => 0.5,
        linkSecret: SECRET,
        senders: { sms: httpSender({ url: `${gw.url}/sms`, now: () => clock }) },
      });
    };
    const last = (id: number) =>
      campaignDb(t.store.db)
        .selectFrom('outbox')
        .select(['status', 'reason'])
        .where('customer_id', '=', id)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
    // Noon in Seoul, two months after the orders: inside the 6 months, outside the night.
    const NOON = seoul('2026-06-01T12:00:00');
    const PAUSED_AT = NOON - DAY;
    // The preference centre pauses for 30 days: paused while now < PAUSED_AT + 30 days.
    const PAUSE_ENDS = PAUSED_AT + 30 * DAY;

    before(async () => {
      t = await freshDatabase(dialect.name);
      gw = await startGateway();
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: '다온상회',
        timeZone: 'Asia/Seoul',
        publicUrl: 'https://daon.example',
        smsSender: '0212345678',
        quietHours: null,
        cap: null,
        korea: { contact: '02-123-4567', transactionException: true },
      });
      for (const id of [1, 2, 3, 4, 5]) await customer(db, id, NOON);
      const src = (now: number) => ({ source: 'preference_centre', now });
      // 1: said yes to SMS, then no: a recorded withdrawal on SMS.
      await applyPreferences(
        db,
        1,
        { type: 'save', channels: channels(false, true), topics: TOPICS },
        src(NOON - 20 * DAY),
      );
      await applyPreferences(
        db,
        1,
        { type: 'save', channels: channels(false, false), topics: TOPICS },
        src(NOON - 10 * DAY),
      );
      // 2 and 4: no consent row, "Pause 30 days" clicked. 3: withdrew e-mail only, nothing recorded for SMS.
      await applyPreferences(db, 2, { type: 'pause' }, src(PAUSED_AT));
      await applyPreferences(db, 4, { type: 'pause' }, src(PAUSED_AT));
      // 5: never answered on any channel, then "Unsubscribe from everything".
      await applyPreferences(db, 5, { type: 'unsubscribe_all' }, src(NOON - 5 * DAY));
      await applyPreferences(
        db,
        3,
        { type: 'save', channels: channels(true, false), topics: TOPICS },
        src(NOON - 20 * DAY),
      );
      await applyPreferences(
        db,
        3,
        { type: 'save', channels: channels(false, false), topics: TOPICS },
        src(NOON - 10 * DAY),
      );
      await saveTemplate(
        db,
        { key: 'kr-sms-ex', channel: 'sms', purpose: 'marketing', body: '가을 신상품 {{ links.unsubscribe }}' },
        NOON - 30 * DAY,
      );
      assert.ok(flow.ok);
      await saveFlow(db, (flow as { flow: FlowDefinition }).flow, NOON - 30 * DAY);
      await setFlowEnabled(db, 'kr-sms-ex', true, NOON - 30 * DAY);
    });

    after(async () => {
      await gw.close();
      await t.drop();
    });

    test('a withdrawn SMS consent and a running pause are skipped; a customer who never answered on SMS gets it', async () => {
      const db = t.store.db;
      for (const id of [1, 2, 3]) await enterAtRisk(db, id, NOON);
      const summary = await tick(NOON);
      assert.equal(summary.delivered.sent, 1);
      assert.deepEqual(await last(1), { status: 'skipped', reason: 'no_consent:sms:kr_opted_out' });
      assert.deepEqual(await last(2), { status: 'skipped', reason: 'no_consent:sms:kr_opted_out' });
      assert.deepEqual(await last(3), { status: 'sent', reason: null });
      assert.deepEqual(
        gw.received.map((r) => r.to),
        ['+821033330003'],
      );
    });

    test('the pause holds until its last millisecond; once it has ended the exception applies again', async () => {
      const db = t.store.db;
      await enterAtRisk(db, 2, PAUSE_ENDS - 1);
      await tick(PAUSE_ENDS - 1);
      assert.deepEqual(await last(2), { status: 'skipped', reason: 'no_consent:sms:kr_opted_out' });
      await enterAtRisk(db, 4, PAUSE_ENDS);
      const summary = await tick(PAUSE_ENDS);
      assert.equal(summary.delivered.sent, 1);
      assert.deepEqual(await last(4), { status: 'sent', reason: null });
      assert.deepEqual(
        gw.received.map((r) => r.to),
        ['+821033330003', '+821033330004'],
      );
    });

    test('"unsubscribe from everything" by a customer who never answered is a "no" on SMS: the exception never sends', async () => {
      const at = NOON + 2 * DAY;
      await enterAtRisk(t.store.db, 5, at);
      await tick(at);
      assert.deepEqual(await last(5), { status: 'skipped', reason: 'no_consent:sms:kr_opted_out' });
      assert.deepEqual(
        gw.received.map((r) => r.to),
        ['+821033330003', '+821033330004'],
        'nothing more sent',
      );
    });
  });
}
