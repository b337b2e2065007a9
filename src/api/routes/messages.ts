import { Type } from '@fastify/type-provider-typebox';
import {
  applyDeliveryReceipt,
  CHANNELS,
  createCampaign,
  flowReport,
  installBuiltins,
  listFlows,
  loadFlow,
  recordTracking,
  sendCampaign,
  setFlowEnabled,
  unsubscribeByToken,
} from '../../campaigns/index.js';
import { TOPICS } from '../../hosted/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';
import { signingKey } from '../keys.queries.js';
import { dateQuery, endDateQuery } from '../schemas.js';
import { storeZone } from '../store-zone.js';
import { registerOutreachRoutes } from './outreach.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const TEXT = {
  en: {
    title: 'Unsubscribe',
    ask: 'Stop marketing messages from this store on this channel?',
    button: 'Unsubscribe',
    done: 'You are unsubscribed. You will not receive marketing messages on this channel any more.',
    already: 'You were already unsubscribed.',
    refused: 'This link is not valid (it may have expired). Use the newest message you received.',
  },
  ko: {
    title: '수신 거부',
    ask: '이 채널로 오는 광고성 메시지를 더 이상 받지 않으시겠어요?',
    button: '수신 거부',
    done: '수신 거부가 완료되었습니다. 이 채널로 광고성 메시지를 더 보내지 않습니다.',
    already: '이미 수신 거부된 상태입니다.',
    refused: '유효하지 않은 링크입니다(만료되었을 수 있습니다). 가장 최근에 받은 메시지의 링크를 이용해 주세요.',
  },
} as const;

