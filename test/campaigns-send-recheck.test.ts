import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type FlowDefinition,
  httpSender,
  kakaoSender,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { suppress } from '../src/campaigns/outbox.queries.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { applyPreferences } from '../src/hosted/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk as enterAtRiskEvents } from './campaign-fixtures.js';
import { startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

// The policy runs again just before a claimed marketing row is handed to a provider: a suppression or the
// Korean night since it was queued stop or defer it (withdrawn consent and a pause skip the queued rows at
// once, when they are recorded); transactional rows go as they are.

const seoul = (local: string) => Date.parse(`${local}+09:00`);
const DAY = 86_400_000;
const HOUR = 3_600_000;
const SECRET = 'recheck-secret';

/** The loopback SMS/KakaoTalk gateway (`failNext` answers 503 with Retry-After). */
const startGateway = () => startJsonGateway({ idPrefix: 'g' });

async function customer(db: Db, id: number, phone: string, at: number): Promise<void> {
  await addCustomer(db, id, at - 800 * DAY, {
    email: `r${id}@example.kr`,
    phone,
    first_name: '하늘',
    last_name: '김',
    country: 'KR',
  });
  await db
    .insertInto('customer_consents')
    .values({ customer_id: id, channel: 'sms', granted: 1, updated_at: at - 300 * DAY, source: 'test' })
    .execute();
}

/** The at_risk lifecycle change: its event (one per customer) and its customer_segments row. */
const enterAtRisk = (db: Db, id: number, at: number) =>
  enterAtRiskEvents(db, [id], at, () => `lifecycle:${id}:at_risk`);

const flow = validateFlow({
  key: 'kr-sms-ad',
  name: '문자 광고',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  holdoutShare: 0,
  steps: [{ id: 'ad', type: 'send', channels: ['sms'], template: 'kr-sms', purpose: 'marketing' }],
});

for (const dialect of DIALECTS) {
  describe(`the policy again just before sending (${dialect.name})`, { skip: dialect.skip }, () => {
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
          sms: httpSender({ url: `${gw.url}/sms`, now: () => clock }),
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
    const rowOf = (id: number) =>
      campaignDb(t.store.db)
        .selectFrom('outbox')
        .select(['status', 'reason', 'send_after', 'send_by', 'attempts', 'purpose'])
        .where('customer_id', '=', id)
        .where('purpose', '=', 'marketing')
        .executeTakeFirstOrThrow()
        .then((r) => ({ ...r, send_after: Number(r.send_after), send_by: Number(r.send_by) }));
    const T22 = seoul('2026-06-01T22:00:00');

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
        korea: { contact: '02-123-4567', optOutNumber: '080-123-4567' },
      });
      // Each has SMS ad consent and no night consent: 1 unsubscribes, 3 pauses, 2 meets a provider retry.
      for (const id of [1, 2, 3]) await customer(db, id, `+82101111000${id}`, T22);
      await saveTemplate(
        db,
        { key: 'kr-sms', channel: 'sms', purpose: 'marketing', body: '봄 세일 {{ links.unsubscribe }}' },
        T22 - DAY,
      );
      assert.ok(flow.ok);
      await saveFlow(db, (flow as { flow: FlowDefinition }).flow, T22 - DAY);
      await setFlowEnabled(db, 'kr-sms-ad', true, T22 - DAY);
    });

    after(async () => {
      await gw.close();
      await t.drop();
    });

    test('queued at 22:00 and deferred to 08:00; withdrawn at 23:00 (unsubscribe, pause): skipped at once with the reason, nothing sent', async () => {
      const db = t.store.db;
      await enterAtRisk(db, 1, T22);
      await enterAtRisk(db, 3, T22);
      const queued = await tick(T22);
      assert.equal(queued.advanced.deferred, 2);
      assert.equal(queued.delivered.claimed, 0);
      const morning = seoul('2026-06-02T08:00:00');
      assert.deepEqual(
        [(await rowOf(1)).status, (await rowOf(1)).reason, (await rowOf(1)).send_after],
        ['pending', 'kr_night_no_consent', morning],
      );
      const at23 = seoul('2026-06-01T23:00:00');
      await applyPreferences(db, 1, { type: 'unsubscribe_all' }, { source: 'preference_centre', now: at23 });
      await applyPreferences(db, 3, { type: 'pause' }, { source: 'preference_centre', now: at23 });

      // A transactional message to the customer who withdrew, at night, is not the policy's to stop.
      const cdb = campaignDb(db);
      const journey = await cdb
        .selectFrom('journeys')
        .select(['id', 'flow_id'])
        .where('customer_id', '=', 1)
        .executeTakeFirstOrThrow();
      const at2330 = seoul('2026-06-01T23:30:00');
      await cdb
        .insertInto('outbox')
        .values({
          journey_id: journey.id,
          flow_id: journey.flow_id,
          step_id: 'receipt',
          customer_id: 1,
          arm: 'treatment',
          channel: 'sms',
          purpose: 'transactional',
          template_key: 'kr-sms',
          template_version: 1,
          to_address: '+821011110001',
          status: 'pending',
          reason: null,
          payload: JSON.stringify({ from: '0212345678', text: '주문이 발송되었습니다' }),
          coupon_code: null,
          attempts: 0,
          claim_token: null,
          lease_until: null,
          send_after: at2330,
          send_by: at2330 + HOUR,
          message_id: '<receipt-1@comeback>',
          provider_id: null,
          last_error: null,
          created_at: at2330,
          sent_at: null,
        })
        .execute();
      const night = await tick(at2330);
      assert.deepEqual([night.delivered.claimed, night.delivered.sent, night.delivered.skipped], [1, 1, 0]);
      assert.deepEqual(
        gw.received.map((r) => [r.to, r.text]),
        [['+821011110001', '주문이 발송되었습니다']],
      );

      // Withdrawn at 23:00 (unsubscribe, pause): both rows were skipped then, in the same transaction, so at
      // 08:00 nothing is left to claim and no advertisement reaches the gateway.
      for (const [id, reason] of [
        [1, 'no_consent:sms'],
        [3, 'paused'],
      ] as const) {
        const row = await rowOf(id);
        assert.deepEqual([row.status, row.reason, row.attempts], ['skipped', reason, 0], `customer ${id}`);
      }
      const done = await tick(morning);
      assert.deepEqual([done.delivered.claimed, done.delivered.sent], [0, 0]);
      assert.equal(gw.received.length, 1, 'no advertisement reached the gateway');
      // Skips are where they were always recorded: the report counts them by reason.
      const skips = await cdb
        .selectFrom('outbox')
        .select(['reason', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'skipped')
        .groupBy('reason')
        .orderBy('reason')
        .execute();
      assert.deepEqual(
        skips.map((s) => [s.reason, Number(s.n)]),
        [
          ['no_consent:sms', 1],
          ['paused', 1],
        ],
      );
    });

    test('an SMS queued at 20:58 Seoul whose provider asks for a retry is not sent at 21:05: it waits for 08:00, the attempt not counted', async () => {
      const db = t.store.db;
      const at2058 = seoul('2026-06-02T20:58:00');
      gw.failNext.count = 1;
      gw.failNext.retryAfterSeconds = 300;
      await enterAtRisk(db, 2, at2058);
      const first = await tick(at2058);
      assert.deepEqual([first.delivered.claimed, first.delivered.retried], [1, 1]);
      assert.equal(gw.received.length, 2);
      // Retry-After 300 s: due again at 21:03.
      const retry = await rowOf(2);
      assert.deepEqual(
        [retry.status, retry.send_after, retry.attempts, retry.send_by],
        ['pending', seoul('2026-06-02T21:03:00'), 1, seoul('2026-06-03T20:58:00')],
      );
      const at2105 = seoul('2026-06-02T21:05:00');
      const late = await tick(at2105);
      assert.deepEqual([late.delivered.claimed, late.delivered.sent, late.delivered.deferred], [1, 0, 1]);
      assert.equal(gw.received.length, 2, 'nothing reached the gateway at 21:05');
      const waiting = await rowOf(2);
      // Send-by: the 08:00 end of the night plus the store's 24 sending hours, later than the old 20:58.
      assert.deepEqual(
        [waiting.status, waiting.reason, waiting.send_after, waiting.attempts, waiting.send_by],
        ['pending', 'kr_night_no_consent', seoul('2026-06-03T08:00:00'), 1, seoul('2026-06-04T08:00:00')],
      );
      assert.equal((await tick(seoul('2026-06-03T07:59:59'))).delivered.claimed, 0);
      const sent = await tick(seoul('2026-06-03T08:00:00'));
      assert.equal(sent.delivered.sent, 1);
      assert.equal(gw.received.length, 3);
      assert.equal(gw.received[2]!.to, '+821011110002');
      assert.match(String(gw.received[2]!.text), /^\(광고\) 다온상회\n봄 세일 https:\/\/daon.example\/m\/u\//);
      const row = await rowOf(2);
      assert.deepEqual([row.status, row.attempts], ['sent', 2]);
    });
  });
}

