import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  builtinFlows,
  httpSender,
  installBuiltins,
  previewBlocks,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { ProductWriter } from '../src/ingest/index.js';
import { adjust, enrolMember, saveProgram } from '../src/loyalty/index.js';
import { buildRecommendations } from '../src/recommend/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer, enterAtRisk } from './campaign-fixtures.js';
import { type JsonGateway, startJsonGateway } from './json-gateway.js';
import { testProgramConfig } from './loyalty-fixtures.js';
import { addEvent } from './segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T10:00:00Z');
const SECRET = 'context-test-secret';

/** A plain-text part that prints every block, so the test reads exactly what a template can. */
const TEXT = `{% for i in trigger.items %}item: {{ i.title }} | {{ i.price }} x{{ i.quantity }} | {{ i.url }} | {{ i.image }}
{% endfor %}{% if trigger.order %}order: {{ trigger.order.name }} {{ trigger.order.date }} {{ trigger.order.total }}
{% endif %}{% if trigger.points %}points: {{ trigger.points }} on {{ trigger.expires_on }}
{% endif %}{% for p in products %}product: {{ p.title }} | {{ p.price }} | {{ p.reason }}
{% endfor %}note: {{ recommendations.note }}
{% for a in new_arrivals %}new: {{ a.title }} | {{ a.price }}
{% endfor %}{% if loyalty.member %}loyalty: {{ loyalty.balance }} = {{ loyalty.balance_value }}, {{ loyalty.tier }}
{% for r in loyalty.rewards_within_reach %}reward: {{ r.name }} {{ r.cost }} need {{ r.points_needed }}
{% endfor %}{% endif %}end`;

const MJML = `<mjml><mj-body><mj-section><mj-column>
<mj-raw>{% for i in trigger.items %}</mj-raw><mj-image src="{{ i.image }}" alt="{{ i.title }}" /><mj-raw>{% endfor %}</mj-raw>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

/** The catalogue: three teas and a mug on day -30, arrivals on days -3 (priced in yen), -2 and -1, one priced only in the future. */
async function catalogue(db: Db): Promise<Map<string, number>> {
  const item = (sku: string, title: string, priceMinor: number, currency = 'GBP') => ({
    sku,
    title,
    tags: [],
    status: 'active' as const,
    priceMinor,
    currency,
    url: `https://shop.example/p/${sku.toLowerCase()}`,
    imageUrl: `https://cdn.example/${sku.toLowerCase()}.jpg`,
    category: 'tea',
  });
  await new ProductWriter(db, 'test', T0 - 30 * DAY).write([
    item('ASSAM', 'Assam', 750),
    item('DARJ', 'Darjeeling', 1299),
    item('OOLONG', 'Oolong', 900),
    item('MUG', 'Mug', 1500),
  ]);
  await new ProductWriter(db, 'test', T0 - 3 * DAY).write([item('SENCHA', 'Sencha', 150_000, 'JPY')]);
  await new ProductWriter(db, 'test', T0 - 2 * DAY).write([item('MATCHA', 'Matcha', 2450)]);
  await new ProductWriter(db, 'test', T0 - DAY).write([item('HOJI', 'Hojicha', 1100)]);
  await new ProductWriter(db, 'test', T0 + 10 * DAY).write([item('LATER', 'Later', 100)]);
  const rows = await db.selectFrom('products').select(['id', 'sku']).execute();
  return new Map(rows.map((r) => [r.sku, Number(r.id)]));
}

