import { Type } from '@fastify/type-provider-typebox';
import { defaultAsOf } from '../../analytics/index.js';
import { messagingSettings, signLink, verifyLink, webUrlProblem } from '../../campaigns/index.js';
import { ComebackError } from '../../errors.js';
import {
  answerSurveyLink,
  checkAnswer,
  feedbackDb,
  feedbackReport,
  issueSurveyLink,
  latestFeedbackEnd,
  loadSurvey,
  openReviewLink,
  openSurveyLink,
  productRatings,
  recordResponse,
  saveSurvey,
  signPageLink,
  submitReview,
  verifyPageLink,
} from '../../feedback/index.js';
import {
  applyPreferences,
  CHANNELS,
  consentLedger,
  messagePage,
  optInDonePage,
  optInPage,
  optInUsedPage,
  type PageLang,
  type PreferenceChange,
  type PreferenceNotice,
  pageLang,
  preferencePage,
  preferencesOf,
  type Refusal,
  refusedPage,
  reviewPage,
  rewardsPage,
  type StoreLink,
  surveyPage,
  TEXT,
  TOPICS,
  withStoreLink,
} from '../../hosted/index.js';
import { findProgram, memberAsOf } from '../../loyalty/index.js';
import { immediateTransaction } from '../../store/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { CUSTOMER_FIELDS, customerOfBody } from '../customer-body.js';
import { dateQuery, endDateQuery } from '../schemas.js';
import { storeZone } from '../store-zone.js';
import { confirmOptIn, type OptInRefusal, openOptIn } from '../storefront-opt-in.queries.js';

/** The HTTP status of a refused customer link: forged 400, unknown 404, answered 409, expired 410. */
export function refusalStatus(reason: Refusal): number {
  return reason === 'expired' ? 410 : reason === 'used' ? 409 : reason === 'unknown_link' ? 404 : 400;
}

/** Reads an `application/x-www-form-urlencoded` body (kept as text by the scope's parser). */
function formOf(body: unknown): Record<string, string> {
  if (typeof body !== 'string') return {};
  return Object.fromEntries(new URLSearchParams(body));
}

type Reply = {
  code(n: number): Reply;
  type(t: string): Reply;
  header(k: string, v: string): Reply;
  send(b: string): unknown;
};
const sendPage = (reply: Reply, status: number, body: string) =>
  reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

/**
 * The customer's survey and review pages, public and signed: `GET /s/:token` shows a survey,
 * `POST /s/:token` answers it once (a second answer 409, an expired link 410, a forged one 400);
 * `GET /r/:token` lists an order's products to review, `POST /r/:token` reviews one (once per product).
 */
