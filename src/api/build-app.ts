import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { ComebackError } from '../errors.js';
import { DEFAULT_USER_ID_SOURCE } from '../ingest/events.js';
import { fetchSender } from '../loyalty/index.js';
import { packageRoot } from '../shared/paths.js';
import type { Store } from '../store/index.js';
import type { ApiApp, RouteDeps } from './app.types.js';
import { authHook } from './auth.js';
import { installErrorHandler, notFoundBody } from './error-handler.js';
import { messageLinkSecret, readOrCreateSetting } from './keys.queries.js';
import { DEFAULT_RATE_LIMIT, MAX_JSON_DEPTH } from './limits.js';
import { registerCustomerRoutes } from './routes/customers.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerEventRoutes } from './routes/events.js';
import { registerFeedbackRoutes, registerSurveyPageRoutes } from './routes/feedback.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerLoyaltyRoutes } from './routes/loyalty.js';
import { registerFlowRoutes, registerMessageLinkRoutes } from './routes/messages.js';
import { registerMetricRoutes } from './routes/metrics.js';
import { registerOrderRoutes } from './routes/orders.js';
import { registerProductRoutes } from './routes/products.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerStatsRoutes } from './routes/stats.js';
import { registerShopifyWebhookRoutes } from './routes/webhooks.js';
import { ErrorBody } from './schemas.js';
import { SegmentRefresher } from './segment-refresher.js';

export { DEFAULT_RATE_LIMIT };

export interface BuildAppOptions {
  store: Store;
  /** The clock; tests pin it. */
  now?: () => number;
  /** The Shopify webhook secret (`COMEBACK_SHOPIFY_SECRET`); without it webhooks answer 401. */
  shopifySecret?: string;
  /** Requests per key (or per IP before authentication) per window; `false` turns limiting off. */
  rateLimit?: { max: number; timeWindowMs: number } | false;
  /** Segment `userId` identity source; default `api` (see recordEvents). */
  userIdSource?: string;
  /** The secret that signs dashboard sessions; default a random one kept in the database. */
  sessionSecret?: string;
  /** Where the built dashboard is; default `web/dist` of the package, served when it exists. */
  dashboardDir?: string;
  logger?: FastifyBaseLogger | false;
  /** How long after an order or event its customer's segments are refreshed (a burst costs one refresh). */
  segmentRefreshDelayMs?: number;
  /**
   * Behind a reverse proxy that terminates TLS: trust its `X-Forwarded-For` / `-Proto`, so that the
   * client's address is the real one (rate limits) and HTTPS is seen (the `Secure` cookie, HSTS).
   * `true` trusts any proxy; a string lists addresses or CIDRs (`127.0.0.1,10.0.0.0/8`). Default off.
   */
  trustProxy?: boolean | string;
  /** Where low NPS and CSAT answers are posted, signed with `secret` (X-Comeback-Signature); default none. */
  helpdeskWebhook?: { url: string; secret: string };
}

/**
 * Builds the HTTP API (REST under `/api/v1`, OpenAPI at `/docs/json`, a browsable reference at `/docs`)
 * and the dashboard at `/`. The caller listens (or calls `inject` in tests) and closes it; the store
 * stays the caller's to close.
 */
