import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addCustomer, addOrder, addProductLine, testProgramConfig } from '../../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from '../../../test/setup.js';
import { feedbackDb, importFeedbackCsv, issueSurveyLink, signPageLink, verifyPageLink } from '../../feedback/index.js';
import { enrolMember, saveProgram } from '../../loyalty/index.js';
import { parseRule, selectByRule } from '../../segments/index.js';
import { buildApp } from '../build-app.js';
import { createApiKey, messageLinkSecret } from '../keys.queries.js';

const NOW = Date.parse('2026-06-01T10:00:00Z');
const DAY = 86_400_000;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

for (const dialect of DIALECTS) {
  describe(`surveys and reviews (${dialect.name})`, { skip: dialect.skip }, () => {
    test('a survey link answers once; forged, reused and expired links are refused; the answer reaches the timeline', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const customer = await addCustomer(db, { email: 'ann@example.com' });
        const secret = await messageLinkSecret(db);
        const link = await issueSurveyLink(db, secret, { surveyKey: 'nps', customerId: customer, now: NOW });

        const shown = await app.inject({ method: 'GET', url: `/s/${link.token}?lang=ko` });
        assert.equal(shown.statusCode, 200);
        assert.match(shown.body, /추천하실 가능성/);
        assert.doesNotMatch(shown.body, /<script/i, 'no scripts in a hosted page');

        const bad = await app.inject({ method: 'POST', url: `/s/${link.token}`, headers: form, payload: 'score=11' });
        assert.equal(bad.statusCode, 400, 'an out-of-range score is asked again');
        assert.match(bad.body, /<p class="error">Please choose a number from 0 to 10\.<\/p>/);
        // The Korean page says what is missing in Korean, not the API's English message.
        const none = await app.inject({
          method: 'POST',
          url: `/s/${link.token}?lang=ko`,
          headers: form,
          payload: 'comment=',
        });
        assert.equal(none.statusCode, 400, 'no score is asked again');
        assert.match(none.body, /<p class="error" role="alert">표시된 항목을 다시 확인해 주세요\.<\/p>/);
        assert.match(none.body, /<p class="error">답변을 선택하거나 입력해 주세요\.<\/p>/);
        assert.doesNotMatch(none.body, /an answer is needed/);
        const outOfRange = await app.inject({
          method: 'POST',
          url: `/s/${link.token}?lang=ko`,
          headers: form,
          payload: 'score=11',
        });
        assert.match(outOfRange.body, /<p class="error">0부터 10까지 중에서 선택해 주세요\.<\/p>/);
        assert.doesNotMatch(outOfRange.body, /whole number/);

        const answered = await app.inject({
          method: 'POST',
          url: `/s/${link.token}`,
          headers: form,
          payload: 'score=3&comment=%3Cb%3Eslow%20delivery%3C%2Fb%3E',
        });
        assert.equal(answered.statusCode, 200);
        assert.match(answered.body, /Thank you/);

        const again = await app.inject({ method: 'POST', url: `/s/${link.token}`, headers: form, payload: 'score=10' });
        assert.equal(again.statusCode, 409, 'one answer per link');
        assert.match(again.body, /already been answered/);
        assert.match(again.body, /<title>Already answered<\/title>/);
        const againKo = await app.inject({ method: 'GET', url: `/s/${link.token}?lang=ko` });
        assert.equal(againKo.statusCode, 409);
        assert.match(againKo.body, /<title>이미 응답하셨습니다<\/title>/);
        assert.match(againKo.body, /:lang\(ko\)\{word-break:keep-all/, 'Korean lines break between words');
        assert.equal((await app.inject({ method: 'GET', url: `/s/${link.token}` })).statusCode, 409);

        const forged = await app.inject({
          method: 'POST',
          url: `/s/${link.token.slice(0, -3)}abc`,
          headers: form,
          payload: 'score=9',
        });
        assert.equal(forged.statusCode, 400);
        // Another customer's id under the same link id: the signature no longer matches.
        const [payload] = link.token.split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
        const tampered = `${Buffer.from(JSON.stringify({ ...claims, c: customer + 1 })).toString('base64url')}.${link.token.split('.')[1]}`;
        assert.equal((await app.inject({ method: 'GET', url: `/s/${tampered}` })).statusCode, 400);

        const late = await issueSurveyLink(db, secret, {
          surveyKey: 'csat',
          customerId: customer,
          now: NOW - 14 * DAY,
        });
        const expired = await app.inject({
          method: 'POST',
          url: `/s/${late.token}`,
          headers: form,
          payload: 'score=5',
        });
        assert.equal(expired.statusCode, 410, 'CSAT links last 14 days: issued 14 days ago it has just expired');
        assert.match(expired.body, /expired/);
        const fresh = await issueSurveyLink(db, secret, {
          surveyKey: 'csat',
          customerId: customer,
          now: NOW - 14 * DAY + 1,
        });
        assert.equal(
          (await app.inject({ method: 'GET', url: `/s/${fresh.token}` })).statusCode,
          200,
          'one ms before expiry it opens',
        );

        // A rewards token cannot open a survey, nor a token for a link id that was never issued.
        const wrong = signPageLink(secret, { c: customer, p: 'rewards', e: NOW + DAY });
        assert.equal((await app.inject({ method: 'GET', url: `/s/${wrong}` })).statusCode, 400);
        const unknown = signPageLink(secret, { c: customer, p: 'survey', l: 'nope', e: NOW + DAY });
        assert.equal((await app.inject({ method: 'GET', url: `/s/${unknown}` })).statusCode, 404);

        const responses = await feedbackDb(db).selectFrom('survey_responses').selectAll().execute();
        assert.equal(responses.length, 1);
        assert.equal(responses[0]!.score, 3);
        assert.equal(responses[0]!.comment, '<b>slow delivery</b>');
        const events = await db
          .selectFrom('events')
          .select(['event', 'properties'])
          .where('customer_id', '=', customer)
          .orderBy('id')
          .execute();
        assert.deepEqual(
          events.map((e) => e.event),
          ['Survey Answered', 'NPS Detractor'],
          'the answer is on the timeline and a detractor emits the event flows trigger on',
        );
        assert.equal(JSON.parse(events[0]!.properties).group, 'detractor');

        const story = await app.inject({
          method: 'GET',
          url: `/api/v1/customers/${customer}`,
          headers: { authorization: `Bearer ${(await createApiKey(db, { scope: 'read', now: NOW })).key}` },
        });
        assert.match(story.body, /Survey Answered/);
      } finally {
        await app.close();
        await t.drop();
      }
    });

    test('NPS report: empty says so, one answer and all passives give an interval, not a point', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const key = (await createApiKey(db, { scope: 'admin', now: NOW })).key;
        const auth = { authorization: `Bearer ${key}` };
        const report = async (asOf = '2026-06-01') =>
          (await app.inject({ method: 'GET', url: `/api/v1/feedback/report?asOf=${asOf}`, headers: auth })).json();
        const empty = await report();
        assert.equal(empty.nps.nps, null);
        assert.equal(empty.nps.interval, null);
        assert.equal(empty.nps.note, 'no_answers');
        assert.equal(empty.csat.csat, null);

        const customers = [];
        for (let i = 0; i < 10; i++) customers.push(await addCustomer(db, { email: `c${i}@example.com` }));
        const post = (id: string, customerId: number, score: number, at: string) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/survey-responses',
            headers: auth,
            payload: { id, survey: 'nps', customerId, answers: { score }, answeredAt: at },
          });
        assert.equal((await post('one', customers[0]!, 10, '2026-04-10T09:00:00Z')).statusCode, 201);
        assert.equal(
          (await post('one', customers[0]!, 10, '2026-04-10T09:00:00Z')).statusCode,
          200,
          'a retry stores nothing',
        );
        const latest = (await app.inject({ method: 'GET', url: '/api/v1/feedback/report', headers: auth })).json();
        assert.deepEqual(
          [latest.asOf, latest.nps.answers],
          [Date.UTC(2026, 3, 11), 1],
          'by default, up to the end of the day of the latest answer',
        );
        const one = await report('2026-04-30');
        // One promoter: NPS 100. Adjusted Wald (Rocks 2016) by hand: n' = 4, pP = 1.75/4 = 0.4375,
        // pD = 0.75/4 = 0.1875, d = 0.25, var = (0.625 − 0.0625)/4 = 0.140625, SE = 0.375;
        // 0.25 ± 1.959964 × 0.375 = [−0.484986, 0.984986], extended to the NPS it would leave out: [−48.4986, 100].
        assert.equal(one.nps.answers, 1);
        assert.equal(one.nps.nps, 100);
        assert.ok(Math.abs(one.nps.interval.low - -48.4986) < 1e-3, String(one.nps.interval.low));
        assert.equal(one.nps.interval.high, 100);
        assert.equal(one.nps.note, 'small_sample');

        // Ten passives in May (7s and 8s): NPS 0; n' = 13, pP = pD = 0.75/13, var = (1.5/13)/13,
        // SE = 0.0942111; ± 1.959964 × SE = ± 0.184650.
        for (let i = 0; i < 10; i++)
          await post(`p${i}`, customers[i]!, 7 + (i % 2), `2026-05-0${(i % 9) + 1}T12:00:00Z`);
        const passives = await report('2026-06-01');
        const may = passives.npsTrend.find((m: { month: string }) => m.month === '2026-05');
        assert.equal(may.nps, 0);
        assert.equal(may.passives, 10);
        assert.ok(Math.abs(may.interval.low - -18.465) < 1e-2, String(may.interval.low));
        assert.ok(Math.abs(may.interval.high - 18.465) < 1e-2);
        assert.deepEqual(
          passives.npsTrend.map((m: { month: string }) => m.month),
          ['2026-04', '2026-05'],
        );
        // Overall 1 promoter, 10 passives: 100/11.
        assert.ok(Math.abs(passives.nps.nps - 100 / 11) < 1e-9);

        const badScore = await post('x', customers[1]!, 11, '2026-05-01T00:00:00Z');
        assert.equal(badScore.statusCode, 400);
        assert.equal(badScore.json().error.field, 'answers.score');
        const badSurvey = await app.inject({
          method: 'POST',
          url: '/api/v1/surveys',
          headers: auth,
          payload: {
            key: 'needs',
            kind: 'custom',
            title: { en: 'a', ko: 'ㄱ' },
            linkDays: 7,
            questions: [{ id: 'q', type: 'choice', label: { en: 'a', ko: 'ㄱ' } }],
          },
        });
        assert.equal(badSurvey.statusCode, 400);
        assert.equal(badSurvey.json().error.field, 'questions.0.options');
      } finally {
        await app.close();
        await t.drop();
      }
    });

    test('a review earns the program’s points once per product and order', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const program = await saveProgram(db, testProgramConfig(), { now: NOW - 30 * DAY });
        const customer = await addCustomer(db, { email: 'rev@example.com' });
        await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY });
        const orderId = await addOrder(db, { customerId: customer, placedAt: NOW - 10 * DAY, subtotalMinor: 2000 });
        const product = {
          id: await addProductLine(db, { orderId: orderId, sku: 'MUG', title: 'Blue mug', priceMinor: 2000 }),
        };
        const key = (await createApiKey(db, { scope: 'write', now: NOW })).key;
        const issued = await app.inject({
          method: 'POST',
          url: '/api/v1/survey-links',
          headers: { authorization: `Bearer ${key}` },
          payload: { survey: 'review', customerId: customer, orderId },
        });
        assert.equal(issued.statusCode, 200, issued.body);
        // The store's own order number (as imported, with or without '#') gives a link to the same order.
        const external = (
          await db.selectFrom('orders').select('external_id').where('id', '=', orderId).executeTakeFirstOrThrow()
        ).external_id;
        for (const orderNumber of [external, `#${external}`]) {
          const byNumber = await app.inject({
            method: 'POST',
            url: '/api/v1/survey-links',
            headers: { authorization: `Bearer ${key}` },
            payload: { survey: 'review', customerId: customer, orderNumber },
          });
          assert.equal(byNumber.statusCode, 200, byNumber.body);
          const byNumberPage = await app.inject({ method: 'GET', url: byNumber.json().path });
          assert.match(byNumberPage.body, /Blue mug/);
        }
        for (const [payload, field, message] of [
          [{ orderNumber: 'no-such-order' }, 'orderNumber', `no order no-such-order of customer ${customer}`],
          [{ orderNumber: external, orderId }, 'orderNumber', 'give orderId or orderNumber, not both'],
          [{}, 'orderId', 'a review link needs the order'],
        ] as const) {
          const refused = await app.inject({
            method: 'POST',
            url: '/api/v1/survey-links',
            headers: { authorization: `Bearer ${key}` },
            payload: { survey: 'review', customerId: customer, ...payload },
          });
          assert.equal(refused.statusCode, 400, refused.body);
          assert.equal(refused.json().error.field, field, refused.body);
          assert.match(refused.json().error.message, new RegExp(message));
        }
        const path: string = issued.json().path;
        const page = await app.inject({ method: 'GET', url: path });
        assert.match(page.body, /Blue mug/);
        // No star chosen: refused in the page's language and in the error style, nothing stored.
        for (const [lang, text] of [
          ['ko', '별점을 1~5개 중에서 선택해 주세요.'],
          ['en', 'Please choose a rating from 1 to 5 stars.'],
        ] as const) {
          const unrated = await app.inject({
            method: 'POST',
            url: `${path}?lang=${lang}`,
            headers: form,
            payload: `product=${product.id}&body=Lovely`,
          });
          assert.equal(unrated.statusCode, 400, lang);
          assert.ok(unrated.body.includes(`<p class="error" role="alert">${text}</p>`), unrated.body);
          assert.doesNotMatch(unrated.body, /whole number|class="ok"/);
        }
        const first = await app.inject({
          method: 'POST',
          url: path,
          headers: form,
          payload: `product=${product.id}&rating=4&body=Lovely`,
        });
        assert.equal(first.statusCode, 200);
        assert.match(first.body, /20 points/);
        const second = await app.inject({
          method: 'POST',
          url: path,
          headers: form,
          payload: `product=${product.id}&rating=1&body=again`,
        });
        assert.equal(second.statusCode, 200);
        assert.doesNotMatch(second.body, /points have been added/);
        const ledger = await db
          .withTables<{ loyalty_ledger: { customer_id: number; rule: string; amount: number } }>()
          .selectFrom('loyalty_ledger')
          .select(['amount'])
          .where('customer_id', '=', customer)
          .where('rule', '=', 'review')
          .execute();
        assert.deepEqual(
          ledger.map((l) => l.amount),
          [20],
          'one review credit',
        );
        const reviews = await feedbackDb(db).selectFrom('product_reviews').select(['rating', 'body']).execute();
        assert.deepEqual(reviews, [{ rating: 4, body: 'Lovely' }], 'the first review stands');
        const outside = await app.inject({ method: 'POST', url: path, headers: form, payload: 'product=999&rating=5' });
        assert.equal(outside.statusCode, 400);
      } finally {
        await app.close();
        await t.drop();
      }
    });

    test('CSV import: all or nothing with FILE:LINE: field: reason, a re-run adds nothing', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        const a = await addCustomer(db, { email: 'a@example.com' });
        await addCustomer(db, { email: 'b@example.com' });
        const good =
          'survey,customer,answered_at,score,reason,comment\nnps,a@example.com,2026-03-01,9,,great\nexit,b@example.com,2026-03-02,,too_expensive,\ncsat,' +
          a +
          ',2026-03-03T10:00:00Z,2,,late\n';
        const first = await importFeedbackCsv(db, good, { file: 'answers.csv', now: NOW });
        assert.deepEqual(first, { rows: 3, created: 3, existing: 0 });
        const again = await importFeedbackCsv(db, good, { file: 'answers.csv', now: NOW });
        assert.deepEqual(again, { rows: 3, created: 0, existing: 3 });
        const bad =
          'survey,customer,answered_at,score,reason\nnps,a@example.com,2026-03-01,8,\nexit,b@example.com,2026-03-02,,bored\n';
        await assert.rejects(
          importFeedbackCsv(db, bad, { file: 'bad.csv', now: NOW }),
          (e: Error & { describe(): string }) => {
            assert.match(e.describe(), /^bad\.csv:3: reason: one of too_expensive/);
            return true;
          },
        );
        const count = await feedbackDb(db)
          .selectFrom('survey_responses')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(count.n), 3, 'nothing partial');
        // The store's own customer id, as on the command line: bare or as source:id; an unknown one is
        // refused naming the line and the field, and nothing is written.
        await db
          .insertInto('customer_identities')
          .values({ source: 'shop', external_id: 'B-77', customer_id: a })
          .execute();
        const byStoreId = 'survey,customer,answered_at,score\nnps,B-77,2026-03-04,10\nnps,shop:B-77,2026-03-05,7\n';
        assert.deepEqual(await importFeedbackCsv(db, byStoreId, { file: 'ids.csv', now: NOW }), {
          rows: 2,
          created: 2,
          existing: 0,
        });
        await assert.rejects(
          importFeedbackCsv(db, 'survey,customer,answered_at,score\nnps,B-78,2026-03-04,10\n', {
            file: 'x.csv',
            now: NOW,
          }),
          (e: Error & { describe(): string }) => {
            assert.match(e.describe(), /^x\.csv:2: customer: no customer "B-78"/);
            return true;
          },
        );
        await feedbackDb(db)
          .deleteFrom('survey_responses')
          .where('answered_at', '>=', Date.UTC(2026, 2, 4))
          .execute();
        // Segment rules read the feedback fields as of a date: A's latest CSAT is 2, B left as too expensive.
        const asOf = NOW;
        const pick = async (rule: unknown) => selectByRule(db, parseRule(rule), { asOf });
        assert.deepEqual(await pick({ feedback: 'nps_group', op: 'eq', value: 'promoter' }), [a]);
        assert.deepEqual(await pick({ feedback: 'last_csat', op: 'lte', value: 2 }), [a]);
        assert.deepEqual(await pick({ feedback: 'last_csat', op: 'lte', value: 1 }), []);
        assert.deepEqual(await pick({ feedback: 'exit_reason', op: 'in', value: ['too_expensive'] }), [a + 1]);
        assert.deepEqual(
          await pick({ feedback: 'nps_group', op: 'neq', value: 'promoter' }),
          [a + 1],
          'no answer is "not equal"',
        );
        assert.deepEqual(await pick({ feedback: 'review_count', op: 'gte', value: 0 }), [a, a + 1]);
        assert.deepEqual(
          await selectByRule(db, parseRule({ feedback: 'nps_group', op: 'exists', value: true }), {
            asOf: Date.parse('2026-03-01T00:00:00Z'),
          }),
          [],
          'an answer given on 1 March is not there before it',
        );
        assert.throws(() => parseRule({ feedback: 'mood', op: 'eq', value: 'x' }), /must be one of nps_group/);
        const alerts = await db.selectFrom('events').select('event').where('event', '=', 'Low CSAT').execute();
        assert.equal(alerts.length, 1, 'a CSAT of 2 emits Low CSAT');
      } finally {
        await t.drop();
      }
    });

    test('preference centre: channels and topics, pause for 30 days, unsubscribe from everything, all in the consent ledger', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const customer = await addCustomer(db, { email: 'pref@example.com' });
        await db
          .insertInto('customer_consents')
          .values({ customer_id: customer, channel: 'email', granted: 1, updated_at: 0, source: 'import' })
          .execute();
        const auth = { authorization: `Bearer ${(await createApiKey(db, { scope: 'write', now: NOW })).key}` };
        const link = await app.inject({
          method: 'POST',
          url: '/api/v1/customer-links',
          headers: auth,
          payload: { customerId: customer, page: 'preferences' },
        });
        const path: string = link.json().path;
        // Another page is refused naming the pages there are.
        const other = await app.inject({
          method: 'POST',
          url: '/api/v1/customer-links',
          headers: auth,
          payload: { customerId: customer, page: 'other' },
        });
        assert.equal(other.statusCode, 400);
        assert.deepEqual(other.json().error, {
          code: 'bad_input',
          message: 'page: must be one of preferences, rewards',
          field: 'page',
        });
        // By the store's own id, bare or with its source, or by e-mail: the same customer's link. An unknown
        // id, both fields or neither are refused naming the field.
        await db
          .insertInto('customer_identities')
          .values({ source: 'shop', external_id: 'C-9', customer_id: customer })
          .execute();
        const linkFor = (payload: Record<string, unknown>) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/customer-links',
            headers: auth,
            payload: { page: 'rewards', ...payload },
          });
        for (const ref of ['C-9', 'shop:C-9', 'pref@example.com', `#${customer}`]) {
          const named = await linkFor({ customer: ref });
          assert.equal(named.statusCode, 200, named.body);
          const claims = verifyPageLink(await messageLinkSecret(db), named.json().token, 'rewards', NOW);
          assert.equal(claims.ok && claims.claims.c, customer, ref);
        }
        const refusals = [
          [{ customer: 'C-10' }, 'customer', /no customer "C-10"/],
          [{ customer: 'C-9', customerId: customer }, 'customer', /not both/],
          [{}, 'customerId', /customerId or customer is required/],
          [{ customerId: 999_999 }, 'customerId', /no customer 999999/],
        ] as const;
        for (const [payload, field, message] of refusals) {
          const refused = await linkFor(payload);
          assert.equal(refused.statusCode, 400, JSON.stringify(payload));
          assert.equal(refused.json().error.field, field);
          assert.match(refused.json().error.message, message);
        }
        const page = await app.inject({ method: 'GET', url: `${path}?lang=ko` });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /메시지 수신 설정/);
        assert.match(page.body, /name="channel_email" value="1" checked/);

        const saved = await app.inject({
          method: 'POST',
          url: path,
          headers: form,
          payload: 'do=save&channel_email=1&channel_sms=1&topic_offers=1&topic_rewards=1&topic_surveys=1',
        });
        assert.equal(saved.statusCode, 200);
        const paused = await app.inject({ method: 'POST', url: path, headers: form, payload: 'do=pause' });
        assert.match(paused.body, /paused until 1 July 2026/, '30 days after 1 June');
        const all = await app.inject({ method: 'POST', url: path, headers: form, payload: 'do=unsubscribe_all' });
        assert.match(all.body, /unsubscribed from all/);
        const again = await app.inject({ method: 'POST', url: path, headers: form, payload: 'do=unsubscribe_all' });
        assert.equal(again.statusCode, 200);

        const ledger = await app.inject({
          method: 'GET',
          url: `/api/v1/customers/${customer}/consent-ledger`,
          headers: auth,
        });
        assert.deepEqual(
          ledger
            .json()
            .changes.map((c: { subject: string; granted: boolean; source: string }) => [
              c.subject,
              c.granted,
              c.source,
            ]),
          [
            ['sms', true, 'preference_centre'],
            ['topic:new_products', false, 'preference_centre'],
            ['pause', false, 'preference_centre'],
            ['email', false, 'preference_centre'],
            ['sms', false, 'preference_centre'],
            // Never answered before: "everything" stores a "no" on KakaoTalk too (the Korean exception reads it).
            ['kakao', false, 'preference_centre'],
          ],
          'only what changed is written, once; the second unsubscribe writes nothing',
        );
        const consents = await db
          .selectFrom('customer_consents')
          .select(['channel', 'granted', 'source'])
          .where('customer_id', '=', customer)
          .orderBy('channel')
          .execute();
        assert.deepEqual(consents, [
          { channel: 'email', granted: 0, source: 'preference_centre' },
          { channel: 'kakao', granted: 0, source: 'preference_centre' },
          { channel: 'sms', granted: 0, source: 'preference_centre' },
        ]);
        const forged = await app.inject({
          method: 'POST',
          url: `${path.slice(0, -2)}xx`,
          headers: form,
          payload: 'do=save',
        });
        assert.equal(forged.statusCode, 400);
      } finally {
        await app.close();
        await t.drop();
      }
    });

    test('rewards page: balance, tier and rewards of a member without a store login', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        const config = testProgramConfig();
        const trip = { key: 'trip', name: 'Trip', type: 'free_shipping' as const, cost: 1514, validDays: 30 };
        const program = await saveProgram(
          db,
          { ...config, rewards: [...config.rewards, trip] },
          { now: NOW - 30 * DAY },
        );
        const customer = await addCustomer(db, { email: 'member@example.com' });
        await enrolMember(db, program, { customerId: customer, now: NOW - 20 * DAY });
        const token = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW + DAY });
        const page = await app.inject({ method: 'GET', url: `/w/${token}` });
        assert.equal(page.statusCode, 200);
        // Sign-up earns 50 points: "Free shipping" (60) is 10 away, "£5 off" (100) 50 away.
        assert.match(page.body, /data-balance>50</);
        assert.match(page.body, /Blue/);
        assert.match(page.body, /10 more points needed/);
        // Points are grouped: the trip (1,514) is 1,464 away.
        assert.match(page.body, /1,464 more points needed/);
        assert.match(page.body, /450 more points to Gold/);
        const korean = await app.inject({ method: 'GET', url: `/w/${token}?lang=ko` });
        assert.match(korean.body, /1,464포인트 더 필요해요/);
        // Tiers count the points earned in the last 365 days, as the launcher does: a member whose
        // sign-up bonus (50) is 500 days old has earned 0 of Gold's 500 in the window, not 50.
        const veteran = await addCustomer(db, { email: 'veteran@example.com' });
        await enrolMember(db, program, { customerId: veteran, now: NOW - 500 * DAY });
        const veteranPage = await app.inject({
          method: 'GET',
          url: `/w/${signPageLink(await messageLinkSecret(db), { c: veteran, p: 'rewards', e: NOW + DAY })}`,
        });
        assert.match(veteranPage.body, /<p data-next-tier>500 more points to Gold<\/p>/);
        const expired = signPageLink(await messageLinkSecret(db), { c: customer, p: 'rewards', e: NOW });
        assert.equal((await app.inject({ method: 'GET', url: `/w/${expired}` })).statusCode, 410);
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}