export function registerSurveyPageRoutes(app: ApiApp, deps: RouteDeps & { linkSecret: string }): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_r, body, done) => done(null, body),
  );
  const params = Type.Object({ token: Type.String({ minLength: 10, maxLength: 2000 }) });
  const querystring = Type.Object({ lang: Type.Optional(Type.String({ maxLength: 5 })) });
  const langOf = (request: { query: { lang?: string }; headers: Record<string, unknown> }): PageLang =>
    pageLang(request.query.lang, request.headers['accept-language'] as string | undefined);
  const db = deps.store.db;
  const schema = { hide: true, params, querystring };
  // "Back to the store" on the pages a customer lands on, once the store's address is set.
  const storeLink = async (): Promise<StoreLink | null> => {
    const settings = await messagingSettings(db);
    const url = settings.storeUrl;
    return url && !webUrlProblem(url, { loopbackHttp: false }) ? { name: settings.storeName, url } : null;
  };
  const storePage = async (lang: PageLang, page: string) => withStoreLink(page, lang, await storeLink());

  app.get('/s/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const opened = await openSurveyLink(db, deps.linkSecret, request.params.token, deps.now());
    if (!opened.ok) return sendPage(reply, refusalStatus(opened.reason), refusedPage(lang, opened.reason));
    return sendPage(reply, 200, surveyPage(lang, opened.open.survey, `/s/${request.params.token}?lang=${lang}`));
  });
  app.post('/s/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const given = formOf(request.body);
    const result = await answerSurveyLink(db, deps.linkSecret, request.params.token, given, deps.now());
    if (result.ok) {
      const t = TEXT[lang];
      return sendPage(
        reply,
        200,
        await storePage(
          lang,
          messagePage(
            lang,
            result.survey.title[lang],
            result.points > 0 ? [t.thanks, t.points(result.points)] : [t.thanks],
          ),
        ),
      );
    }
    if (result.reason === 'bad_answer') {
      const opened = await openSurveyLink(db, deps.linkSecret, request.params.token, deps.now());
      if (!opened.ok) return sendPage(reply, refusalStatus(opened.reason), refusedPage(lang, opened.reason));
      return sendPage(
        reply,
        400,
        surveyPage(lang, opened.open.survey, `/s/${request.params.token}?lang=${lang}`, given, result.problems),
      );
    }
    return sendPage(reply, refusalStatus(result.reason), refusedPage(lang, result.reason));
  });

  app.get('/r/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const opened = await openReviewLink(db, deps.linkSecret, request.params.token, deps.now());
    if (!opened.ok) return sendPage(reply, refusalStatus(opened.reason), refusedPage(lang, opened.reason));
    return sendPage(reply, 200, reviewPage(lang, opened.open.items, `/r/${request.params.token}?lang=${lang}`));
  });
  app.post('/r/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const form = formOf(request.body);
    const productId = /^\d{1,15}$/.test(form.product ?? '') ? Number(form.product) : -1;
    const result = await submitReview(
      db,
      deps.linkSecret,
      request.params.token,
      { productId, rating: form.rating, body: form.body },
      deps.now(),
    );
    const t = TEXT[lang];
    if (!result.ok && result.reason !== 'bad_input' && result.reason !== 'not_in_order')
      return sendPage(reply, refusalStatus(result.reason), refusedPage(lang, result.reason));
    const opened = await openReviewLink(db, deps.linkSecret, request.params.token, deps.now());
    if (!opened.ok) return sendPage(reply, refusalStatus(opened.reason), refusedPage(lang, opened.reason));
    const action = `/r/${request.params.token}?lang=${lang}`;
    if (!result.ok) {
      // The English `message` is for the API: the page says it in its own language.
      const text = result.reason !== 'bad_input' ? t.notInOrder : result.field === 'body' ? t.tooLong : t.ratingNeeded;
      return sendPage(reply, 400, reviewPage(lang, opened.open.items, action, { tone: 'error', text }));
    }
    const text = result.points > 0 ? `${t.reviewed} ${t.points(result.points)}` : t.reviewed;
    return sendPage(
      reply,
      200,
      await storePage(lang, reviewPage(lang, opened.open.items, action, { tone: 'ok', text })),
    );
  });

  // The storefront's double opt-in: GET shows the address and a button (mail scanners that open links
  // change nothing), POST confirms once; forged 400, unknown 404, used 409, expired 410.
  const optInRefused = (reply: Reply, lang: PageLang, reason: OptInRefusal) =>
    sendPage(reply, refusalStatus(reason), reason === 'used' ? optInUsedPage(lang) : refusedPage(lang, reason));
  app.get('/o/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const opened = await openOptIn(db, deps.linkSecret, request.params.token, deps.now());
    if (!opened.ok) return optInRefused(reply, lang, opened.reason);
    return sendPage(reply, 200, optInPage(lang, opened.email, `/o/${request.params.token}?lang=${lang}`));
  });
  app.post('/o/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const done = await confirmOptIn(db, deps.linkSecret, request.params.token, {
      now: deps.now(),
      userIdSource: deps.userIdSource,
    });
    if (!done.ok) return optInRefused(reply, lang, done.reason);
    deps.segments.touch([done.customerId]);
    return sendPage(reply, 200, await storePage(lang, optInDonePage(lang)));
  });

  // The preference centre opens with a campaigns `preferences` link (as in every marketing message).
  app.get('/p/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const verified = verifyLink(deps.linkSecret, request.params.token, 'preferences', deps.now());
    if (!verified.ok) return sendPage(reply, refusalStatus(verified.reason), refusedPage(lang, verified.reason));
    const prefs = await preferencesOf(db, verified.claims.c, deps.now());
    return sendPage(
      reply,
      200,
      await storePage(lang, preferencePage(lang, prefs, `/p/${request.params.token}?lang=${lang}`)),
    );
  });
  app.post('/p/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const now = deps.now();
    const verified = verifyLink(deps.linkSecret, request.params.token, 'preferences', now);
    if (!verified.ok) return sendPage(reply, refusalStatus(verified.reason), refusedPage(lang, verified.reason));
    const form = formOf(request.body);
    const customerId = verified.claims.c;
    let change: PreferenceChange;
    let notice: PreferenceNotice;
    if (form.do === 'unsubscribe_all' || form['List-Unsubscribe'] === 'One-Click') {
      change = { type: 'unsubscribe_all' };
      notice = 'unsubscribed';
    } else if (form.do === 'pause' || form.do === 'resume') {
      change = { type: form.do };
      notice = form.do === 'pause' ? 'paused' : 'resumed';
    } else if (form.do === 'save') {
      change = {
        type: 'save',
        channels: Object.fromEntries(CHANNELS.map((c) => [c, form[`channel_${c}`] === '1'])) as Record<
          (typeof CHANNELS)[number],
          boolean
        >,
        topics: Object.fromEntries(TOPICS.map((x) => [x, form[`topic_${x}`] === '1'])) as Record<
          (typeof TOPICS)[number],
          boolean
        >,
      };
      notice = 'saved';
    } else {
      return sendPage(reply, 400, refusedPage(lang, 'malformed'));
    }
    await applyPreferences(db, customerId, change, { source: 'preference_centre', now });
    const prefs = await preferencesOf(db, customerId, now);
    return sendPage(
      reply,
      200,
      await storePage(lang, preferencePage(lang, prefs, `/p/${request.params.token}?lang=${lang}`, notice)),
    );
  });

  app.get('/w/:token', { config: { access: 'public' }, schema }, async (request, reply) => {
    const lang = langOf(request);
    const now = deps.now();
    const verified = verifyPageLink(deps.linkSecret, request.params.token, 'rewards', now);
    if (!verified.ok) return sendPage(reply, refusalStatus(verified.reason), refusedPage(lang, verified.reason));
    const program = await findProgram(db);
    // As every face reads a member: forward to the latest ledger entry when that is later than now (an
    // entry made as of today is dated at the day's last millisecond: its points and its credit both count).
    const status = program
      ? (await memberAsOf(db, program, verified.claims.c, now, { given: false, timeZone: 'UTC', entries: 20 }))?.status
      : undefined;
    return sendPage(reply, 200, await storePage(lang, rewardsPage(lang, status, program?.config)));
  });
}

