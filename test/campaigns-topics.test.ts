import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  flowReport,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { applyPreferences } from '../src/hosted/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

// The preference centre's topics are read by every marketing send: a customer who turned "offers" off
// gets no win-back offer (at queueing, and at once when turned off after queueing: the queued rows of the
// topic are skipped in the preference centre's transaction; the send-time check stays as a backstop),
// but still gets a message of another topic, one without a topic, and every transactional message.

const DAY = 86_400_000;
const MINUTE = 60_000;
const SECRET = 'topics-secret';
const T = Date.parse('2026-06-01T10:00:00Z');

const mjml = (words: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>${words} <a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;

/** Four flows on the same at-risk trigger, each one send: the subject names the flow. */
const FLOWS = [
  // No `topic`: a step with an offer belongs to `offers` (the default of `stepTopic`).
  { key: 'wb-offer', step: { purpose: 'marketing', offer: { type: 'percent', percent: 15, validDays: 14 } } },
  { key: 'wb-news', step: { purpose: 'marketing', topic: 'new_products' } },
  { key: 'wb-plain', step: { purpose: 'marketing' } },
  { key: 'wb-receipt', step: { purpose: 'transactional' } },
] as const;

async function customer(db: Db, id: number): Promise<void> {
  await addCustomer(db, id, T - 400 * DAY, { email: `t${id}@example.com`, country: 'GB' });
  await db
    .insertInto('customer_consents')
    .values({ customer_id: id, channel: 'email', granted: 1, updated_at: T - 300 * DAY, source: 'test' })
    .execute();
}

/** The preference centre's "save" with the offers topic off and every channel and other topic on. */
const offersOff = (db: Db, id: number, now: number) =>
  applyPreferences(
    db,
    id,
    {
      type: 'save',
      channels: { email: true, sms: false, kakao: false },
      topics: { offers: false, new_products: true, rewards: true, surveys: true },
    },
    { source: 'preference_centre', now },
  );

for (const dialect of DIALECTS) {
  describe(`preference-centre topics on every marketing send (${dialect.name})`, { skip: dialect.skip }, () => {
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
    /** [flow key, status, reason, topic] of a customer's rows, by flow key. */
    const rowsOf = async (id: number) =>
      (
        await campaignDb(t.store.db)
          .selectFrom('outbox')
          .innerJoin('flows', 'flows.id', 'outbox.flow_id')
          .select(['flows.key', 'outbox.status', 'outbox.reason', 'outbox.topic'])
          .where('outbox.customer_id', '=', id)
          .orderBy('flows.key')
          .execute()
      ).map((r) => [r.key, r.status, r.reason, r.topic]);
    const subjectsTo = (address: string) =>
      sink.received
        .filter((m) => m.envelopeTo.includes(address))
        .map((m) => m.parsed.subject)
        .sort();

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: 'Corner Shop',
        timeZone: 'Europe/London',
        publicUrl: 'https://corner.example',
        quietHours: null,
        cap: null,
      });
      for (const id of [21, 22, 23]) await customer(db, id);
      for (const f of FLOWS) {
        await saveTemplate(
          db,
          {
            key: f.key,
            channel: 'email',
            purpose: f.step.purpose,
            subject: f.key,
            body: mjml(f.key),
          },
          T - DAY,
        );
        const flow = validateFlow({
          key: f.key,
          name: f.key,
          trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
          holdoutShare: 0,
          steps: [{ id: 'send', type: 'send', channels: ['email'], template: f.key, ...f.step }],
        });
        assert.ok(flow.ok, JSON.stringify(flow));
        await saveFlow(db, flow.flow, T - DAY);
        await setFlowEnabled(db, f.key, true, T - DAY);
      }
    });

    after(async () => {
      email.close?.();
      await sink.close();
      await t.drop();
    });

    test('offers turned off on the preference centre: no win-back offer; new products, untopical marketing and transactional still sent', async () => {
      const db = t.store.db;
      await offersOff(db, 21, T - 2 * DAY);
      await enterAtRisk(db, [21, 22], T);
      const run = await tick(T, true);
      // 2 customers × 4 flows; only 21's offer is skipped.
      assert.deepEqual([run.advanced.queued, run.advanced.skipped, run.delivered.sent], [7, 1, 7]);
      assert.deepEqual(await rowsOf(21), [
        ['wb-news', 'sent', null, 'new_products'],
        ['wb-offer', 'skipped', 'topic_opted_out:offers', 'offers'],
        ['wb-plain', 'sent', null, null],
        ['wb-receipt', 'sent', null, null],
      ]);
      assert.deepEqual(subjectsTo('t21@example.com'), ['wb-news', 'wb-plain', 'wb-receipt']);
      assert.deepEqual(subjectsTo('t22@example.com'), ['wb-news', 'wb-offer', 'wb-plain', 'wb-receipt']);
      // No coupon was issued for the skipped offer: one code, customer 22's.
      const coupons = await campaignDb(db).selectFrom('coupons').select('customer_id').execute();
      assert.deepEqual(
        coupons.map((c) => c.customer_id),
        [22],
      );
      // The flow report counts the skip under its reason.
      const report = await flowReport(db, 'wb-offer', T + DAY);
      assert.deepEqual([report.steps[0]!.treated.sent, report.steps[0]!.treated.skipped], [1, { topic_opted_out: 1 }]);
    });

    test('offers turned off after the offer was queued: skipped at once, in the same transaction; the other topics still go', async () => {
      const db = t.store.db;
      const at = T + 10 * DAY;
      await enterAtRisk(db, [23], at);
      // No e-mail sender yet: all four rows wait, pending.
      const queued = await tick(at, false);
      assert.equal(queued.advanced.queued, 4);
      assert.deepEqual(
        (await rowsOf(23)).map((r) => r[1]),
        ['pending', 'pending', 'pending', 'pending'],
      );
      await offersOff(db, 23, at + MINUTE);
      // Before any worker runs, the queued offer is skipped with the reason the send-time check writes.
      assert.deepEqual(await rowsOf(23), [
        ['wb-news', 'pending', null, 'new_products'],
        ['wb-offer', 'skipped', 'topic_opted_out:offers', 'offers'],
        ['wb-plain', 'pending', null, null],
        ['wb-receipt', 'pending', null, null],
      ]);
      const before = sink.received.length;
      const sent = await tick(at + 2 * MINUTE, true);
      assert.deepEqual([sent.delivered.claimed, sent.delivered.sent, sent.delivered.skipped], [3, 3, 0]);
      assert.equal(sink.received.length, before + 3);
      assert.deepEqual(await rowsOf(23), [
        ['wb-news', 'sent', null, 'new_products'],
        ['wb-offer', 'skipped', 'topic_opted_out:offers', 'offers'],
        ['wb-plain', 'sent', null, null],
        ['wb-receipt', 'sent', null, null],
      ]);
      assert.deepEqual(subjectsTo('t23@example.com'), ['wb-news', 'wb-plain', 'wb-receipt']);
    });
  });
}
