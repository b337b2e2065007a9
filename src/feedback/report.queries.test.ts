import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addCustomer, addOrder } from '../../test/loyalty-fixtures.js';
import { runCli } from '../../test/run-cli.js';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import type { Db } from '../store/index.js';
import { feedbackReport } from './report.queries.js';
import { submitReview } from './reviews.queries.js';
import { answerSurveyLink, issueSurveyLink } from './surveys.queries.js';

const NOW = Date.parse('2026-06-01T10:00:00Z');
const DAY = 86_400_000;
const SECRET = 'report-secret';

/** An order of two products for the customer, returning the order and product ids. */
async function orderOfTwo(db: Db, customerId: number, tag: string): Promise<{ orderId: number; products: number[] }> {
  const orderId = await addOrder(db, { customerId, placedAt: NOW - 10 * DAY, subtotalMinor: 2000 });
  const products: number[] = [];
  for (const n of [1, 2]) {
    const p = await db
      .insertInto('products')
      .values({ sku: `${tag}-${n}`, title: `${tag} ${n}` } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    products.push(Number(p.id));
    await db
      .insertInto('order_lines')
      .values({
        order_id: orderId,
        line_no: n,
        product_id: p.id,
        sku: `${tag}-${n}`,
        title: `${tag} ${n}`,
        quantity: 1,
        unit_price_minor: 1000,
        discount_minor: 0,
        total_minor: 1000,
        kind: 'product',
      })
      .execute();
  }
  return { orderId, products };
}

for (const dialect of DIALECTS) {
  describe(`response rates on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('a review link is answered when a review of its order was posted through it', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // Three review links; four reviews posted through two of them (two products each); the third unused.
        const links: Array<{ customer: number; orderId: number }> = [];
        for (const tag of ['A', 'B', 'C']) {
          const customer = await addCustomer(db, { email: `${tag}@example.com`, at: NOW - 100 * DAY });
          const { orderId, products } = await orderOfTwo(db, customer, tag);
          const { token } = await issueSurveyLink(db, SECRET, {
            surveyKey: 'review',
            customerId: customer,
            context: `order:${orderId}`,
            now: NOW,
          });
          links.push({ customer, orderId });
          if (tag === 'C') continue;
          for (const [i, productId] of products.entries()) {
            const done = await submitReview(db, SECRET, token, { productId, rating: 4 + i }, NOW + (i + 1) * 1000);
            assert.equal(done.ok && done.created, true, JSON.stringify(done));
          }
        }
        // A CSAT link answered and one not: survey links still count by their use.
        const csatCustomer = await addCustomer(db, { email: 'csat@example.com', at: NOW - 100 * DAY });
        const csat = await issueSurveyLink(db, SECRET, { surveyKey: 'csat', customerId: csatCustomer, now: NOW });
        await issueSurveyLink(db, SECRET, { surveyKey: 'csat', customerId: csatCustomer, now: NOW });
        const answered = await answerSurveyLink(db, SECRET, csat.token, { score: 5 }, NOW + 500);
        assert.equal(answered.ok, true, JSON.stringify(answered));

        // Two NPS answers: one passive (7), one detractor (3).
        for (const [i, score] of [7, 3].entries()) {
          const c = await addCustomer(db, { email: `nps${i}@example.com`, at: NOW - 100 * DAY });
          const nps = await issueSurveyLink(db, SECRET, { surveyKey: 'nps', customerId: c, now: NOW });
          const done = await answerSurveyLink(db, SECRET, nps.token, { score }, NOW + 600);
          assert.equal(done.ok, true, JSON.stringify(done));
        }

        const report = await feedbackReport(db, { asOf: NOW + DAY });
        assert.deepEqual(report.responseRates, [
          { survey: 'csat', issued: 2, answered: 1, rate: 0.5 },
          { survey: 'nps', issued: 2, answered: 2, rate: 1 },
          { survey: 'review', issued: 3, answered: 2, rate: 2 / 3 },
        ]);
        assert.equal(report.reviews.count, 4);
        // Before the first review (posted at NOW + 1 s) no review link is answered yet.
        const early = await feedbackReport(db, { asOf: NOW + 1000 });
        assert.deepEqual(
          early.responseRates.find((r) => r.survey === 'review'),
          { survey: 'review', issued: 3, answered: 0, rate: 0 },
        );
        // A link issued after its order's reviews were posted is not answered by them.
        const first = links[0]!;
        await issueSurveyLink(db, SECRET, {
          surveyKey: 'review',
          customerId: first.customer,
          context: `order:${first.orderId}`,
          now: NOW + 10_000,
        });
        const later = await feedbackReport(db, { asOf: NOW + DAY });
        assert.deepEqual(
          later.responseRates.find((r) => r.survey === 'review'),
          { survey: 'review', issued: 4, answered: 2, rate: 0.5 },
        );

        const cli = await runCli('feedback', 'report', '--db', t.url, '--as-of', '2026-06-02');
        assert.equal(cli.code, 0, cli.err);
        assert.match(cli.out, /review\s+4\s+2\s+50\.0 %/);
        // Counts of one are singular.
        assert.match(cli.out, /from 2 answers: 0 promoters, 1 passive, 1 detractor\b/);
        assert.match(cli.out, /CSAT 100\.0 % satisfied \(4–5\), mean 5\.00 of 5, from 1 answer\b/);
      } finally {
        await t.drop();
      }
    });
  });
}
