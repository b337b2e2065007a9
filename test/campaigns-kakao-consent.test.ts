import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FlowDefinition,
  kakaoSender,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  unsubscribeByToken,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { applyPreferences } from '../src/hosted/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk as enterAtRiskEvents } from './campaign-fixtures.js';
import { startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

// KakaoTalk consent: the preference centre's KakaoTalk switch (a `kakao` consent row) governs KakaoTalk;
// the SMS row stands in only for a customer with no KakaoTalk row; a KakaoTalk unsubscribe withdraws KakaoTalk.

const seoul = (local: string) => Date.parse(`${local}+09:00`);
const DAY = 86_400_000;
const SECRET = 'kakao-consent-secret';

/** The loopback SMS/KakaoTalk gateway (`failNext` answers 503 with Retry-After). */
const startGateway = () => startJsonGateway({ idPrefix: 'g' });

async function customer(db: Db, id: number, at: number): Promise<void> {
  await addCustomer(db, id, at - 800 * DAY, {
    email: `k${id}@example.kr`,
    phone: `+82102222000${id}`,
    first_name: '누리',
    last_name: '박',
    country: 'KR',
  });
}

/** A `segment_entered` at_risk event only, one per instant (a customer can enter again). */
const enterAtRisk = (db: Db, id: number, at: number) =>
  enterAtRiskEvents(db, [id], at, () => `lifecycle:${id}:at_risk:${at}`, true);

const flow = validateFlow({
  key: 'kr-kakao-ad',
  name: '카카오 광고',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  holdoutShare: 0,
  reentry: { type: 'after', days: 1 },
  steps: [{ id: 'ad', type: 'send', channels: ['kakao'], template: 'kr-kakao', purpose: 'marketing' }],
});

const ALL_TOPICS = { offers: true, new_products: true, rewards: true, surveys: true };

for (const dialect of DIALECTS) {
  describe(`KakaoTalk reads its own consent (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let gw: Awaited<ReturnType<typeof startGateway>>;
    let clock = 0;
    const tick = (now: number) => {
      clock = now;
      return workerTick(t.store.db, {
        now: () => clock,
        random: () => 0.5,
        linkSecret: SECRET,
        senders: {
          kakao: kakaoSender({
            provider: 'generic',
            url: `${gw.url}/kakao`,
            senderKey: 'k',
            apiKey: 'k',
            now: () => clock,
          }),
        },
      });
    };
    const rows = () =>
      campaignDb(t.store.db)
        .selectFrom('outbox')
        .select(['customer_id', 'status', 'reason'])
        .orderBy('customer_id')
        .orderBy('id')
        .execute();
    // Noon in Seoul: the night rule is not in play.
    const NOON = seoul('2026-06-01T12:00:00');

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
        kakao: { provider: 'generic', url: `${gw.url}/kakao`, senderKey: 'k', fallbackNumber: '' },
        korea: { contact: '02-123-4567' },
      });
      for (const id of [1, 2, 3]) await customer(db, id, NOON);
      const at = { source: 'preference_centre', now: NOON - 10 * DAY };
      const later = { source: 'preference_centre', now: NOON - 5 * DAY };
      // 1: SMS yes, KakaoTalk switched on and then off again on the preference centre.
      await applyPreferences(
        db,
        1,
        { type: 'save', channels: { email: false, sms: true, kakao: true }, topics: ALL_TOPICS },
        at,
      );
      await applyPreferences(
        db,
        1,
        { type: 'save', channels: { email: false, sms: true, kakao: false }, topics: ALL_TOPICS },
        later,
      );
      // 2: only the KakaoTalk switch on. 3: only SMS (no KakaoTalk row: SMS stands in).
      await applyPreferences(
        db,
        2,
        { type: 'save', channels: { email: false, sms: false, kakao: true }, topics: ALL_TOPICS },
        at,
      );
      await applyPreferences(
        db,
        3,
        { type: 'save', channels: { email: false, sms: true, kakao: false }, topics: ALL_TOPICS },
        at,
      );
      await saveTemplate(
        db,
        { key: 'kr-kakao', channel: 'kakao', purpose: 'marketing', body: '여름 세일 {{ links.unsubscribe }}' },
        at.now,
      );
      assert.ok(flow.ok);
      await saveFlow(db, (flow as { flow: FlowDefinition }).flow, at.now);
      await setFlowEnabled(db, 'kr-kakao-ad', true, at.now);
    });

    after(async () => {
      await gw.close();
      await t.drop();
    });

    test('the KakaoTalk switch off stops KakaoTalk though SMS is on; on alone sends; no KakaoTalk row falls back to SMS', async () => {
      const db = t.store.db;
      for (const id of [1, 2, 3]) await enterAtRisk(db, id, NOON);
      const summary = await tick(NOON);
      assert.equal(summary.delivered.sent, 2);
      assert.deepEqual(
        (await rows()).map((r) => [r.customer_id, r.status, r.reason]),
        [
          [1, 'skipped', 'no_consent:kakao:kr_no_opt_in'],
          [2, 'sent', null],
          [3, 'sent', null],
        ],
      );
      assert.deepEqual(
        gw.received.map((r) => r.to),
        ['01022220002', '01022220003'],
      );
    });

    test('unsubscribing from a KakaoTalk message withdraws KakaoTalk (SMS stays), and the next KakaoTalk advert is skipped', async () => {
      const db = t.store.db;
      const text = String(gw.received[1]!.text);
      const token = /https:\/\/daon\.example\/m\/u\/(\S+)/.exec(text)?.[1];
      assert.ok(token, text);
      const result = await unsubscribeByToken(db, SECRET, token, NOON + 60_000);
      assert.deepEqual(result, { ok: true, customerId: 3, channel: 'kakao', alreadyDone: false });
      const consents = await db
        .selectFrom('customer_consents')
        .select(['channel', 'granted'])
        .where('customer_id', '=', 3)
        .orderBy('channel')
        .execute();
      assert.deepEqual(
        consents.map((c) => [c.channel, c.granted]),
        [
          ['kakao', 0],
          ['sms', 1],
        ],
      );
      // The number is suppressed for KakaoTalk only.
      const suppressions = await campaignDb(db)
        .selectFrom('suppressions')
        .select(['channel', 'reason'])
        .where('address', '=', '+821022220003')
        .execute();
      assert.deepEqual(suppressions, [{ channel: 'kakao', reason: 'unsubscribe' }]);
      const again = NOON + 2 * DAY;
      await enterAtRisk(db, 3, again);
      const summary = await tick(again);
      assert.equal(summary.delivered.sent, 0);
      assert.deepEqual((await rows()).at(-1), {
        customer_id: 3,
        status: 'skipped',
        reason: 'suppressed:unsubscribe',
      });
      assert.equal(gw.received.length, 2);
    });
  });
}
