import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { defaultAsOf } from '../../analytics/index.js';
import { upsertAdminUser } from '../../api/keys.queries.js';
import { saveMessagingSettings } from '../../campaigns/index.js';
import { ComebackError } from '../../errors.js';
import { type FormatName, type ImportSummary, importFile } from '../../ingest/index.js';
import { scoreCustomers } from '../../predict/index.js';
import { loadLatestScores, type Rule, refreshSegments, saveSegment } from '../../segments/index.js';
import { MS_PER_DAY } from '../../shared/dates.js';
import { formatMoney } from '../../shared/money.js';
import { samplePath } from '../../shared/paths.js';
import { openStore, type Store, storeStats } from '../../store/index.js';
import { formatCount } from '../io.js';
import { type CommandContext, storeTimeZone } from '../shared.js';

export const DEMO_SAMPLE = samplePath('online-retail', 'online-retail-sample.csv.gz');

/** The Korean demo store's files, in import order (members first, so orders meet their members). */
export const KR_DEMO_FILES: ReadonlyArray<{ file: string; format: FormatName; password?: string }> = [
  { file: samplePath('kr', 'cafe24-members.xlsx'), format: 'cafe24' },
  { file: samplePath('kr', 'cafe24-orders.xlsx'), format: 'cafe24' },
  { file: samplePath('kr', 'cafe24-orders-moved.csv'), format: 'cafe24' },
  // The sample's password is published in samples/kr/README.md.
  { file: samplePath('kr', 'smartstore-orders.xlsx'), format: 'smartstore', password: 'comeback-kr-2025' },
];

/** The Korean demo store's saved segments: amounts in won. */
const KR_DEMO_SEGMENTS: ReadonlyArray<{ name: string; rule: Rule }> = [
  {
    name: '최근 90일 10만 원 이상 구매 고객',
    rule: { orders: 'revenue', withinDays: 90, currency: 'KRW', op: 'gte', value: 100_000 },
  },
  { name: '재구매 고객', rule: { orders: 'count', op: 'gte', value: 2 } },
];

interface DemoFlags {
  store: string;
  file: string;
  serve: boolean;
  port: string;
  host: string;
  user: string;
  password?: string;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ComebackError('usage', `--port ${text}: use a whole number from 0 (any free port) to 65535`);
  }
  return port;
}

/** Saved segments of the demo, recorded monthly over the last half year so that they have a history. */
const DEMO_SEGMENTS: ReadonlyArray<{ name: string; rule: Rule }> = [
  { name: 'Big spenders, last 90 days', rule: { orders: 'revenue', withinDays: 90, op: 'gte', value: 1000 } },
  {
    name: 'Repeat buyers outside the UK',
    rule: {
      all: [
        { orders: 'count', op: 'gte', value: 2 },
        { field: 'country', op: 'neq', value: 'United Kingdom' },
      ],
    },
  },
];