let orderNo = 0;
async function order(
  db: Db,
  ids: Map<string, number>,
  customerId: number,
  at: number,
  lines: Array<[sku: string, quantity: number, unitMinor: number]>,
  name: string | null = null,
): Promise<void> {
  orderNo += 1;
  const total = lines.reduce((s, [, q, u]) => s + q * u, 0);
  const row = await db
    .insertInto('orders')
    .values({
      source: 'test',
      external_id: `o-${orderNo}`,
      name,
      customer_id: customerId,
      email: null,
      placed_at: at,
      placed_offset: 0,
      placed_date: new Date(at).toISOString().slice(0, 10),
      currency: 'GBP',
      subtotal_minor: total,
      shipping_minor: 0,
      tax_minor: 0,
      discount_minor: 0,
      total_minor: total,
      refunded_minor: 0,
      status: 'paid',
      discount_codes: '[]',
      country: 'GB',
      cancelled_at: null,
      imported_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('order_lines')
    .values(
      lines.map(([sku, quantity, unit], i) => ({
        order_id: row.id,
        line_no: i + 1,
        product_id: ids.get(sku)!,
        sku,
        title: sku === 'ASSAM' ? 'Assam' : sku === 'DARJ' ? 'Darjeeling' : sku === 'OOLONG' ? 'Oolong' : sku,
        quantity,
        unit_price_minor: unit,
        discount_minor: 0,
        total_minor: quantity * unit,
        kind: 'product' as const,
      })),
    )
    .execute();
}

async function event(db: Db, customerId: number, name: string, at: number, properties: object, id: string) {
  await addEvent(db, { messageId: id, customerId, event: name, at, properties });
}

async function flow(db: Db, key: string, trigger: unknown, products?: unknown) {
  const result = validateFlow({
    key,
    name: key,
    trigger,
    holdoutShare: 0,
    steps: [
      {
        id: 'send',
        type: 'send',
        channels: ['email'],
        template: 'ctx',
        purpose: 'marketing',
        ...(products ? { products } : {}),
      },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  await saveFlow(db, result.flow, T0 - DAY);
  await setFlowEnabled(db, key, true, T0 - DAY);
}

for (const dialect of DIALECTS) {
  describe(`message blocks filled from the store at send time (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let ids: Map<string, number>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      const db = t.store.db;
      await saveMessagingSettings(db, {
        publicUrl: 'https://shop.example/comeback',
        storeName: 'Tea & Co',
        storeUrl: 'https://shop.example',
        cap: null,
        quietHours: null,
      });
      await saveTemplate(
        db,
        {
          key: 'ctx',
          channel: 'email',
          purpose: 'marketing',
          subject: 'ctx {{ trigger.type }}',
          body: MJML,
          text: TEXT,
        },
        T0 - DAY,
      );
      ids = await catalogue(db);
      for (let id = 1; id <= 9; id++) {
        await addCustomer(db, id, T0 - 60 * DAY, { email: `c${id}@example.com`, country: 'GB' });
      }
      // Assam is bought by 1–6; Darjeeling with it by 2, 3, 4; Oolong with it by 5, 6.
      await order(db, ids, 1, T0 - 20 * DAY, [['ASSAM', 1, 750]]);
      for (const c of [2, 3, 4])
        await order(db, ids, c, T0 - 20 * DAY, [
          ['ASSAM', 1, 750],
          ['DARJ', 1, 1299],
        ]);
      for (const c of [5, 6])
        await order(db, ids, c, T0 - 20 * DAY, [
          ['ASSAM', 1, 750],
          ['OOLONG', 1, 900],
        ]);
      // Only the customers under test may be mailed.
      for (const id of [1, 2, 7, 8, 9]) {
        await db
          .insertInto('customer_consents')
          .values({ customer_id: id, channel: 'email', granted: 1, updated_at: T0 - 30 * DAY, source: 'test' })
          .execute();
      }
      // Customer 1 is a member with 180 points (1 point = 1p): the Blue tier, whose rewards cost 60, 100, 250.
      const program = await saveProgram(db, testProgramConfig({ actions: {} }), { now: T0 - 30 * DAY });
      const enrolled = await enrolMember(db, program, { customerId: 1, now: T0 - 30 * DAY });
      assert.ok(enrolled.ok);
      const credited = await adjust(db, program, { customerId: 1, points: 180, reason: 'test', now: T0 - 10 * DAY });
      assert.ok(credited.ok);
    });
    after(async () => {
      await sink?.close();
      await t?.drop();
    });

    test('before any recommendation build: no products, and the note says why', async () => {
      const blocks = await previewBlocks(t.store.db, 1, T0, { locale: 'en', storeUrl: null });
      assert.deepEqual(blocks.products, []);
      assert.match(blocks.recommendations.note ?? '', /no recommendation build yet/);
    });

    test('win-back, cart and order messages carry their items, recommendations, arrivals and points', async () => {
      const db = t.store.db;
      await buildRecommendations(db, { asOf: T0 - 2 * HOUR, now: T0 - 2 * HOUR });
      await flow(
        db,
        'ctx-winback',
        { type: 'segment_entered', segments: ['lifecycle:at_risk'] },
        {
          method: 'personal',
          n: 3,
        },
      );
      await flow(db, 'ctx-cart', { type: 'event', events: ['Checkout Started'] }, { n: 3 });
      await flow(db, 'ctx-order', { type: 'order', nth: 2 });
      // Customer 9's second order, written after the flow is on (enabling starts the order cursor at the latest order).
      await order(db, ids, 9, T0 - 10 * DAY, [['ASSAM', 1, 750]]);
      await order(
        db,
        ids,
        9,
        T0 - HOUR,
        [
          ['DARJ', 2, 1299],
          ['OOLONG', 1, 900],
        ],
        '#1001',
      );
      await enterAtRisk(db, [1, 2], T0 - HOUR);
      // Customer 7's checkout lists its lines (one priced in yen); customer 8's does not, so their
      // cart is the Product Added events of the day before it.
      await event(
        db,
        7,
        'Checkout Started',
        T0 - HOUR,
        {
          currency: 'GBP',
          products: [
            { sku: 'DARJ', name: 'Darjeeling 100 g', price: 12.99, quantity: 2 },
            { sku: 'OOLONG', quantity: 1 },
          ],
        },
        'checkout-7',
      );
      await event(db, 8, 'Product Added', T0 - 2 * DAY, { sku: 'MUG', price: 15, currency: 'GBP' }, 'add-8-old');
      await event(db, 8, 'Product Added', T0 - 3 * HOUR, { sku: 'SENCHA', price: 1500, currency: 'JPY' }, 'add-8-a');
      await event(db, 8, 'Product Added', T0 - 2 * HOUR, { product_id: 'ASSAM', quantity: 3 }, 'add-8-b');
      await event(db, 8, 'Checkout Started', T0 - HOUR, { currency: 'GBP' }, 'checkout-8');

      const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const tick = await workerTick(db, { now: () => T0, random: () => 0.5, linkSecret: SECRET, senders: { email } });
      await email.close?.();
      assert.equal(tick.delivered.sent, 5, JSON.stringify(tick));
      const text = (to: number, type: string) => {
        const mail = sink.received.find(
          (m) => m.envelopeTo[0] === `c${to}@example.com` && m.parsed.subject === `ctx ${type}`,
        );
        assert.ok(mail, `no ${type} mail to ${to}`);
        return String(mail.parsed.text).trim();
      };
      // Personal: Assam's co-buyers bought Darjeeling (3 of them) more than Oolong (2), both "because you
      // bought Assam"; Assam itself is bought and not a repeat item. New arrivals: Hojicha (day -1), then
      // Matcha (day -2), Sencha (day -3); `Later` is priced only after the send.
      // 180 points: £1.80; Blue may take Free shipping (60) and £5 off (100); 10% off (250) needs 70 more.
      assert.equal(
        text(1, 'segment_entered'),
        [
          'product: Darjeeling | £12.99 | Because you bought Assam',
          'product: Oolong | £9.00 | Because you bought Assam',
          'note: only 2 items qualify',
          'new: Hojicha | £11.00',
          'new: Matcha | £24.50',
          'new: Sencha | ¥150,000',
          'loyalty: 180 = £1.80, Blue',
          'reward: Free shipping 60 need 0',
          'reward: £5 off 100 need 0',
          'reward: 10% off 250 need 70',
          'end',
        ].join('\n'),
      );
      // Customer 2 is not a member: no loyalty lines; they bought Darjeeling with Assam, so Oolong is left.
      assert.match(text(2, 'segment_entered'), /^product: Oolong \| £9\.00 \| Because you bought Assam\n/);
      assert.doesNotMatch(text(2, 'segment_entered'), /loyalty:/);
      // The checkout's own lines: the price it carried (12.99 GBP), the catalogue's where it carried none.
      const cart7 = text(7, 'event');
      assert.ok(
        cart7.startsWith(
          [
            'item: Darjeeling 100 g | £12.99 x2 | https://shop.example/p/darj | https://cdn.example/darj.jpg',
            'item: Oolong | £9.00 x1 | https://shop.example/p/oolong | https://cdn.example/oolong.jpg',
          ].join('\n'),
        ),
        cart7,
      );
      // Yen have no minor unit (ISO 4217 exponent 0): 1500 JPY is ¥1,500. The mug was added two days ago: not this cart.
      const cart8 = text(8, 'event');
      assert.ok(
        cart8.startsWith(
          [
            'item: Sencha | ¥1,500 x1 | https://shop.example/p/sencha | https://cdn.example/sencha.jpg',
            'item: Assam | £7.50 x3 | https://shop.example/p/assam | https://cdn.example/assam.jpg',
          ].join('\n'),
        ),
        cart8,
      );
      // The second order of customer 9: 2 × 12.99 + 9.00 = 34.98.
      const order9 = text(9, 'order');
      assert.ok(
        order9.startsWith(
          [
            'item: Darjeeling | £12.99 x2 | https://shop.example/p/darj | https://cdn.example/darj.jpg',
            'item: Oolong | £9.00 x1 | https://shop.example/p/oolong | https://cdn.example/oolong.jpg',
            `order: #1001 ${new Date(T0 - HOUR).toISOString().slice(0, 10)} £34.98`,
          ].join('\n'),
        ),
        order9,
      );
      // The HTML shows each item's image.
      const html = String(sink.received.find((m) => m.envelopeTo[0] === 'c7@example.com')!.parsed.html);
      assert.match(html, /src="https:\/\/cdn\.example\/darj\.jpg"/);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`the built-in templates show the blocks (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let sms: JsonGateway;
    let ids: Map<string, number>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      sms = await startJsonGateway();
      const db = t.store.db;
      await saveMessagingSettings(db, {
        publicUrl: 'https://shop.example/comeback',
        storeName: 'Tea & Co',
        storeUrl: 'https://shop.example',
        cap: null,
        quietHours: null,
      });
      ids = await catalogue(db);
      for (let id = 1; id <= 10; id++) {
        await addCustomer(db, id, T0 - 60 * DAY, {
          email: id === 10 ? null : `c${id}@example.com`,
          phone: id === 10 ? '+447700900010' : null,
          country: 'GB',
        });
      }
      await order(db, ids, 1, T0 - 20 * DAY, [['ASSAM', 1, 750]]);
      for (const c of [2, 3, 4])
        await order(db, ids, c, T0 - 20 * DAY, [
          ['ASSAM', 1, 750],
          ['DARJ', 1, 1299],
        ]);
      for (const c of [5, 6])
        await order(db, ids, c, T0 - 20 * DAY, [
          ['ASSAM', 1, 750],
          ['OOLONG', 1, 900],
        ]);
      for (const [id, channel] of [
        [1, 'email'],
        [7, 'email'],
        [9, 'email'],
        [10, 'sms'],
      ] as const) {
        await db
          .insertInto('customer_consents')
          .values({ customer_id: id, channel, granted: 1, updated_at: T0 - 30 * DAY, source: 'test' })
          .execute();
      }
      const program = await saveProgram(db, testProgramConfig({ actions: {} }), { now: T0 - 30 * DAY });
      assert.ok((await enrolMember(db, program, { customerId: 1, now: T0 - 30 * DAY })).ok);
      assert.ok((await adjust(db, program, { customerId: 1, points: 180, reason: 'test', now: T0 - 10 * DAY })).ok);
      await buildRecommendations(db, { asOf: T0 - 2 * HOUR, now: T0 - 2 * HOUR });
      await installBuiltins(db, T0 - DAY);
      for (const flow of builtinFlows()) {
        if (!['win-back', 'cart-abandonment', 'review-request'].includes(flow.key)) continue;
        await saveFlow(db, { ...flow, holdoutShare: 0 }, T0 - DAY);
        await setFlowEnabled(db, flow.key, true, T0 - DAY);
      }
    });
    after(async () => {
      await sink?.close();
      await sms?.close();
      await t?.drop();
    });

    test('win-back with products and what a member is missing, cart items by e-mail and SMS, the review names the order', async () => {
      const db = t.store.db;
      await enterAtRisk(db, [1], T0);
      const cart = [
        { sku: 'DARJ', name: 'Darjeeling 100 g', price: 12.99, quantity: 2 },
        { sku: 'OOLONG', quantity: 1 },
        { sku: 'MUG', quantity: 1 },
      ];
      await event(db, 7, 'Checkout Started', T0, { currency: 'GBP', products: cart.slice(0, 1) }, 'checkout-7');
      await event(db, 10, 'Checkout Started', T0, { currency: 'GBP', products: cart }, 'checkout-10');
      await order(
        db,
        ids,
        9,
        T0,
        [
          ['DARJ', 2, 1299],
          ['OOLONG', 1, 900],
        ],
        '#1002',
      );
      const run = async (at: number) => {
        const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
        const text = httpSender({ url: `${sms.url}/messages`, bearer: 'x', now: () => at });
        await workerTick(db, { now: () => at, random: () => 0.5, linkSecret: SECRET, senders: { email, sms: text } });
        await email.close?.();
      };
      await run(T0);
      await run(T0 + 5 * HOUR);
      await run(T0 + 10 * DAY);
      const mail = (to: number, subject: RegExp) => {
        const found = sink.received.find(
          (m) => m.envelopeTo[0] === `c${to}@example.com` && subject.test(m.parsed.subject ?? ''),
        );
        assert.ok(found, `no mail ${subject} to ${to}: ${sink.received.map((m) => m.parsed.subject).join(' / ')}`);
        return { text: String(found.parsed.text), html: String(found.parsed.html) };
      };
      const winBack = mail(1, /^It has been a while/).text;
      // 180 points at 1p each; Blue may take Free shipping (60) and £5 off (100) now; 10% off (250) needs 70 more.
      assert.match(winBack, /What you are missing/);
      assert.match(winBack, /You have 180 points \(£1\.80\) as a Blue member\./);
      assert.match(winBack, /Free shipping: yours now for 60 points/);
      assert.match(winBack, /£5 off: yours now for 100 points/);
      assert.match(winBack, /10% off: 70 more points to go/);
      assert.match(winBack, /Darjeeling \[[^\]]+\] £12\.99\s+Because you bought Assam/);
      assert.match(winBack, /Oolong \[[^\]]+\] £9\.00\s+Because you bought Assam/);
      assert.match(winBack, /New since your last visit\s+Hojicha \[[^\]]+\] £11\.00/);
      const cart7 = mail(7, /^You left something/);
      assert.match(cart7.text, /Darjeeling 100 g \[[^\]]+\] · Qty 2 · £12\.99/);
      assert.match(cart7.html, /src="https:\/\/cdn\.example\/darj\.jpg"/);
      // Customer 10 has only a phone: the SMS version of the reminder, naming the first item and the rest.
      const text10 = sms.received.find((r) => r.to === '+447700900010');
      assert.ok(text10, JSON.stringify(sms.received));
      assert.match(
        String(text10.text),
        /^Tea & Co: Darjeeling 100 g and 2 more are waiting for you\. https:\/\/shop\.example Stop: https:\/\/shop\.example\/comeback\/m\/u\/\S+$/,
      );
      const review = mail(9, /^How was your order/);
      assert.match(review.text, /what you thought of Darjeeling and Oolong: a review takes\s+a minute/);
      assert.ok(sink.received.some((m) => m.parsed.subject === 'How was your order #1002?'));
    });
  });
}