const london = (local: string) => Date.parse(`${local}+01:00`);

const EMAIL = `<mjml><mj-body><mj-section><mj-column>
<mj-text>We miss you. <a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

const ukFlow = validateFlow({
  key: 'uk-win-back',
  name: 'Win back',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  holdoutShare: 0,
  steps: [{ id: 'mail', type: 'send', channels: ['email'], template: 'uk-mail', purpose: 'marketing' }],
});

for (const dialect of DIALECTS) {
  describe(`quiet hours and suppressions again just before sending, e-mail through a real SMTP server (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let email: ReturnType<typeof smtpSender>;
    let clock = 0;
    const tick = (now: number, withSender: boolean) => {
      clock = now;
      return workerTick(t.store.db, {
        now: () => clock,
        random: () => 0.5,
        linkSecret: SECRET,
        senders: withSender ? { email } : {},
      });
    };
    const rowOf = (id: number) =>
      campaignDb(t.store.db)
        .selectFrom('outbox')
        .select(['status', 'reason', 'send_after', 'attempts'])
        .where('customer_id', '=', id)
        .executeTakeFirstOrThrow()
        .then((r) => [r.status, r.reason, Number(r.send_after), r.attempts]);
    const Q = london('2026-06-01T20:50:00');

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: 'Corner Shop',
        timeZone: 'Europe/London',
        publicUrl: 'https://corner.example',
        quietHours: { start: '21:00', end: '08:00' },
        cap: null,
      });
      for (const id of [11, 12]) {
        await db
          .insertInto('customers')
          .values({
            id,
            source: 'test',
            email: `c${id}@example.com`,
            phone: null,
            country: 'GB',
            first_seen_at: Q - 400 * DAY,
            created_at: Q - 400 * DAY,
          })
          .execute();
        await db
          .insertInto('customer_consents')
          .values({ customer_id: id, channel: 'email', granted: 1, updated_at: Q - 300 * DAY, source: 'test' })
          .execute();
      }
      await saveTemplate(
        db,
        { key: 'uk-mail', channel: 'email', purpose: 'marketing', subject: 'We miss you', body: EMAIL },
        Q - DAY,
      );
      assert.ok(ukFlow.ok);
      await saveFlow(db, (ukFlow as { flow: FlowDefinition }).flow, Q - DAY);
      await setFlowEnabled(db, 'uk-win-back', true, Q - DAY);
    });

    after(async () => {
      email.close?.();
      await sink.close();
      await t.drop();
    });

    test('queued at 20:50, delivered only at 21:30: one waits for 08:00 (quiet_hours), the one complained about since is skipped', async () => {
      const db = t.store.db;
      await enterAtRisk(db, 11, Q);
      await enterAtRisk(db, 12, Q);
      // No e-mail sender yet: the rows stay queued, due at 20:50.
      const queued = await tick(Q, false);
      assert.equal(queued.advanced.queued, 2);
      assert.deepEqual(await rowOf(11), ['pending', null, Q, 0]);
      await suppress(
        campaignDb(db),
        'email',
        'c12@example.com',
        'complaint',
        'provider',
        london('2026-06-01T20:55:00'),
      );
      const late = await tick(london('2026-06-01T21:30:00'), true);
      assert.deepEqual(
        [late.delivered.claimed, late.delivered.sent, late.delivered.deferred, late.delivered.skipped],
        [2, 0, 1, 1],
      );
      assert.equal(sink.received.length, 0);
      const morning = london('2026-06-02T08:00:00');
      assert.deepEqual(await rowOf(11), ['pending', 'quiet_hours', morning, 0]);
      assert.deepEqual(await rowOf(12), ['skipped', 'suppressed:complaint', Q, 1]);
      assert.equal((await tick(morning - 1, true)).delivered.claimed, 0);
      const sent = await tick(morning, true);
      assert.equal(sent.delivered.sent, 1);
      assert.deepEqual(
        sink.received.map((m) => m.envelopeTo),
        [['c11@example.com']],
      );
      assert.deepEqual(await rowOf(11), ['sent', 'quiet_hours', morning, 1]);
    });
  });
}