/** Model scores and segments are extras of the demo: one that fails is reported and the demo goes on. */
async function prepareExtras(
  store: Store,
  ctx: CommandContext,
  segments: ReadonlyArray<{ name: string; rule: Rule }>,
): Promise<void> {
  const asOf = (await defaultAsOf(store.db, undefined, await storeTimeZone(store.db))) ?? ctx.now();
  try {
    // BG/NBD alone: `--model auto` would fit all three twice before the demo starts.
    const run = await scoreCustomers(store.db, { model: 'bgnbd', asOf, now: ctx.now() });
    const params = Object.entries(run.purchaseFit.fit.params)
      .map(([name, value]) => `${name}=${value.toPrecision(4)}`)
      .join(' ');
    const spend = run.spendFit ? ' and Gamma-Gamma' : '';
    ctx.io.err.write(`Fitted BG/NBD (${params})${spend}; scored ${formatCount(run.scores.length)} customers.\n`);
    if (run.pAliveNote) ctx.io.err.write(`P(alive) not stored: ${run.pAliveNote}\n`);
  } catch (error) {
    ctx.io.err.write(`Models skipped: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  try {
    // With scores stored, lifecycle stages follow P(alive) rather than the gaps between orders alone.
    const scores = await loadLatestScores(store.db, { model: 'bgnbd' }).catch(() => undefined);
    const refreshed = await refreshSegments(store.db, { asOf, scores });
    ctx.io.err.write(`Segmented ${formatCount(refreshed.customers)} customers (RFM, personas, lifecycle).\n`);
    for (const { name, rule } of segments) {
      for (let monthsAgo = 6; monthsAgo >= 0; monthsAgo--) {
        await saveSegment(store.db, name, rule, { asOf: asOf - monthsAgo * 30 * MS_PER_DAY, now: ctx.now() });
      }
    }
  } catch (error) {
    ctx.io.err.write(`Segments skipped: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `comeback demo`: the bundled Online Retail sample in a fresh SQLite file, served with the dashboard. */
export function registerDemo(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description(
      'load the bundled real sample (UCI Online Retail, 440 customers) into a fresh embedded database and serve the dashboard',
    )
    .option(
      '--store <store>',
      'retail (UCI Online Retail, GBP) or kr (a Korean store: Cafe24 and SmartStore, KRW)',
      'retail',
    )
    .option('--file <path>', 'the SQLite file to (re)create', 'comeback-demo.db')
    .option('--port <port>', 'port to listen on (0: any free port)', '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--user <name>', 'the admin user name', 'admin')
    .option('--password <password>', 'the admin password (default: a generated one, printed)')
    .option('--no-serve', 'load, fit and segment the data as the demo does, without starting the server')
    .action(async (flags: DemoFlags) => {
      const port = parsePort(flags.port);
      if (flags.store !== 'retail' && flags.store !== 'kr') {
        throw new ComebackError('usage', `--store ${flags.store}: use retail or kr`);
      }
      const korean = flags.store === 'kr';
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${flags.file}${suffix}`, { force: true });
      const store = await openStore(`sqlite:${flags.file}`);
      try {
        const summary = korean ? await loadKorean(store, ctx) : await loadRetail(store, ctx, flags.file);
        const stats = await storeStats(store.db);
        const revenue = stats.revenue.map((r) => formatMoney(r.revenueMinor, r.currency)).join(', ');
        ctx.io.out.write(
          `Loaded ${formatCount(summary.orders)} orders (${formatCount(summary.lines)} lines${korean ? '' : `, ${formatCount(summary.refunds)} cancellations`}) ` +
            `of ${formatCount(stats.customers)} customers; net revenue ${revenue}.\n`,
        );
        // Every other command reads ./comeback.db unless told: say how to point them at this file.
        const dbHint =
          `Other commands: add --db sqlite:${flags.file} (or export COMEBACK_DB=sqlite:${flags.file}), ` +
          `e.g. comeback stats --db sqlite:${flags.file}\n`;
        // Fitted and segmented with or without the server: the same store either way.
        await prepareExtras(store, ctx, korean ? KR_DEMO_SEGMENTS : DEMO_SEGMENTS);
        if (!flags.serve) {
          ctx.io.out.write(dbHint);
          return;
        }
        const password = flags.password ?? randomBytes(12).toString('base64url');
        const admin = await upsertAdminUser(store.db, { username: flags.user, password, now: ctx.now() });
        const { buildApp } = await import('../../api/index.js');
        const app = await buildApp({ store, now: ctx.now });
        await app.listen({ port, host: flags.host });
        const address = app.server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const query = korean ? '?lang=ko' : '';
        // Links in the demo's messages and pages point at the port it serves on, not the default 3000.
        const loopback = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : host;
        await saveMessagingSettings(store.db, { publicUrl: `http://${loopback}:${address.port}` });
        ctx.io.out.write(
          `Comeback demo: http://${host}:${address.port}/${query}  user: ${admin.username}  password: ${password}\n`,
        );
        ctx.io.out.write(dbHint);
        ctx.io.err.write('Press Ctrl-C to stop.\n');
        const signal = await untilSignal();
        ctx.io.err.write(`${signal}: stopping …\n`);
        await app.close();
      } finally {
        await store.close();
      }
    });
}

/** What the demo loaded, for its one-line report. */
type Loaded = Pick<ImportSummary, 'orders' | 'lines' | 'refunds'>;

/** The UCI Online Retail sample. */
async function loadRetail(store: Store, ctx: CommandContext, file: string): Promise<Loaded> {
  ctx.io.err.write(`Loading ${DEMO_SAMPLE} into ${file} …\n`);
  return importFile(store.db, DEMO_SAMPLE, { format: 'online-retail', now: ctx.now() });
}

/**
 * The Korean demo store: the Cafe24 and SmartStore samples (KRW, times in Asia/Seoul), and messaging
 * settings of a Korean shop (its zone Asia/Seoul). The dashboard is opened in Korean (`?lang=ko`).
 */
async function loadKorean(store: Store, ctx: CommandContext): Promise<Loaded> {
  const total: Loaded = { orders: 0, lines: 0, refunds: 0 };
  for (const { file, format, password } of KR_DEMO_FILES) {
    ctx.io.err.write(`Loading ${file} (${format}) …\n`);
    const summary = await importFile(store.db, file, { format, password, timeZone: 'Asia/Seoul', now: ctx.now() });
    total.orders += summary.orders;
    total.lines += summary.lines;
    total.refunds += summary.refunds;
  }
  await saveMessagingSettings(store.db, {
    storeName: '초록찻잎',
    fromName: '초록찻잎',
    smsSender: '초록찻잎',
    timeZone: 'Asia/Seoul',
    fromEmail: 'shop@example.kr',
  });
  return total;
}
