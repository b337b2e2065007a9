import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../src/api/build-app.js';
import { messageLinkSecret } from '../src/api/keys.queries.js';
import {
  installBuiltins,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
  workerTick,
} from '../src/campaigns/index.js';
import { feedbackDb } from '../src/feedback/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { addOrder, addProductLine } from './loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from './setup.js';
import { startSmtpSink } from './smtp-sink.js';

/**
 * The post-purchase messages carry signed per-customer links: the built-in review request links the
 * order's review page (`links.review`), a CSAT flow after an order links the CSAT survey about it
 * (`links.csat`). The links in the mails that a real SMTP server received open the pages over HTTP,
 * and an answer is stored once.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 11); // a Monday, 11:00 UTC
const form = { 'content-type': 'application/x-www-form-urlencoded' };

for (const dialect of DIALECTS) {
  describe(`review and CSAT links after an order on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('the links in the sent mails open the pages and answer once', async () => {
      const t = await freshDatabase(dialect.name);
      const sink = await startSmtpSink();
      let clock = T0;
      const app = await buildApp({ store: t.store, now: () => clock, rateLimit: false });
      const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, maxConnections: 1 });
      try {
        const db = t.store.db;
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        await saveMessagingSettings(db, { storeName: 'Tea & Co', publicUrl: base, fromEmail: 'hi@tea.example' });
        await installBuiltins(db, T0 - DAY);
        assert.equal(await setFlowEnabled(db, 'review-request', true, T0 - DAY), true);
        await saveTemplate(
          db,
          {
            key: 'order-csat',
            channel: 'email',
            purpose: 'transactional',
            subject: 'How did we do?',
            body: '<mjml><mj-body><mj-section><mj-column><mj-text>Rate your order: <a href="{{ links.csat }}">1 to 5</a></mj-text></mj-column></mj-section></mj-body></mjml>',
          },
          T0 - DAY,
        );
        const csatFlow = validateFlow({
          key: 'order-csat',
          name: 'CSAT after an order',
          trigger: { type: 'order' },
          steps: [{ id: 'ask', type: 'send', channels: ['email'], template: 'order-csat', purpose: 'transactional' }],
        });
        assert.ok(csatFlow.ok, JSON.stringify(csatFlow));
        await saveFlow(db, csatFlow.flow, T0 - DAY);
        assert.equal(await setFlowEnabled(db, 'order-csat', true, T0 - DAY), true);

        await addCustomer(db, 1, T0 - 100 * DAY, { email: 'mina@example.com', first_name: 'Mina' });
        await db
          .insertInto('customer_consents')
          .values({ customer_id: 1, channel: 'email', granted: 1, updated_at: T0 - 50 * DAY, source: 'test' })
          .execute();
        const orderId = await addOrder(db, { customerId: 1, placedAt: T0 - 60_000, subtotalMinor: 1200 });
        const product = {
          id: await addProductLine(db, { orderId: orderId, sku: 'TEA-1', title: 'Green tea', priceMinor: 1200 }),
        };

        const linkSecret = await messageLinkSecret(db);
        const tick = (now: number) => {
          clock = now;
          return workerTick(db, { now: () => clock, random: () => 0.5, linkSecret, senders: { email } });
        };
        // Enter both flows, then move on: the CSAT goes at once, the review request 10 days later at the next 10:00
        // (the order was placed at 10:59 on 1 June: 12 June, 10:00 UTC).
        for (let i = 0; i < 3; i++) await tick(T0 + i * 60_000);
        await sink.waitFor(1);
        for (let i = 0; i < 3; i++) await tick(T0 + 11 * DAY + i * 60_000);
        await sink.waitFor(2);
        assert.equal(sink.received.length, 2);
        const textOf = (subject: RegExp) => {
          const mail = sink.received.find((m) => subject.test(m.parsed.subject ?? ''));
          assert.ok(mail, `a mail ${subject}`);
          return `${mail.parsed.text ?? ''}\n${typeof mail.parsed.html === 'string' ? mail.parsed.html : ''}`;
        };
        const escaped = base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        const csatUrl = new RegExp(`${escaped}/s/[A-Za-z0-9_.-]+`).exec(textOf(/How did we do/))?.[0];
        const reviewUrl = new RegExp(`${escaped}/r/[A-Za-z0-9_.-]+`).exec(textOf(/How was your order/))?.[0];
        assert.ok(csatUrl, 'the CSAT mail carries the CSAT link');
        assert.ok(reviewUrl, 'the review request carries the review link');
        // Only the links a template reads are issued: one review link and one CSAT link in all.
        const links = await feedbackDb(db).selectFrom('survey_links').select(['survey_key', 'context']).execute();
        assert.deepEqual(links.map((l) => `${l.survey_key}|${l.context}`).sort(), [
          `csat|order:${orderId}`,
          `review|order:${orderId}`,
        ]);

        clock = T0 + 12 * DAY;
        const reviewPage = await fetch(reviewUrl);
        const reviewHtml = await reviewPage.text();
        assert.equal(reviewPage.status, 200, reviewHtml);
        assert.match(reviewHtml, /Green tea/);
        for (let i = 0; i < 2; i++) {
          const posted = await fetch(reviewUrl, {
            method: 'POST',
            headers: form,
            body: `product=${product.id}&rating=5&body=${encodeURIComponent('Lovely tea')}`,
          });
          assert.ok(posted.status === 200 || posted.status === 409, String(posted.status));
        }
        const reviews = await feedbackDb(db).selectFrom('product_reviews').select(['rating', 'order_id']).execute();
        assert.deepEqual(reviews, [{ rating: 5, order_id: orderId }], 'one review for the product and order');

        const csatPage = await fetch(csatUrl);
        assert.equal(csatPage.status, 200);
        const first = await fetch(csatUrl, { method: 'POST', headers: form, body: 'score=4' });
        assert.equal(first.status, 200);
        const again = await fetch(csatUrl, { method: 'POST', headers: form, body: 'score=1' });
        assert.equal(again.status, 409, 'a link answers once');
        const answers = await feedbackDb(db)
          .selectFrom('survey_responses')
          .select(['survey_key', 'score', 'context', 'customer_id'])
          .execute();
        assert.deepEqual(answers, [{ survey_key: 'csat', score: 4, context: `order:${orderId}`, customer_id: 1 }]);
        // A forged link is refused.
        const forged = await fetch(`${csatUrl.slice(0, -2)}xx`);
        assert.equal(forged.status, 400);
      } finally {
        await email.close?.();
        await app.close();
        await sink.close();
        await t.drop();
      }
    });
  });
}
