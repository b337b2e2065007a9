import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  flowReport,
  httpSender,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  unsubscribeByToken,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk } from './campaign-fixtures.js';
import { type JsonGateway, startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from './smtp-sink.js';

const utc = (text: string) => Date.parse(text);
const DAY = 86_400_000;
const SECRET = 'test-link-secret';

const EMAIL = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ customer.first_name }}, we miss you at {{ store.name }}.</mj-text>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

/** Customers 1…40: e-mail consent for odd ids, SMS consent for ids divisible by 3; #7's name tries HTML. */
async function seedCustomers(db: Db, at: number): Promise<void> {
  for (let id = 1; id <= 40; id++) {
    await addCustomer(db, id, at - 400 * DAY, {
      email: `c${id}@example.com`,
      phone: `+4477009${String(id).padStart(5, '0')}`,
      first_name: id === 7 ? 'Eve <b>bold</b>' : `Name${id}`,
      country: 'GB',
    });
    await db
      .insertInto('customer_consents')
      .values([
        { customer_id: id, channel: 'email', granted: id % 2, updated_at: at - 300 * DAY, source: 'test' },
        { customer_id: id, channel: 'sms', granted: id % 3 === 0 ? 1 : 0, updated_at: at - 300 * DAY, source: 'test' },
      ])
      .execute();
  }
}

/** A header as it came over the wire (mailparser folds List-* headers into one object). */
function rawHeader(mail: ReceivedMail, name: string): string {
  const line = mail.parsed.headerLines.find((h) => h.key === name)?.line ?? '';
  return line.slice(line.indexOf(':') + 1).trim();
}

