import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { answerSurveyLink, feedbackDb, issueSurveyLink, saveSurvey, submitReview } from '../src/feedback/index.js';
import { enrolMember, saveProgram } from '../src/loyalty/index.js';
import { type Db, isPostgres } from '../src/store/index.js';
import { addCustomer, addOrder, addProductLine, testProgramConfig } from './loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

// A survey answer (custom survey with points) and a product review are credited their loyalty points in
// the answer's own transaction: when the credit fails (here a trigger on the ledger stands in for a crash
// between the two writes), nothing of the answer is kept either, the link still answers, and answering
// again stores the answer with its points, once.

const NOW = Date.parse('2026-06-01T10:00:00Z');
const DAY = 86_400_000;
const SECRET = 'atomic-points-secret';

/** Makes every ledger insert fail, as a crash between the answer and its credit would. */
async function breakLedger(db: Db): Promise<void> {
  if (isPostgres(db)) {
    await sql`create function ledger_crash() returns trigger language plpgsql as $$ begin raise exception 'simulated crash'; end $$`.execute(
      db,
    );
    await sql`create trigger ledger_crash before insert on loyalty_ledger for each row execute function ledger_crash()`.execute(
      db,
    );
  } else {
    await sql`create trigger ledger_crash before insert on loyalty_ledger begin select raise(abort, 'simulated crash'); end`.execute(
      db,
    );
  }
}

async function mendLedger(db: Db): Promise<void> {
  await sql`drop trigger ledger_crash${isPostgres(db) ? sql` on loyalty_ledger` : sql``}`.execute(db);
  if (isPostgres(db)) await sql`drop function ledger_crash()`.execute(db);
}

async function ledgerOf(db: Db, customerId: number, rule: string): Promise<number[]> {
  const rows = await db
    .withTables<{ loyalty_ledger: { customer_id: number; rule: string; amount: number } }>()
    .selectFrom('loyalty_ledger')
    .select('amount')
    .where('customer_id', '=', customerId)
    .where('rule', '=', rule)
    .execute();
  return rows.map((r) => r.amount);
}

for (const dialect of DIALECTS) {
  describe(`survey and review points are credited with the answer, atomically (${dialect.name})`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    let customer = 0;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      const program = await saveProgram(db, testProgramConfig(), { now: NOW - 30 * DAY });
      customer = await addCustomer(db, { email: 'pts@example.com' });
      assert.ok((await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY })).ok);
    });
    after(async () => {
      await t.drop();
    });

    test('a custom survey: a failed credit keeps no answer and leaves the link open; answered again, answer and points together', async () => {
      const db = t.store.db;
      const saved = await saveSurvey(
        db,
        {
          key: 'needs',
          kind: 'custom',
          title: { en: 'What do you need?', ko: '무엇이 필요하세요?' },
          questions: [{ id: 'wish', type: 'text', label: { en: 'Tell us', ko: '알려 주세요' }, required: true }],
          linkDays: 30,
          points: 40,
        },
        NOW - DAY,
      );
      assert.ok(saved.ok, JSON.stringify(saved));
      const link = await issueSurveyLink(db, SECRET, { surveyKey: 'needs', customerId: customer, now: NOW });
      await breakLedger(db);
      await assert.rejects(
        answerSurveyLink(db, SECRET, link.token, { wish: 'bigger mugs' }, NOW + 1),
        /simulated crash/,
      );
      const responses = () => feedbackDb(db).selectFrom('survey_responses').select('survey_key').execute();
      assert.deepEqual(await responses(), [], 'no answer without its points');
      const usedAt = async () =>
        (await feedbackDb(db).selectFrom('survey_links').select('used_at').executeTakeFirstOrThrow()).used_at;
      assert.equal(await usedAt(), null, 'the link still answers');
      assert.deepEqual(await ledgerOf(db, customer, 'adjust'), []);
      await mendLedger(db);
      const answered = await answerSurveyLink(db, SECRET, link.token, { wish: 'bigger mugs' }, NOW + 2);
      assert.ok(answered.ok, JSON.stringify(answered));
      assert.equal(answered.points, 40);
      assert.deepEqual(
        (await responses()).map((r) => r.survey_key),
        ['needs'],
      );
      assert.equal(Number(await usedAt()), NOW + 2);
      assert.deepEqual(await ledgerOf(db, customer, 'adjust'), [40]);
      const again = await answerSurveyLink(db, SECRET, link.token, { wish: 'again' }, NOW + 3);
      assert.deepEqual(again, { ok: false, reason: 'used' });
      assert.deepEqual(await ledgerOf(db, customer, 'adjust'), [40], 'credited once');
    });

    test('a review: a failed credit keeps no review; submitted again, review and points together, once', async () => {
      const db = t.store.db;
      const orderId = await addOrder(db, { customerId: customer, placedAt: NOW - 10 * DAY, subtotalMinor: 2000 });
      const product = {
        id: await addProductLine(db, { orderId: orderId, sku: 'MUG', title: 'Blue mug', priceMinor: 2000 }),
      };
      const { token } = await issueSurveyLink(db, SECRET, {
        surveyKey: 'review',
        customerId: customer,
        context: `order:${orderId}`,
        now: NOW,
      });
      const input = { productId: Number(product.id), rating: '5', body: 'Lovely' };
      await breakLedger(db);
      await assert.rejects(submitReview(db, SECRET, token, input, NOW + 10), /simulated crash/);
      const reviews = () => feedbackDb(db).selectFrom('product_reviews').select(['rating', 'body']).execute();
      assert.deepEqual(await reviews(), [], 'no review without its points');
      const reviewed = () => db.selectFrom('events').select('event').where('event', '=', 'Product Reviewed').execute();
      assert.deepEqual(await reviewed(), [], 'nor its event');
      await mendLedger(db);
      assert.deepEqual(await submitReview(db, SECRET, token, input, NOW + 20), { ok: true, created: true, points: 20 });
      assert.deepEqual(await submitReview(db, SECRET, token, input, NOW + 30), { ok: true, created: false, points: 0 });
      assert.deepEqual(await reviews(), [{ rating: 5, body: 'Lovely' }]);
      assert.equal((await reviewed()).length, 1);
      assert.deepEqual(await ledgerOf(db, customer, 'review'), [20]);
    });
  });
}
