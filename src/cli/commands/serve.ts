import type { Command } from 'commander';
import { DEFAULT_RATE_LIMIT } from '../../api/limits.js';
import { ComebackError } from '../../errors.js';
import { openStore, type Store } from '../../store/index.js';
import { type CommandContext, dbOption } from '../shared.js';

/** `comeback serve`: the HTTP API and the dashboard, until SIGINT or SIGTERM. */
export function registerServe(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('serve')
      .description('serve the HTTP API (/api/v1, reference at /docs) and the dashboard (/)')
      .option('--port <port>', 'port (0 picks a free one)', '8080')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--shopify-secret <secret>', 'Shopify webhook signing secret (or COMEBACK_SHOPIFY_SECRET)')
      .option(
        '--user-id-source <source>',
        'where the userIds of the API and the snippet (data-customer-id) are looked up: api (default: new ids become api: customers), or the import format of your customers (shopify, woocommerce, cafe24, online-retail for the demo)',
      )
      .option(
        '--trust-proxy [addresses]',
        'behind a TLS-terminating proxy: trust its X-Forwarded-* headers (all proxies, or a comma-separated list of addresses/CIDRs); the session cookie becomes Secure',
      )
      .option(
        '--helpdesk-interval <seconds>',
        'seconds between passes that send detractor and low-CSAT alerts to the helpdeskUrl (0: leave them to the worker)',
        '15',
      )
      .option(
        '--rate-limit <n>',
        'requests per minute per API key (0 turns limiting off)',
        String(DEFAULT_RATE_LIMIT.max),
      ),
  ).action(
    async (flags: {
      port: string;
      host: string;
      shopifySecret?: string;
      userIdSource?: string;
      rateLimit: string;
      trustProxy?: boolean | string;
      helpdeskInterval: string;
      db?: string;
    }) => {
      const helpdeskSeconds = Number(flags.helpdeskInterval);
      if (!(helpdeskSeconds >= 0)) {
        throw new ComebackError('usage', `--helpdesk-interval ${flags.helpdeskInterval}: a number of seconds`);
      }
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new ComebackError('usage', `--port ${flags.port}: not a port`);
      const limit = Number(flags.rateLimit);
      if (!Number.isInteger(limit) || limit < 0)
        throw new ComebackError('usage', `--rate-limit ${flags.rateLimit}: not a count`);
      // The HTTP stack is loaded only when the server starts, not for `serve --help`.
      const [{ buildApp }, { default: pino }] = await Promise.all([import('../../api/index.js'), import('pino')]);
      const store = await openStore(ctx.config(flags).dbUrl);
      const app = await buildApp({
        store,
        now: ctx.now,
        shopifySecret: flags.shopifySecret ?? ctx.env.COMEBACK_SHOPIFY_SECRET,
        userIdSource: flags.userIdSource ?? ctx.env.COMEBACK_USER_ID_SOURCE,
        rateLimit: limit === 0 ? false : { max: limit, timeWindowMs: 60_000 },
        trustProxy: flags.trustProxy ?? false,
        logger: pino({ level: ctx.env.COMEBACK_LOG_LEVEL ?? 'info' }, pino.destination(2)),
      });
      const helpdesk = helpdeskSeconds > 0 ? await helpdeskLoop(store, ctx, helpdeskSeconds, app.log) : undefined;
      try {
        const address = await app.listen({ port, host: flags.host });
        ctx.io.out.write(`Comeback is serving ${store.label} at ${address}/ (API reference: ${address}/docs)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      } finally {
        await helpdesk?.stop();
        await app.close();
        await store.close();
      }
    },
  );
}

/**
 * Runs `helpdeskPass` every `seconds` while the server runs: alerts from answers (hosted pages, the
 * API, CSV imports by another process) are queued and delivered, signed, through the outbox. `stop`
 * waits for a pass under way.
 */
async function helpdeskLoop(
  store: Store,
  ctx: CommandContext,
  seconds: number,
  log: { error(o: object, m: string): void },
): Promise<{ stop(): Promise<void> }> {
  const [{ helpdeskPass }, { messageLinkSecret, signingKey }] = await Promise.all([
    import('../../campaigns/index.js'),
    import('../../api/keys.queries.js'),
  ]);
  const key = signingKey(await messageLinkSecret(store.db), 'helpdesk');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const pass = () => {
    running = helpdeskPass(store.db, { now: ctx.now, random: Math.random, signingKey: key })
      .then(() => undefined)
      .catch((error: unknown) => log.error({ err: error }, 'helpdesk pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(pass, seconds * 1000);
      });
  };
  timer = setTimeout(pass, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