function page(lang: 'en' | 'ko', body: string): string {
  const t = TEXT[lang];
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${t.title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.75rem 1.25rem;border-radius:.5rem;border:0;background:#18181b;color:#fff;min-height:44px}</style>
</head><body><h1>${t.title}</h1>${body}</body></html>`;
}

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function languageOf(accept: string | undefined): 'en' | 'ko' {
  return /^\s*ko\b/i.test(accept ?? '') ? 'ko' : 'en';
}

/**
 * Hosted message links, public and signed: `GET /m/u/:token` shows the unsubscribe page (GET never
 * changes anything), `POST /m/u/:token` unsubscribes (the page's button, and RFC 8058 one-click from the
 * mail client's `List-Unsubscribe-Post`). A repeat answers "already done"; forged or expired links 400.
 */
export function registerMessageLinkRoutes(app: ApiApp, deps: RouteDeps & { linkSecret: string }): void {
  // RFC 8058: the one-click POST is multipart/form-data or urlencoded; its body says nothing more than
  // `List-Unsubscribe=One-Click`, so it is read as text and not used.
  for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => done(null, body));
  }
  const params = Type.Object({ token: Type.String({ minLength: 10, maxLength: 2000 }) });
  app.get('/m/u/:token', { config: { access: 'public' }, schema: { hide: true, params } }, async (request, reply) => {
    const lang = languageOf(request.headers['accept-language']);
    const t = TEXT[lang];
    return reply
      .type('text/html')
      .header('cache-control', 'no-store')
      .send(
        page(
          lang,
          `<p>${t.ask}</p><form method="post" action="/m/u/${escapeHtml(request.params.token)}"><button type="submit">${t.button}</button></form>`,
        ),
      );
  });
  // The open pixel: always a transparent GIF (a mail client shows nothing either way); valid tokens count.
  app.get('/m/o/:token', { config: { access: 'public' }, schema: { hide: true, params } }, async (request, reply) => {
    await recordTracking(deps.store.db, deps.linkSecret, request.params.token, 'open', deps.now());
    return reply.type('image/gif').header('cache-control', 'no-store').send(PIXEL);
  });
  // A click: the target is inside the signed token, so only links the store sent redirect anywhere.
  app.get('/m/c/:token', { config: { access: 'public' }, schema: { hide: true, params } }, async (request, reply) => {
    const result = await recordTracking(deps.store.db, deps.linkSecret, request.params.token, 'click', deps.now());
    if (!result.ok || result.url === null) {
      const lang = languageOf(request.headers['accept-language']);
      return reply
        .code(400)
        .type('text/html')
        .send(page(lang, `<p>${TEXT[lang].refused}</p>`));
    }
    return reply.header('cache-control', 'no-store').redirect(result.url, 302);
  });
  // SMS delivery receipts from the provider, signed over the raw body (`x-comeback-signature: sha256=…`)
  // under the receipts' own key, never the link secret.
  const receiptKey = signingKey(deps.linkSecret, 'sms-receipts');
  app.register(async (receipts) => {
    receipts.removeAllContentTypeParsers();
    receipts.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) =>
      done(null, body),
    );
    receipts.post('/m/r/sms', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const signature = request.headers['x-comeback-signature'];
      const result = await applyDeliveryReceipt(
        deps.store.db,
        receiptKey,
        raw,
        typeof signature === 'string' ? signature : undefined,
        deps.now(),
      );
      if (!result.ok) {
        const status = result.reason === 'forged' ? 401 : result.reason === 'unknown_message' ? 404 : 400;
        return reply.code(status).send({
          error: { code: result.reason, message: `receipt refused: ${result.reason}`, field: result.field ?? null },
        });
      }
      return result;
    });
  });
  app.post('/m/u/:token', { config: { access: 'public' }, schema: { hide: true, params } }, async (request, reply) => {
    const lang = languageOf(request.headers['accept-language']);
    const t = TEXT[lang];
    const result = await unsubscribeByToken(deps.store.db, deps.linkSecret, request.params.token, deps.now());
    if (!result.ok)
      return reply
        .code(400)
        .type('text/html')
        .send(page(lang, `<p>${t.refused}</p>`));
    return reply.type('text/html').send(page(lang, `<p>${result.alreadyDone ? t.already : t.done}</p>`));
  });
}

/**
 * `GET /api/v1/flows` (installs the built-in flows first, off, as the CLI does), `GET /flows/:key` and
 * `GET /flows/:key/report`: flows and their lift (read scope); `POST /flows/:key/enable|disable`
 * (write scope) turn one on or off and answer `{ key, enabled, changed }`; an unknown key is a 404.
 */
export function registerFlowRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/flows',
    { config: { access: 'read' }, schema: { summary: 'Every flow, on or off', tags: ['flows'] } },
    async () => {
      await installBuiltins(deps.store.db, deps.now());
      return { flows: await listFlows(deps.store.db) };
    },
  );
  for (const action of ['enable', 'disable'] as const) {
    app.post(
      `/flows/:key/${action}`,
      {
        config: { access: 'write' },
        schema: {
          summary: action === 'enable' ? 'Turn a flow on' : 'Turn a flow off',
          tags: ['flows'],
          params: Type.Object({ key: Type.String({ maxLength: 64 }) }),
        },
      },
      async (request) => {
        const enabled = action === 'enable';
        const changed = await setFlowEnabled(deps.store.db, request.params.key, enabled, deps.now());
        return { key: request.params.key, enabled, changed };
      },
    );
  }
  app.get(
    '/flows/:key',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A flow’s current definition',
        tags: ['flows'],
        params: Type.Object({ key: Type.String({ maxLength: 64 }) }),
      },
    },
    async (request) => {
      const flow = await loadFlow(deps.store.db, request.params.key);
      return { ...flow };
    },
  );
  app.get(
    '/flows/:key/report',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Treated against held-out entrants, with 95 % intervals',
        tags: ['flows'],
        params: Type.Object({ key: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ asOf: Type.Optional(Type.String({ description: 'YYYY-MM-DD, inclusive' })) }),
      },
    },
    async (request) =>
      flowReport(
        deps.store.db,
        request.params.key,
        endDateQuery(request.query.asOf, 'asOf', await storeZone(deps.store.db)) ?? deps.now(),
      ),
  );

  registerCampaignRoutes(app, deps);
  registerOutreachRoutes(app, deps);
}

/**
 * One-off campaigns: `GET /api/v1/campaigns` (read) lists them; `POST /campaigns` (write) creates one or
 * saves a change `{ key, segment, templates: [A] | [A, B], split?, channels?, holdoutShare?,
 * attributionDays?, topic?, name? }`; `POST /campaigns/:key/send` (write) `{ at? }` enters the segment's members
 * now or at an ISO instant; `GET /campaigns/:key/report` (read) is the flows report with each variant's lift.
 */
function registerCampaignRoutes(app: ApiApp, deps: RouteDeps): void {
  const key = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 });
  app.get(
    '/campaigns',
    { config: { access: 'read' }, schema: { summary: 'Every one-off campaign', tags: ['campaigns'] } },
    async () => ({ campaigns: (await listFlows(deps.store.db)).filter((f) => f.kind === 'campaign') }),
  );
  app.post(
    '/campaigns',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Create a campaign to a saved segment (or save a change as a new version)',
        tags: ['campaigns'],
        body: Type.Object(
          {
            key,
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            segment: Type.String({ minLength: 1, maxLength: 200 }),
            templates: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 2 }),
            split: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
            channels: Type.Optional(
              Type.Array(Type.Union(CHANNELS.map((c) => Type.Literal(c))), { minItems: 1, uniqueItems: true }),
            ),
            holdoutShare: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5 })),
            attributionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })),
            topic: Type.Optional(Type.Union(TOPICS.map((t) => Type.Literal(t)))),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      await installBuiltins(deps.store.db, deps.now());
      const saved = await createCampaign(deps.store.db, request.body, deps.now());
      return reply.code(saved.created ? 201 : 200).send({ ...saved.campaign, created: saved.created });
    },
  );
  app.post(
    '/campaigns/:key/send',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Send a campaign now or at an instant',
        tags: ['campaigns'],
        params: Type.Object({ key: Type.String({ maxLength: 64 }) }),
        body: Type.Optional(
          Type.Object({ at: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false }),
        ),
      },
    },
    async (request) => {
      // Read as every date parameter is: an instant with an offset as it is, a day or wall time in the store's zone.
      const at = dateQuery(request.body?.at, 'at', await storeZone(deps.store.db));
      const now = deps.now();
      return sendCampaign(deps.store.db, request.params.key, { now, ...(at !== undefined ? { at } : {}) });
    },
  );
  app.get(
    '/campaigns/:key/report',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Treated against held-out entrants, and each variant’s lift, with 95 % intervals',
        tags: ['campaigns'],
        params: Type.Object({ key: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ asOf: Type.Optional(Type.String({ description: 'YYYY-MM-DD, inclusive' })) }),
      },
    },
    async (request) =>
      flowReport(
        deps.store.db,
        request.params.key,
        endDateQuery(request.query.asOf, 'asOf', await storeZone(deps.store.db)) ?? deps.now(),
      ),
  );
}