/**
 * The feedback API under `/api/v1`: `POST /survey-responses` (write) stores answers collected
 * elsewhere, once per `id`; `POST /surveys` (admin) saves a definition; `POST /survey-links` (write)
 * issues a signed link (survey or review); `GET /feedback/report` (read) and `GET /products/ratings`.
 */
export function registerFeedbackRoutes(app: ApiApp, deps: RouteDeps & { linkSecret: string }): void {
  const db = deps.store.db;
  app.post(
    '/survey-responses',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Store an answer collected elsewhere (once per id)',
        tags: ['feedback'],
        body: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 200 }),
          survey: Type.String({ minLength: 1, maxLength: 40 }),
          ...CUSTOMER_FIELDS,
          answers: Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 2000 }), Type.Number()])),
          answeredAt: Type.Optional(Type.String({ format: 'date-time' })),
          context: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request, reply) => {
      const now = deps.now();
      const body = request.body;
      const survey = await loadSurvey(db, body.survey, now);
      if (!survey) throw new ComebackError('bad_input', `no survey ${body.survey}`, { location: { field: 'survey' } });
      const customerId = await customerOfBody(db, body);
      const checked = checkAnswer(survey, body.answers);
      if (!checked.ok) {
        const p = checked.problems[0]!;
        throw new ComebackError('bad_input', p.message, { location: { field: `answers.${p.path}` } });
      }
      const answeredAt = body.answeredAt === undefined ? now : Date.parse(body.answeredAt);
      if (!Number.isFinite(answeredAt) || answeredAt > now)
        throw new ComebackError('bad_input', 'an instant not in the future', { location: { field: 'answeredAt' } });
      const stored = await immediateTransaction(feedbackDb(db), (trx) =>
        recordResponse(trx, {
          survey,
          customerId,
          responseKey: `api:${survey.key}:${body.id}`,
          source: 'api',
          answer: checked.answer,
          context: body.context ?? null,
          answeredAt,
        }),
      );
      return reply.code(stored.created ? 201 : 200).send(stored);
    },
  );
  app.post(
    '/surveys',
    {
      config: { access: 'admin' },
      schema: { summary: 'Save a survey definition (validated; errors name the field)', tags: ['feedback'] },
    },
    async (request) => {
      const saved = await saveSurvey(db, request.body, deps.now());
      if (!saved.ok) {
        const p = saved.problems[0]!;
        throw new ComebackError('bad_input', p.message, { location: { field: p.path } });
      }
      return saved.survey;
    },
  );
  app.post(
    '/survey-links',
    {
      config: { access: 'write' },
      schema: {
        summary:
          'Issue a signed per-customer link to a survey, or to review an order (survey "review", orderId or orderNumber)',
        tags: ['feedback'],
        body: Type.Object({
          survey: Type.String({ minLength: 1, maxLength: 40 }),
          ...CUSTOMER_FIELDS,
          orderId: Type.Optional(Type.Integer({ minimum: 1, description: 'Comeback’s id of the order' })),
          orderNumber: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 100,
              description: 'or the store’s own order id, as imported (a leading # is optional)',
            }),
          ),
          context: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request) => {
      const now = deps.now();
      const { survey, orderNumber } = request.body;
      const customerId = await customerOfBody(db, request.body);
      let orderId = request.body.orderId;
      if (orderNumber !== undefined) {
        if (orderId !== undefined) {
          throw new ComebackError('bad_input', 'give orderId or orderNumber, not both', {
            location: { field: 'orderNumber' },
          });
        }
        // The store's number as its customers know it, with or without Shopify's leading '#'.
        const bare = orderNumber.trim().replace(/^#/, '');
        const found = await db
          .selectFrom('orders')
          .select('id')
          .where('customer_id', '=', customerId)
          .where('external_id', 'in', [bare, `#${bare}`])
          .execute();
        if (found.length !== 1) {
          throw new ComebackError(
            'bad_input',
            found.length === 0
              ? `no order ${orderNumber} of customer ${customerId}`
              : `${found.length} orders of customer ${customerId} are numbered ${orderNumber}: give orderId`,
            { location: { field: 'orderNumber' } },
          );
        }
        orderId = Number(found[0]!.id);
      }
      if (survey !== 'review' && !(await loadSurvey(db, survey, now)))
        throw new ComebackError('bad_input', `no survey ${survey}`, { location: { field: 'survey' } });
      if (survey === 'review') {
        const order =
          orderId === undefined
            ? undefined
            : await db.selectFrom('orders').select('customer_id').where('id', '=', orderId).executeTakeFirst();
        if (!order || order.customer_id !== customerId) {
          throw new ComebackError(
            'bad_input',
            orderId === undefined
              ? 'a review link needs the order: orderId (Comeback’s) or orderNumber (the store’s)'
              : `no order ${orderId} of customer ${customerId} (Comeback’s order id; the store’s number goes in orderNumber)`,
            { location: { field: 'orderId' } },
          );
        }
      }
      const context = orderId !== undefined ? `order:${orderId}` : request.body.context;
      const link = await issueSurveyLink(db, deps.linkSecret, { surveyKey: survey, customerId, context, now });
      return { ...link, path: `/${survey === 'review' ? 'r' : 's'}/${link.token}` };
    },
  );
  app.get(
    '/feedback/report',
    {
      config: { access: 'read' },
      schema: {
        summary: 'NPS with its interval and trend, CSAT, response rates, exit reasons, comments, reviews',
        tags: ['feedback'],
        querystring: Type.Object({
          from: Type.Optional(Type.String({ description: 'YYYY-MM-DD, inclusive' })),
          asOf: Type.Optional(
            Type.String({
              description: 'YYYY-MM-DD, inclusive (default: the day of the latest answer, review or sale)',
            }),
          ),
        }),
      },
    },
    async (request) => {
      // Days of the store's zone, as everywhere: from is the local midnight starting its day.
      const timeZone = await storeZone(db);
      const asOf =
        endDateQuery(request.query.asOf, 'asOf', timeZone) ??
        (await latestFeedbackEnd(db, timeZone, await defaultAsOf(db, undefined, timeZone))) ??
        deps.now();
      const from = dateQuery(request.query.from, 'from', timeZone);
      return feedbackReport(db, { asOf, ...(from !== undefined ? { from } : {}) });
    },
  );
  app.post(
    '/customer-links',
    {
      config: { access: 'write' },
      schema: {
        summary: 'A signed link to a customer’s preference centre or rewards page (valid `days`, default 90)',
        tags: ['feedback'],
        body: Type.Object({
          ...CUSTOMER_FIELDS,
          page: Type.Union([Type.Literal('preferences'), Type.Literal('rewards')]),
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
        }),
      },
    },
    async (request) => {
      const now = deps.now();
      const { page, days = 90 } = request.body;
      const customerId = await customerOfBody(db, request.body);
      const e = now + days * 86_400_000;
      const token =
        page === 'preferences'
          ? signLink(deps.linkSecret, { c: customerId, p: 'preferences', e })
          : signPageLink(deps.linkSecret, { c: customerId, p: 'rewards', e });
      return { token, expiresAt: e, path: `/${page === 'preferences' ? 'p' : 'w'}/${token}` };
    },
  );
  app.get(
    '/customers/:id/consent-ledger',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Every consent change of a customer, with its source, oldest first',
        tags: ['feedback'],
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      },
    },
    async (request) => ({ changes: await consentLedger(db, request.params.id) }),
  );
  app.get(
    '/products/ratings',
    {
      config: { access: 'read' },
      schema: { summary: 'Average rating and review count per reviewed product', tags: ['feedback'] },
    },
    async () => ({ ratings: [...(await productRatings(db)).values()] }),
  );
}