export async function buildApp({
  store,
  now = () => Date.now(),
  shopifySecret,
  rateLimit: limit = DEFAULT_RATE_LIMIT,
  userIdSource = DEFAULT_USER_ID_SOURCE,
  sessionSecret,
  dashboardDir = join(packageRoot(), 'web', 'dist'),
  logger = false,
  segmentRefreshDelayMs = 1000,
  trustProxy = false,
  helpdeskWebhook,
}: BuildAppOptions): Promise<ApiApp> {
  const app: ApiApp = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    trustProxy,
    // Segment batches reach 500 calls; their own limit is 500 KB, this leaves room.
    bodyLimit: 4 * 1024 * 1024,
    // Signed link tokens travel as path parameters (`/m/u/:token`), longer than Fastify's default 100.
    routerOptions: { maxParamLength: 1000 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const deps: RouteDeps = {
    store,
    now,
    userIdSource,
    shopifySecret: shopifySecret || undefined,
    sessionSecret:
      sessionSecret ??
      (await readOrCreateSetting(store.db, 'session_secret', () => randomBytes(32).toString('base64url'))),
    segments: new SegmentRefresher(store.db, now, segmentRefreshDelayMs, (error) =>
      app.log.error({ err: error }, 'segment refresh failed'),
    ),
  };
  app.decorate('segments', deps.segments);
  app.addHook('onClose', async () => deps.segments.flush());

  installErrorHandler(app);
  app.addSchema(ErrorBody);

  // Security headers on every answer: the dashboard and /docs load only their own scripts, no page may
  // frame them, no type sniffing, no referrer to other sites. HSTS only when the request came over HTTPS
  // (directly or, with trustProxy, through a proxy): over plain HTTP it would be ignored or wrong.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  // JSON nested deeper than any real payload is refused before a route walks it (recursion in
  // JSON.stringify or in a rule evaluator would overflow the stack and answer 500).
  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && jsonDepthExceeds(request.body, MAX_JSON_DEPTH)) {
      throw new ComebackError('bad_input', `body: nested deeper than ${MAX_JSON_DEPTH} levels`, {
        location: { field: 'body' },
      });
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Comeback API',
        version: '1',
        description:
          'Customer-retention engine: customers, orders, events (Segment-compatible), Shopify webhooks. ' +
          'Authenticate with `Authorization: Bearer cb_<scope>_…` (scopes read ⊂ write ⊂ admin) or the dashboard session cookie.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `comeback keys create`' },
          session: { type: 'apiKey', in: 'cookie', name: 'comeback_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  // staticCSP: the reference page's own inline script and style get hashes in its CSP.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.addHook('onRequest', authHook({ db: store.db, now, sessionSecret: deps.sessionSecret }));
  if (limit) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      // After authentication, so that the limit is per key; anonymous callers share their IP's.
      hook: 'preParsing',
      keyGenerator: (request) => {
        const who = request.principal;
        if (who?.kind === 'key') return `key:${who.keyId}`;
        if (who?.kind === 'session') return `user:${who.username}`;
        return `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) =>
        new ComebackError('rate_limited', `rate limit of ${context.max} requests per ${context.after} reached`),
    });
  }

  await app.register(
    async (api) => {
      registerHealthRoutes(api);
      registerSessionRoutes(api, deps);
      registerKeyRoutes(api, deps);
      registerStatsRoutes(api, deps);
      registerCustomerRoutes(api, deps);
      registerMetricRoutes(api, deps);
      registerOrderRoutes(api, deps);
      registerEventRoutes(api, deps);
      registerDashboardRoutes(api, deps);
      registerLoyaltyRoutes(api, deps);
      registerFlowRoutes(api, deps);
      registerProductRoutes(api, deps);
      // Its own scope: the webhook route reads JSON bodies as raw bytes to check their signature.
      await api.register(async (webhooks) => registerShopifyWebhookRoutes(webhooks, deps));
    },
    { prefix: '/api/v1' },
  );

  // Signed links in messages (unsubscribe), public, outside /api/v1 so that they stay short.
  const linkSecret = await messageLinkSecret(store.db);
  await app.register(async (links) => registerMessageLinkRoutes(links, { ...deps, linkSecret }));
  // The customer's pages (surveys, reviews, preferences, rewards) and the feedback API.
  const helpdesk = helpdeskWebhook ? { ...helpdeskWebhook, sender: fetchSender() } : undefined;
  await app.register(async (pages) => registerSurveyPageRoutes(pages, { ...deps, linkSecret, helpdesk }));
  await app.register(async (api) => registerFeedbackRoutes(api, { ...deps, linkSecret }), { prefix: '/api/v1' });

  const hasDashboard = existsSync(join(dashboardDir, 'index.html'));
  if (hasDashboard) {
    await app.register(fastifyStatic, { root: dashboardDir, wildcard: false });
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Comeback</title><h1>Comeback</h1><p>The dashboard is not built (<code>web/dist</code>). ' +
            'The API reference is at <a href="/docs">/docs</a>.</p>',
        ),
    );
  }
  app.setNotFoundHandler((request, reply) => {
    const isPage = request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/docs');
    if (hasDashboard && isPage) return reply.sendFile('index.html');
    return reply.code(404).send(notFoundBody(request));
  });
  return app;
}

/** Whether a parsed JSON value nests arrays or objects deeper than `max` levels (iterative: no recursion). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
