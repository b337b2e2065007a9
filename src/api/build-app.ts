import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyRequest } from 'fastify';
import { ComebackError } from '../errors.js';
import { DEFAULT_USER_ID_SOURCE } from '../ingest/events.js';
import { EventGroupCommit, type GroupCommitOptions } from '../ingest/group-commit.js';
import { packageRoot } from '../shared/paths.js';
import type { Store } from '../store/index.js';
import type { ApiApp, RouteDeps } from './app.types.js';
import { authFailureHook, authHook } from './auth.js';
import { installErrorHandler, notFoundBody } from './error-handler.js';
import { messageLinkSecret, publishableOrigins, readOrCreateSetting } from './keys.queries.js';
import { DEFAULT_RATE_LIMIT, MAX_JSON_DEPTH } from './limits.js';
import { MEMBER_HEADER } from './member-token.js';
import { registerComposeRoutes } from './routes/compose.js';
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
import { registerSettingsRoutes } from './routes/settings.js';
import { registerStatsRoutes } from './routes/stats.js';
import { registerStorefrontRoutes } from './routes/storefront.js';
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
  /** The built storefront snippet, served at `/comeback.js`; default `web/dist/snippet/comeback.js`. */
  snippetFile?: string;
  logger?: FastifyBaseLogger | false;
  /** How long after an order or event its customer's segments are refreshed (a burst costs one refresh). */
  segmentRefreshDelayMs?: number;
  /**
   * Behind a reverse proxy that terminates TLS: trust its `X-Forwarded-For` / `-Proto`, so that the
   * client's address is the real one (rate limits) and HTTPS is seen (the `Secure` cookie, HSTS).
   * `true` trusts any proxy; a string lists addresses or CIDRs (`127.0.0.1,10.0.0.0/8`). Default off.
   */
  trustProxy?: boolean | string;
  /** Group commit of event requests (`POST /track`, `/batch` …): batch size and wait; see EventGroupCommit. */
  eventGroupCommit?: GroupCommitOptions;
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
  snippetFile = join(packageRoot(), 'web', 'dist', 'snippet', 'comeback.js'),
  logger = false,
  segmentRefreshDelayMs = 1000,
  trustProxy = false,
  eventGroupCommit,
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
    events: new EventGroupCommit(store.db, eventGroupCommit),
  };
  app.decorate('segments', deps.segments);
  // Events first: the requests still waiting on a batch are answered before segments catch up.
  app.addHook('onClose', async () => {
    await deps.events.drain();
    await deps.segments.flush();
  });

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

  // Browsers on a store's pages may call the routes a publishable key opens, from the origins some live
  // publishable key lists (read per preflight: a new key works at once); no cookies cross origins.
  await app.register(cors, {
    hook: 'onRequest',
    delegator: async (request: FastifyRequest) => {
      const path = request.url.split('?', 1)[0] ?? '';
      const origin = request.headers.origin;
      const allowed =
        STOREFRONT_PATH.test(path) && origin !== undefined && (await publishableOrigins(store.db)).has(origin);
      return {
        origin: allowed ? origin : false,
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', MEMBER_HEADER],
        credentials: false,
        maxAge: 600,
      };
    },
  });

  app.addHook('onRequest', authHook({ db: store.db, now, sessionSecret: deps.sessionSecret }));
  if (limit) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      // A route hook runs after the global authentication hook, so that the limit is per key; anonymous
      // callers, and callers with a wrong key or an ended session, share their address's.
      hook: 'onRequest',
      keyGenerator: (request) => {
        const who = request.authFailure?.kind === 'unauthorized' ? undefined : request.principal;
        // A publishable key is in every visitor's page: each address gets its own allowance.
        if (who?.kind === 'key' && who.scope === 'publishable') return `pub:${who.keyId}:${request.ip}`;
        if (who?.kind === 'key') return `key:${who.keyId}`;
        if (who?.kind === 'session') return who.keyId === null ? `user:${who.username}` : `key:${who.keyId}`;
        return `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) =>
        new ComebackError('rate_limited', `rate limit of ${context.max} requests per ${context.after} reached`),
    });
  }
  app.addHook('preParsing', authFailureHook);

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
      registerComposeRoutes(api, deps);
      registerSettingsRoutes(api, deps);
      registerProductRoutes(api, deps);
      registerStorefrontRoutes(api, deps);
      // Its own scope: the webhook route reads JSON bodies as raw bytes to check their signature.
      await api.register(async (webhooks) => registerShopifyWebhookRoutes(webhooks, deps));
    },
    { prefix: '/api/v1' },
  );

  // Signed links in messages (unsubscribe), public, outside /api/v1 so that they stay short.
  const linkSecret = await messageLinkSecret(store.db);
  await app.register(async (links) => registerMessageLinkRoutes(links, { ...deps, linkSecret }));
  // The customer's pages (surveys, reviews, preferences, rewards) and the feedback API.
  // Low scores reach the helpdesk through the outbox (campaigns/helpdesk.queries.ts), not from here.
  await app.register(async (pages) => registerSurveyPageRoutes(pages, { ...deps, linkSecret }));
  await app.register(async (api) => registerFeedbackRoutes(api, { ...deps, linkSecret }), { prefix: '/api/v1' });

  registerSnippetRoute(app, snippetFile);

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

/** The routes a storefront page calls across origins (events and `/storefront/…`). */
const STOREFRONT_PATH = /^\/api\/v1\/(track|identify|page|batch|storefront\/[\w/-]+)$/;

/**
 * `/comeback.js`, the storefront snippet: read once at start, gzipped when the browser accepts it,
 * cached for five minutes and revalidated by ETag (the URL carries no version), and loadable by other
 * origins' pages (`Cross-Origin-Resource-Policy: cross-origin`). 404 naming the build step when absent.
 */
function registerSnippetRoute(app: ApiApp, file: string): void {
  const body = existsSync(file) ? readFileSync(file) : undefined;
  const gzipped = body ? gzipSync(body, { level: 9 }) : undefined;
  const etag = body ? `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` : '';
  app.get('/comeback.js', { schema: { hide: true } }, async (request, reply) => {
    if (!body || !gzipped) {
      throw new ComebackError('not_found', 'the storefront snippet is not built: run `npm run build:web`');
    }
    reply
      .header('cache-control', 'public, max-age=300, stale-while-revalidate=86400')
      .header('etag', etag)
      .header('vary', 'accept-encoding')
      .header('cross-origin-resource-policy', 'cross-origin')
      .type('text/javascript; charset=utf-8');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(gzipped);
    }
    return reply.send(body);
  });
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
