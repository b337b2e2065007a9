import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  httpSender,
  recordConsent,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  unsubscribeByToken,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { signLink } from '../src/campaigns/links.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { applyPreferences } from '../src/hosted/index.js';
import { importFile, recordConsent as recordImportedConsent } from '../src/ingest/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk } from './campaign-fixtures.js';
import { startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

// Withdrawing consent (preference centre, one-click unsubscribe, `consent set`, an imported record) or
// starting a pause skips the customer's queued marketing on that channel at once, in the same
// transaction; transactional rows and the other channel's marketing stay queued and are delivered.

const DAY = 86_400_000;
const MINUTE = 60_000;
const SECRET = 'withdraw-secret';
const T = Date.parse('2026-06-01T10:00:00Z');
const IDS = [31, 32, 33, 34, 35, 36];

const mjml = (words: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>${words} <a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;

const FLOWS = [
  { key: 'q-mail', channel: 'email', purpose: 'marketing' },
  { key: 'q-receipt', channel: 'email', purpose: 'transactional' },
  { key: 'q-sms', channel: 'sms', purpose: 'marketing' },
] as const;

async function customer(db: Db, id: number): Promise<void> {
  await addCustomer(db, id, T - 400 * DAY, { email: `w${id}@example.com`, phone: `+4477009000${id}`, country: 'GB' });
  for (const channel of ['email', 'sms']) {
    await db
      .insertInto('customer_consents')
      .values({ customer_id: id, channel, granted: 1, updated_at: T - 300 * DAY, source: 'test' })
      .execute();
  }
}

for (const dialect of DIALECTS) {
  describe(`withdrawn consent and a pause skip queued marketing at once (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let gw: Awaited<ReturnType<typeof startJsonGateway>>;
    let email: ReturnType<typeof smtpSender>;
    let clock = 0;
    const tick = (now: number, withSenders: boolean) => {
      clock = now;
      return workerTick(t.store.db, {
        now: () => clock,
        random: () => 0.5,
        linkSecret: SECRET,
        senders: withSenders ? { email, sms: httpSender({ url: `${gw.url}/sms`, now: () => clock }) } : {},
      });
    };
    /** [flow, status, reason] of each of a customer's rows, by flow key. */
    const rowsOf = async (id: number) =>
      (
        await campaignDb(t.store.db)
          .selectFrom('outbox')
          .innerJoin('flows', 'flows.id', 'outbox.flow_id')
          .select(['flows.key', 'outbox.status', 'outbox.reason'])
          .where('outbox.customer_id', '=', id)
          .orderBy('flows.key')
          .execute()
      ).map((r) => [r.key, r.status, r.reason]);

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      gw = await startJsonGateway({ idPrefix: 'w' });
      email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: 'Corner Shop',
        timeZone: 'Europe/London',
        publicUrl: 'https://corner.example',
        smsSender: 'CORNER',
        quietHours: null,
        cap: null,
      });
      for (const id of IDS) await customer(db, id);
      for (const f of FLOWS) {
        await saveTemplate(
          db,
          f.channel === 'email'
            ? { key: f.key, channel: 'email', purpose: f.purpose, subject: f.key, body: mjml(f.key) }
            : { key: f.key, channel: 'sms', purpose: f.purpose, body: `${f.key} {{ links.unsubscribe }}` },
          T - DAY,
        );
        const flow = validateFlow({
          key: f.key,
          name: f.key,
          trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
          holdoutShare: 0,
          steps: [{ id: 'send', type: 'send', channels: [f.channel], template: f.key, purpose: f.purpose }],
        });
        assert.ok(flow.ok, JSON.stringify(flow));
        await saveFlow(db, flow.flow, T - DAY);
        await setFlowEnabled(db, f.key, true, T - DAY);
      }
    });

    after(async () => {
      email.close?.();
      await sink.close();
      await gw.close();
      await t.drop();
    });

    test('each way of withdrawing skips that channel’s queued marketing in its own transaction; the rest is delivered', async () => {
      const db = t.store.db;
      await enterAtRisk(db, IDS, T);
      // No senders yet: 6 customers × 3 flows wait, pending.
      const queued = await tick(T, false);
      assert.equal(queued.advanced.queued, 18);
      const at = T + MINUTE;
      // 31: the preference centre, e-mail off.
      await applyPreferences(
        db,
        31,
        {
          type: 'save',
          channels: { email: false, sms: true, kakao: false },
          topics: { offers: true, new_products: true, rewards: true, surveys: true },
        },
        { source: 'preference_centre', now: at },
      );
      // 32: the one-click unsubscribe of its queued marketing e-mail.
      const mail32 = await campaignDb(db)
        .selectFrom('outbox')
        .innerJoin('flows', 'flows.id', 'outbox.flow_id')
        .select('outbox.id')
        .where('outbox.customer_id', '=', 32)
        .where('flows.key', '=', 'q-mail')
        .executeTakeFirstOrThrow();
      const token = signLink(SECRET, { c: 32, p: 'unsubscribe', m: mail32.id, e: at + 180 * DAY });
      assert.deepEqual(await unsubscribeByToken(db, SECRET, token, at), {
        ok: true,
        customerId: 32,
        channel: 'email',
        alreadyDone: false,
      });
      // 33: `comeback consent set 33 sms no` (its function).
      assert.equal(
        await recordConsent(db, { customerId: 33, channel: 'sms', granted: false, source: 'cli' }, at),
        true,
      );
      // 34: an imported record withdrawing SMS, dated after the stored grant: it stands.
      await recordImportedConsent(db, 34, { channel: 'sms', granted: false, at, source: 'import' });
      // 35: pause for 30 days.
      await applyPreferences(db, 35, { type: 'pause' }, { source: 'preference_centre', now: at });
      // 36: an imported withdrawal dated before the stored grant loses (the newest statement wins): nothing skipped.
      await recordImportedConsent(db, 36, { channel: 'email', granted: false, at: T - 301 * DAY, source: 'import' });

      const pending = (key: string) => [key, 'pending', null];
      assert.deepEqual(await rowsOf(31), [
        ['q-mail', 'skipped', 'no_consent:email'],
        pending('q-receipt'),
        pending('q-sms'),
      ]);
      assert.deepEqual(await rowsOf(32), [
        ['q-mail', 'skipped', 'no_consent:email'],
        pending('q-receipt'),
        pending('q-sms'),
      ]);
      for (const id of [33, 34]) {
        assert.deepEqual(
          await rowsOf(id),
          [pending('q-mail'), pending('q-receipt'), ['q-sms', 'skipped', 'no_consent:sms']],
          `customer ${id}`,
        );
      }
      assert.deepEqual(await rowsOf(35), [
        ['q-mail', 'skipped', 'paused'],
        pending('q-receipt'),
        ['q-sms', 'skipped', 'paused'],
      ]);
      assert.deepEqual(await rowsOf(36), [pending('q-mail'), pending('q-receipt'), pending('q-sms')]);

      // Delivery: what stayed queued goes, nothing skipped reaches a provider, nothing is stopped late.
      const sent = await tick(at + MINUTE, true);
      assert.deepEqual([sent.delivered.claimed, sent.delivered.sent, sent.delivered.skipped], [12, 12, 0]);
      await sink.waitFor(9);
      const mails = sink.received.map((m) => `${m.envelopeTo.join()} ${m.parsed.subject}`).sort();
      assert.deepEqual(mails, [
        'w31@example.com q-receipt',
        'w32@example.com q-receipt',
        'w33@example.com q-mail',
        'w33@example.com q-receipt',
        'w34@example.com q-mail',
        'w34@example.com q-receipt',
        'w35@example.com q-receipt',
        'w36@example.com q-mail',
        'w36@example.com q-receipt',
      ]);
      assert.deepEqual(gw.received.map((r) => r.to).sort(), ['+447700900031', '+447700900032', '+447700900036']);
    });

    test('an imported file withdrawing consent skips queued marketing on the set-based import path, unless the withdrawal is older than the stored grant', async () => {
      const db = t.store.db;
      const at = T + 2 * DAY;
      for (const id of [41, 42, 43]) await customer(db, id);
      await enterAtRisk(db, [41, 42, 43], at);
      assert.equal((await tick(at, false)).advanced.queued, 9);
      const dir = tempDir();
      try {
        // Shopify's customers export states consent at the import's now: 41 says no to e-mail, 42 to SMS,
        // 43 yes to both, and a new shopper says no (a customer created by the batch has nothing queued).
        writeFileSync(
          join(dir, 'customers.csv'),
          `Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Accepts SMS Marketing,Phone,Total Orders
'9041,,,w41@example.com,no,yes,,0
'9042,,,w42@example.com,yes,no,,0
'9043,,,w43@example.com,yes,yes,,0
'9044,,,new44@example.com,no,no,,0
`,
        );
        // An order of 43's dated a day before the stored grant says no to e-mail: the newer grant stands.
        writeFileSync(
          join(dir, 'orders.csv'),
          `Name,Email,Financial Status,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Billing Name,Billing Country,Refunded Amount,Vendor,Id
#w1,w43@example.com,paid,no,GBP,5.00,0.00,0.00,5.00,,0.00,${new Date(T - 301 * DAY).toISOString().slice(0, 10)} 10:00:00 +0000,1,P,5.00,SKU-1,0.00,,GB,0.00,V,w1
`,
        );
        const now = at + MINUTE;
        await importFile(db, join(dir, 'customers.csv'), { format: 'shopify', now });
        await importFile(db, join(dir, 'orders.csv'), { format: 'shopify', now });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const pending = (key: string) => [key, 'pending', null];
      assert.deepEqual(await rowsOf(41), [
        ['q-mail', 'skipped', 'no_consent:email'],
        pending('q-receipt'),
        pending('q-sms'),
      ]);
      assert.deepEqual(await rowsOf(42), [
        pending('q-mail'),
        pending('q-receipt'),
        ['q-sms', 'skipped', 'no_consent:sms'],
      ]);
      assert.deepEqual(await rowsOf(43), [pending('q-mail'), pending('q-receipt'), pending('q-sms')]);
      const consents = await db
        .selectFrom('customer_consents')
        .select(['customer_id', 'channel', 'granted'])
        .where('customer_id', 'in', [41, 42, 43])
        .orderBy('customer_id')
        .orderBy('channel')
        .execute();
      assert.deepEqual(
        consents.map((k) => [Number(k.customer_id), k.channel, Number(k.granted)]),
        [
          [41, 'email', 0],
          [41, 'sms', 1],
          [42, 'email', 1],
          [42, 'sms', 0],
          [43, 'email', 1],
          [43, 'sms', 1],
        ],
      );
    });
  });
}