function flow(input: Record<string, unknown>) {
  const r = validateFlow(input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.flow;
}

const winBack = flow({
  key: 'win-back',
  name: 'Win-back',
  trigger: { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
  exitWhen: [{ type: 'ordered' }, { type: 'left_segment', segments: ['lifecycle:at_risk', 'lifecycle:lapsed'] }],
  holdoutShare: 0.25,
  steps: [
    { id: 'remind', type: 'send', channels: ['email'], template: 'reminder', purpose: 'marketing', next: 'wait' },
    { id: 'wait', type: 'wait', for: { days: 2 }, next: 'last' },
    { id: 'last', type: 'send', channels: ['email'], template: 'reminder', purpose: 'marketing' },
  ],
});

for (const dialect of DIALECTS) {
  describe(`flows end to end through a real SMTP server and SMS provider (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let sms: JsonGateway;
    let senders: { email: ReturnType<typeof smtpSender>; sms: ReturnType<typeof httpSender> };
    const T0 = utc('2026-06-01T10:00:00Z'); // 11:00 in London
    let clock = T0;
    const tick = (now: number) => {
      clock = now;
      return workerTick(t.store.db, {
        now: () => clock,
        random: () => 0.5,
        linkSecret: SECRET,
        senders,
        concurrency: 2,
      });
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      sms = await startJsonGateway({ bearer: 'sms-token' });
      senders = {
        email: smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, maxConnections: 2 }),
        sms: httpSender({ url: `${sms.url}/messages`, bearer: 'sms-token', now: () => clock }),
      };
      const db = t.store.db;
      await seedCustomers(db, T0);
      await saveMessagingSettings(db, {
        storeName: 'Tea & Co',
        timeZone: 'Europe/London',
        fromEmail: 'hello@tea.example',
        fromName: 'Tea & Co',
        publicUrl: 'https://comeback.tea.example',
        quietHours: { start: '21:00', end: '08:00' },
        cap: { count: 2, days: 7 },
      });
      await saveTemplate(
        db,
        {
          key: 'reminder',
          channel: 'email',
          purpose: 'marketing',
          subject: 'We miss you, {{ customer.first_name }}',
          body: EMAIL,
        },
        T0,
      );
      await saveTemplate(
        db,
        {
          key: 'cart-sms',
          channel: 'sms',
          purpose: 'marketing',
          body: '{{ store.name }}: your cart is waiting. Stop: {{ links.unsubscribe }}',
        },
        T0,
      );
      await saveFlow(db, winBack, T0);
      assert.equal(await setFlowEnabled(db, 'win-back', true, T0), true);
    });

    after(async () => {
      senders.email.close?.();
      await sink.close();
      await sms.close();
      await t.drop();
    });

    test('the right people get the right content; nobody without consent; the control group never', async () => {
      const db = t.store.db;
      const entrants = Array.from({ length: 40 }, (_, i) => i + 1);
      await enterAtRisk(db, entrants, T0);
      const summary = await tick(T0);
      assert.equal(summary.enrolled.entered, 40);
      const journeys = await campaignDb(db).selectFrom('journeys').select(['customer_id', 'arm']).execute();
      const control = new Set(journeys.filter((j) => j.arm === 'control').map((j) => j.customer_id));
      // Every customer entered once, in the arm recorded on entry; the share is within binomial noise of 25 %.
      assert.equal(journeys.length, 40);
      assert.ok(control.size >= 3 && control.size <= 17, `control ${control.size} of 40`);
      const expected = entrants.filter((id) => id % 2 === 1 && !control.has(id)).map((id) => `c${id}@example.com`);
      await sink.waitFor(expected.length);
      const to = sink.received.flatMap((m) => m.envelopeTo).sort();
      assert.deepEqual(to, [...expected].sort());
      for (const id of control) assert.ok(!to.includes(`c${id}@example.com`), `control customer ${id} was mailed`);
      const mail = sink.received.find((m) => m.envelopeTo[0] === 'c1@example.com') ?? sink.received[0]!;
      assert.match(mail.parsed.subject ?? '', /^We miss you, Name\d+$/);
      assert.match(String(mail.parsed.html), /we miss you at Tea &amp; Co/);
      assert.match(mail.parsed.text ?? '', /we miss you at Tea & Co/);
      assert.match(rawHeader(mail, 'list-unsubscribe'), /^<https:\/\/comeback\.tea\.example\/m\/u\/[^>]+>$/);
      assert.equal(rawHeader(mail, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
      const eve = sink.received.find((m) => m.envelopeTo[0] === 'c7@example.com');
      if (eve) assert.match(String(eve.parsed.html), /Eve &lt;b&gt;bold&lt;\/b&gt;/);
      // Every decision is recorded: the skipped ones say why.
      const rows = await campaignDb(db).selectFrom('outbox').select(['customer_id', 'status', 'reason']).execute();
      assert.equal(rows.length, 40);
      for (const r of rows) {
        if (control.has(r.customer_id)) assert.equal(r.status, 'held_out');
        else if (r.customer_id % 2 === 0) assert.deepEqual([r.status, r.reason], ['skipped', 'no_consent:email']);
        else assert.equal(r.status, 'sent');
      }
    });

    test('an unsubscribe is honoured before the next send; an order ends the journey', async () => {
      const db = t.store.db;
      const treated = sink.received.map((m) => Number(/^c(\d+)@/.exec(m.envelopeTo[0]!)![1]));
      const [leaver, buyer] = treated;
      const mail = sink.received.find((m) => m.envelopeTo[0] === `c${leaver}@example.com`)!;
      const link = /<([^>]+)>/.exec(rawHeader(mail, 'list-unsubscribe'))?.[1] ?? '';
      const token = link.split('/m/u/')[1]!;
      const first = await unsubscribeByToken(db, SECRET, token, T0 + DAY);
      assert.deepEqual(first, { ok: true, customerId: leaver, channel: 'email', alreadyDone: false });
      const again = await unsubscribeByToken(db, SECRET, token, T0 + DAY + 1);
      assert.equal(again.ok && again.alreadyDone, true);
      assert.equal((await unsubscribeByToken(db, SECRET, `${token}x`, T0 + DAY)).ok, false);
      await db
        .insertInto('orders')
        .values({
          source: 'test',
          external_id: 'o-1',
          customer_id: buyer!,
          email: null,
          placed_at: T0 + DAY,
          placed_offset: 0,
          placed_date: '2026-06-02',
          currency: 'GBP',
          subtotal_minor: 4000,
          shipping_minor: 0,
          tax_minor: 0,
          discount_minor: 0,
          total_minor: 4000,
          refunded_minor: 0,
          status: 'paid',
          discount_codes: '',
          country: 'GB',
          cancelled_at: null,
          imported_at: T0 + DAY,
        })
        .execute();
      const before = sink.received.length;
      // Two days later, 11:00 London: the last call goes to the others only.
      await tick(T0 + 2 * DAY);
      const lastCall = sink.received.slice(before).map((m) => m.envelopeTo[0]);
      assert.ok(!lastCall.includes(`c${leaver}@example.com`), 'mailed after unsubscribing');
      assert.ok(!lastCall.includes(`c${buyer}@example.com`), 'mailed after ordering');
      assert.equal(lastCall.length, treated.length - 2);
      const buyerJourney = await campaignDb(db)
        .selectFrom('journeys')
        .select(['status', 'exit_reason'])
        .where('customer_id', '=', buyer!)
        .executeTakeFirstOrThrow();
      assert.deepEqual(buyerJourney, { status: 'exited', exit_reason: 'ordered' });
      const leaverRow = await campaignDb(db)
        .selectFrom('outbox')
        .select(['status', 'reason'])
        .where('customer_id', '=', leaver!)
        .where('step_id', '=', 'last')
        .executeTakeFirstOrThrow();
      assert.deepEqual(leaverRow, { status: 'skipped', reason: 'suppressed:unsubscribe' });
    });

    test('the frequency cap and quiet hours apply across flows; SMS goes through the provider contract', async () => {
      const db = t.store.db;
      await saveFlow(
        db,
        flow({
          key: 'cart',
          name: 'Cart',
          trigger: { type: 'event', events: ['Checkout Started'] },
          exitWhen: [{ type: 'event', events: ['Order Completed'] }],
          holdoutShare: 0,
          steps: [
            { id: 'w', type: 'wait', for: { hours: 1 }, next: 's' },
            { id: 's', type: 'send', channels: ['sms', 'email'], template: 'cart-sms', purpose: 'marketing' },
          ],
        }),
        T0,
      );
      await setFlowEnabled(db, 'cart', true, T0 + 3 * DAY);
      // A customer with SMS consent who already had both win-back e-mails this week, and two who had none.
      const sent = await campaignDb(db)
        .selectFrom('outbox')
        .select(['customer_id', ({ fn }) => fn.countAll<number>().as('n')])
        .where('status', '=', 'sent')
        .groupBy('customer_id')
        .execute();
      const capped = sent.find((r) => Number(r.n) === 2 && r.customer_id % 3 === 0)!.customer_id;
      // Checkouts at 20:30 London (BST): the send falls at 21:30, inside quiet hours.
      const at = utc('2026-06-04T19:30:00Z');
      for (const id of [6, 12, capped]) {
        await db
          .insertInto('events')
          .values({
            message_id: `checkout-${id}`,
            type: 'track',
            event: 'Checkout Started',
            customer_id: id,
            anonymous_id: null,
            session_id: null,
            properties: '{}',
            occurred_at: at,
            received_at: at,
          })
          .execute();
      }
      await tick(at);
      await tick(at + 60 * 60_000);
      const rows = await campaignDb(db)
        .selectFrom('outbox')
        .innerJoin('flows', 'flows.id', 'outbox.flow_id')
        .select(['outbox.customer_id', 'outbox.status', 'outbox.reason', 'outbox.send_after', 'outbox.channel'])
        .where('flows.key', '=', 'cart')
        .execute();
      const byCustomer = new Map(rows.map((r) => [r.customer_id, r]));
      const over = byCustomer.get(capped)!;
      assert.deepEqual([over.status, over.reason], ['skipped', 'frequency_cap:2 marketing messages in 7 days']);
      // The others wait for 08:00 London (07:00 UTC), on SMS, the channel they consented to.
      for (const id of [6, 12]) {
        const r = byCustomer.get(id)!;
        assert.deepEqual(
          [r.status, r.reason, r.send_after, r.channel],
          ['pending', 'quiet_hours', utc('2026-06-05T07:00:00Z'), 'sms'],
        );
      }
      assert.equal(sms.received.length, 0);
      await tick(utc('2026-06-05T06:59:00Z'));
      assert.equal(sms.received.length, 0);
      await tick(utc('2026-06-05T07:00:00Z'));
      assert.deepEqual(sms.received.map((m) => m.to).sort(), ['+447700900006', '+447700900012']);
      assert.match(
        String(sms.received[0]!.text),
        /^Tea & Co: your cart is waiting\. Stop: https:\/\/comeback\.tea\.example\/m\/u\//,
      );
      assert.ok(String(sms.received[0]!.message_id).startsWith('<'));
    });

    test('the report counts every entrant in their arm, with the lift and its interval', async () => {
      const report = await flowReport(t.store.db, 'win-back', T0 + 30 * DAY);
      const journeys = await campaignDb(t.store.db)
        .selectFrom('journeys')
        .select(['arm'])
        .where('flow_id', '=', 1)
        .execute();
      assert.equal(report.entrants.treatment + report.entrants.control, 40);
      assert.equal(report.entrants.control, journeys.filter((j) => j.arm === 'control').length);
      // One treated customer ordered within the window: 1 converter among the treated.
      assert.equal(report.lift.treatment.converters, 1);
      assert.equal(report.lift.control.converters, 0);
      assert.equal(report.lift.treatment.revenueMinor, 4000);
      assert.equal(report.currency, 'GBP');
      assert.equal(report.lift.verdict, 'inconclusive');
      assert.ok((report.lift.moreEntrantsNeeded ?? 0) > 0);
      const remind = report.steps.find((s) => s.stepId === 'remind')!;
      assert.equal(remind.heldOut, report.entrants.control);
      assert.equal(remind.treated.skipped.no_consent, report.entrants.treatment - remind.treated.sent);
      assert.equal(remind.unsubscribed, 1);
    });
  });
}
