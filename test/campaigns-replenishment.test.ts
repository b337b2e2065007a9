import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  builtinFlows,
  enrolNewEntrants,
  installBuiltins,
  saveFlow,
  saveMessagingSettings,
  setFlowEnabled,
  smtpSender,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { ProductWriter } from '../src/ingest/index.js';
import { buildRecommendations, replenishmentState } from '../src/recommend/index.js';
import type { Db } from '../src/store/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
/** Customer 4 last bought the coffee here; every customer who repeats does so after 30 days. */
const LAST = at('2026-05-01T15:00:00Z');
/** LAST + 30 days is 2026-05-31T15:00Z: the due day 2026-05-31 starts at midnight UTC. */
const DUE_DAY = at('2026-05-31T00:00:00Z');

let n = 0;
async function buy(db: Db, customerId: number, productId: number, placedAt: number) {
  n += 1;
  const row = await db
    .insertInto('orders')
    .values({
      source: 'test',
      external_id: `r-${n}`,
      customer_id: customerId,
      email: null,
      placed_at: placedAt,
      placed_offset: 0,
      placed_date: new Date(placedAt).toISOString().slice(0, 10),
      currency: 'GBP',
      subtotal_minor: 1200,
      shipping_minor: 0,
      tax_minor: 0,
      discount_minor: 0,
      total_minor: 1200,
      refunded_minor: 0,
      status: 'paid',
      discount_codes: '[]',
      country: 'GB',
      cancelled_at: null,
      imported_at: placedAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('order_lines')
    .values({
      order_id: row.id,
      line_no: 1,
      product_id: productId,
      sku: 'COFFEE',
      title: 'Coffee',
      quantity: 1,
      unit_price_minor: 1200,
      discount_minor: 0,
      total_minor: 1200,
      kind: 'product',
    })
    .execute();
}

test('the due day starts at midnight UTC of last + cycle; more than two cycles after the last purchase the need has ended', () => {
  assert.deepEqual(replenishmentState(LAST, 30, DUE_DAY - 1), { state: 'not_yet', dueOn: '2026-05-31' });
  assert.deepEqual(replenishmentState(LAST, 30, DUE_DAY), { state: 'due', dueOn: '2026-05-31' });
  assert.deepEqual(replenishmentState(LAST, 30, LAST + 60 * DAY), { state: 'due', dueOn: '2026-05-31' });
  assert.deepEqual(replenishmentState(LAST, 30, LAST + 60 * DAY + 1), { state: 'ended', dueOn: '2026-05-31' });
});

for (const dialect of DIALECTS) {
  describe(`the replenishment_due trigger and its built-in flow (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      const db = t.store.db;
      await saveMessagingSettings(db, {
        publicUrl: 'https://shop.example/comeback',
        storeName: 'Bean & Co',
        storeUrl: 'https://shop.example',
        cap: null,
        quietHours: null,
      });
      await new ProductWriter(db, 'test', at('2026-01-01T00:00:00Z')).write([
        {
          sku: 'COFFEE',
          title: 'Coffee',
          tags: [],
          status: 'active',
          priceMinor: 1200,
          currency: 'GBP',
          url: 'https://shop.example/p/coffee',
          imageUrl: 'https://cdn.example/coffee.jpg',
          category: 'coffee',
        },
      ]);
      const coffee = Number(
        (await db.selectFrom('products').select('id').where('sku', '=', 'COFFEE').executeTakeFirstOrThrow()).id,
      );
      for (let id = 1; id <= 6; id++) {
        await addCustomer(db, id, at('2026-01-01T00:00:00Z'), { email: `c${id}@example.com`, country: 'GB' });
        await db
          .insertInto('customer_consents')
          .values({
            customer_id: id,
            channel: 'email',
            granted: 1,
            updated_at: at('2026-01-01T00:00:00Z'),
            source: 'test',
          })
          .execute();
      }
      // 1–3 buy again after exactly 30 days, as 4 does: every gap is 30 days, so the median cycle is 30.
      for (const id of [1, 2, 3]) {
        await buy(db, id, coffee, at('2026-02-01T12:00:00Z'));
        await buy(db, id, coffee, at('2026-03-03T12:00:00Z'));
      }
      await buy(db, 4, coffee, LAST - 30 * DAY);
      await buy(db, 4, coffee, LAST);
      // 5 last bought 60 days and 1 hour before the day before the due day: ended by then. 6 exactly
      // 60 days before the due day: still due on it (not more than two cycles).
      await buy(db, 5, coffee, at('2026-03-31T23:00:00Z'));
      await buy(db, 6, coffee, at('2026-04-01T00:00:00Z'));
      const build = await buildRecommendations(db, { asOf: LAST + DAY, now: LAST + DAY });
      assert.ok(build.buildId > 0);
      await installBuiltins(db, LAST + DAY);
      const flow = builtinFlows().find((f) => f.key === 'replenishment')!;
      await saveFlow(db, { ...flow, holdoutShare: 0 }, LAST + DAY);
      await setFlowEnabled(db, 'replenishment', true, LAST + DAY);
    });
    after(async () => {
      await sink?.close();
      await t?.drop();
    });

    test('enters on the due day and not the day before, once per due date, never for an ended need', async () => {
      const db = t.store.db;
      const journeys = async () =>
        (
          await campaignDb(db)
            .selectFrom('journeys')
            .select(['customer_id', 'occurrence'])
            .orderBy('customer_id')
            .execute()
        ).map((j) => [j.customer_id, j.occurrence.replace(/:\d+:/, ':P:')]);
      await enrolNewEntrants(db, DUE_DAY - 1000);
      assert.deepEqual(await journeys(), [[6, 'replenishment:P:2026-05-01']], 'the day before: only 6, due since May');
      const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const tick = await workerTick(db, {
        now: () => DUE_DAY,
        random: () => 0.5,
        linkSecret: 'replenish-secret',
        senders: { email },
      });
      assert.deepEqual(tick.enrolled, { flows: 1, entered: 1, skipped: 1 });
      assert.deepEqual(await journeys(), [
        [4, 'replenishment:P:2026-05-31'],
        [6, 'replenishment:P:2026-05-01'],
      ]);
      assert.deepEqual((await enrolNewEntrants(db, DUE_DAY + 3_600_000)).entered, 0, 'once per due date');
      await email.close?.();
      const mail = sink.received.find((m) => m.envelopeTo[0] === 'c4@example.com');
      assert.ok(mail);
      assert.equal(mail.parsed.subject, 'Time to restock Coffee?');
      const text = String(mail.parsed.text);
      assert.match(text, /You usually buy Coffee about every 30 days; you last bought it on\s+2026-05-01\./);
      assert.match(text, /Buy it again \[https:\/\/shop\.example\/p\/coffee\]/);
      // The replenishment method: due when last + 30 days ≤ now + 7 days; 29 whole days since (29 d 9 h).
      assert.match(text, /Time to restock: usually every 30 days, last bought 29 days ago/);
      assert.ok(!sink.received.some((m) => m.envelopeTo[0] === 'c5@example.com'), 'an ended need is not chased');
    });
  });
}
