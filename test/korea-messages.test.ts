import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FlowDefinition,
  httpSender,
  kakaoSender,
  reconfirmConsents,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { ComebackError } from '../src/errors.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk } from './campaign-fixtures.js';
import { type JsonGateway, startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

const seoul = (local: string) => Date.parse(`${local}+09:00`);
const DAY = 86_400_000;
const SECRET = 'kr-link-secret';

async function customer(db: Db, id: number, phone: string, country: string, at: number): Promise<void> {
  await addCustomer(db, id, at - 800 * DAY, {
    email: `kr${id}@example.kr`,
    phone,
    first_name: ['하늘', '바다', '누리', '가람', '이슬'][id - 1] ?? null,
    last_name: '김',
    country,
  });
}

async function consent(db: Db, id: number, channel: string, at: number): Promise<void> {
  await db
    .insertInto('customer_consents')
    .values({ customer_id: id, channel, granted: 1, updated_at: at, source: 'test' })
    .execute();
}

const krFlow = validateFlow({
  key: 'kr-win-back',
  name: '다시 찾아 주세요',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  holdoutShare: 0,
  steps: [{ id: 'offer', type: 'send', channels: ['kakao'], template: 'kr-offer', purpose: 'marketing' }],
});

for (const dialect of DIALECTS) {
  describe(`Korean advertising rules end to end, KakaoTalk through a loopback gateway (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let gw: JsonGateway;
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
            senderKey: 'kr-sender',
            apiKey: 'kr-token',
            now: () => clock,
          }),
          sms: httpSender({ url: `${gw.url}/sms`, bearer: 'kr-token', now: () => clock }),
        },
      });
    };
    const T0 = seoul('2026-06-01T21:00:00');

    before(async () => {
      t = await freshDatabase(dialect.name);
      gw = await startJsonGateway({ bearer: 'kr-token', idPrefix: 'g' });
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: '다온상회',
        timeZone: 'Asia/Seoul',
        publicUrl: 'https://daon.example',
        smsSender: '0212345678',
        quietHours: null,
        cap: null,
        kakao: { provider: 'generic', url: `${gw.url}/kakao`, senderKey: 'kr-sender', fallbackNumber: '0212345678' },
        korea: { contact: '02-123-4567', optOutNumber: '080-123-4567' },
      });
      // 1: ad consent, no night consent. 2: both. 3: no consent, an order two months ago. 4: a UK number.
      await customer(db, 1, '+821011110001', 'KR', T0);
      await customer(db, 2, '+821011110002', 'KR', T0);
      await customer(db, 3, '+821011110003', 'KR', T0);
      await consent(db, 1, 'sms', T0 - 300 * DAY);
      await consent(db, 2, 'sms', T0 - 300 * DAY);
      await consent(db, 2, 'ad_night', T0 - 300 * DAY);
      await saveTemplate(
        db,
        {
          key: 'kr-offer',
          channel: 'kakao',
          purpose: 'marketing',
          body: '{{ customer.first_name }}님, 봄 세일이 시작됐어요.',
        },
        T0,
      );
      assert.ok(krFlow.ok);
      if (krFlow.ok) await saveFlow(db, krFlow.flow, T0);
      await setFlowEnabled(db, 'kr-win-back', true, T0);
    });

    after(async () => {
      await gw.close();
      await t.drop();
    });

    test('at 21:00 Seoul: night consent sends now with (광고), sender and 080 opt-out; the others wait or skip, with reasons', async () => {
      const db = t.store.db;
      await enterAtRisk(db, [1, 2, 3], T0, (id) => `lifecycle:${id}:at_risk`);
      const summary = await tick(T0);
      assert.equal(summary.enrolled.entered, 3);
      const rows = await campaignDb(db)
        .selectFrom('outbox')
        .select(['customer_id', 'status', 'reason', 'send_after', 'channel'])
        .orderBy('customer_id')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.customer_id, r.channel, r.status, r.reason, Number(r.send_after)]),
        [
          [1, 'kakao', 'pending', 'kr_night_no_consent', seoul('2026-06-02T08:00:00')],
          [2, 'kakao', 'sent', null, T0],
          [3, 'kakao', 'skipped', 'no_consent:kakao:kr_no_opt_in', T0],
        ],
      );
      assert.equal(gw.received.length, 1);
      const text = '(광고) 다온상회\n바다님, 봄 세일이 시작됐어요.\n문의 02-123-4567\n무료수신거부 080-123-4567';
      // EUC-KR bytes by hand: 광고 다온상회 바다님 봄 세일이 시작됐어요 문의 무료수신거부 = 2+4+3+1+3+5+2+6 = 26
      // Hangul syllables (52 bytes); ASCII "() " "\n" ", " " " " " "." "\n" " 02-123-4567" "\n" " 080-123-4567"
      // = 3+1+2+1+1+1+1+12+1+13 = 36 bytes; 88 in all, within the 90 of an SMS.
      assert.deepEqual(gw.received[0], {
        path: '/kakao',
        message_id: gw.received[0]!.message_id,
        channel: 'kakao',
        kakao_type: 'friendtalk',
        sender_key: 'kr-sender',
        template_code: null,
        variables: {},
        is_ad: true,
        to: '01011110002',
        from: '0212345678',
        text,
        fallback: { type: 'SMS', text },
      });
    });

    test('at 07:59 Seoul it still waits; at 08:00 it goes', async () => {
      let summary = await tick(seoul('2026-06-02T07:59:00'));
      assert.equal(summary.delivered.sent, 0);
      summary = await tick(seoul('2026-06-02T08:00:00'));
      assert.equal(summary.delivered.sent, 1);
      assert.equal(gw.received[1]!.to, '01011110001');
      assert.match(String(gw.received[1]!.text), /^\(광고\) 다온상회\n하늘님, /);
    });

    test('the 6-month transaction exception, when turned on, lets customer 3 (an order 2 months ago) receive it', async () => {
      const db = t.store.db;
      await db
        .insertInto('orders')
        .values({
          source: 'test',
          external_id: 'kr-o-3',
          customer_id: 3,
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
      await saveMessagingSettings(db, { korea: { transactionException: true } });
      await saveFlow(
        db,
        { ...(krFlow.ok ? krFlow.flow : ({} as FlowDefinition)), reentry: { type: 'after', days: 1 } },
        T0,
      );
      await db
        .insertInto('events')
        .values({
          message_id: 'lifecycle:3:at_risk:again',
          type: 'segment_entered',
          event: 'at_risk',
          customer_id: 3,
          anonymous_id: null,
          session_id: null,
          properties: JSON.stringify({ kind: 'lifecycle', from: 'active', to: 'at_risk' }),
          occurred_at: seoul('2026-06-03T12:00:00'),
          received_at: seoul('2026-06-03T12:00:00'),
        })
        .execute();
      const summary = await tick(seoul('2026-06-03T12:00:00'));
      assert.equal(summary.delivered.sent, 1);
      assert.equal(gw.received.at(-1)!.to, '01011110003');
    });

    test('a stored promotional 알림톡 flow is refused when enabled, naming the field', async () => {
      const db = t.store.db;
      const bad = {
        key: 'kr-bad',
        name: '생일 쿠폰',
        trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
        exitWhen: [],
        holdoutShare: 0,
        attributionDays: 5,
        reentry: { type: 'never' },
        steps: [
          {
            id: 'coupon',
            type: 'send',
            channels: ['kakao'],
            template: 'kr-offer',
            purpose: 'marketing',
            kakao: { type: 'alimtalk', templateCode: 'BDAY01' },
          },
        ],
      } as FlowDefinition;
      // As a definition saved before the rule existed: written straight to the tables.
      const cdb = campaignDb(db);
      const row = await cdb
        .insertInto('flows')
        .values({
          key: 'kr-bad',
          name: bad.name,
          kind: 'flow',
          enabled: 0,
          current_version: 1,
          event_cursor: 0,
          order_cursor: 0,
          created_at: T0,
          updated_at: T0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await cdb
        .insertInto('flow_versions')
        .values({ flow_id: row.id, version: 1, definition: JSON.stringify(bad), created_at: T0 })
        .execute();
      await assert.rejects(setFlowEnabled(db, 'kr-bad', true, T0), (error: unknown) => {
        assert.ok(error instanceof ComebackError);
        assert.equal(error.kind, 'bad_input');
        assert.deepEqual(error.location, { field: 'steps.0.kakao.type' });
        return true;
      });
    });

    test('consent is re-confirmed every two years: the job tells whom, once, through the outbox', async () => {
      const db = t.store.db;
      const now = seoul('2026-06-10T10:00:00');
      await customer(db, 5, '+821011110005', 'KR', now);
      // Given 2024-06-10 09:00 Seoul: due 2026-06-10 09:00, an hour before `now`.
      await consent(db, 5, 'sms', seoul('2024-06-10T09:00:00'));
      // Given 2024-06-10 11:00: due an hour after `now`, not yet.
      await consent(db, 5, 'email', seoul('2024-06-10T11:00:00'));
      // A store that has not named itself sends no notice in the name of "Our store".
      await saveMessagingSettings(db, { storeName: 'Our store' });
      await assert.rejects(reconfirmConsents(db, { now, linkSecret: SECRET }), (error: ComebackError) => {
        assert.equal(error.kind, 'bad_input');
        assert.deepEqual(error.location, { field: 'korea.senderName' });
        return true;
      });
      assert.equal((await tick(now)).reconfirmed, 0, 'the worker waits for a name too');
      await saveMessagingSettings(db, { storeName: '다온상회' });
      const told = await reconfirmConsents(db, { now, linkSecret: SECRET });
      assert.deepEqual(
        told.map((n) => [n.customerId, n.channel, n.consentedAt, n.dueAt, n.to, n.status]),
        [[5, 'sms', seoul('2024-06-10T09:00:00'), seoul('2026-06-10T09:00:00'), '+821011110005', 'queued']],
      );
      assert.deepEqual(await reconfirmConsents(db, { now: now + 1000, linkSecret: SECRET }), []);
      const summary = await tick(now + 2000);
      assert.equal(summary.reconfirmed, 0);
      const notice = gw.received.at(-1)!;
      assert.equal(notice.path, '/sms');
      assert.equal(notice.to, '+821011110005');
      assert.match(String(notice.text), /^\[다온상회\] 광고성 정보 수신동의 확인 안내\n/);
      assert.match(String(notice.text), /2024년 6월 10일에 다온상회의 문자·카카오톡 광고성 정보 수신에 동의하셨습니다/);
      assert.match(String(notice.text), /무료수신거부 080-123-4567/);
      const row = await campaignDb(db)
        .selectFrom('outbox')
        .select(['purpose', 'status'])
        .where('id', '=', told[0]!.outboxId!)
        .executeTakeFirstOrThrow();
      assert.deepEqual(row, { purpose: 'transactional', status: 'sent' });
      // The worker's own schedule picks up the e-mail consent once it is due.
      const later = await tick(seoul('2026-06-10T11:00:00'));
      assert.equal(later.reconfirmed, 1);
    });
  });
}
