import type { Command } from 'commander';
import { defaultAsOf } from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import {
  buildRecommendations,
  type CustomerRecommendations,
  type Evaluation,
  evaluateStore,
  latestBuild,
  METHODS,
  type Method,
  recommendForCustomer,
  repurchaseCycles,
} from '../../recommend/index.js';
import { formatMoney } from '../../shared/money.js';
import { openStore } from '../../store/index.js';
import { resolveCustomerRef } from '../customer-ref.js';
import { asOfText, formatCount, formatTable, printJson } from '../io.js';
import { type CommandContext, dbOption, endDateFlag, storeTimeZone } from '../shared.js';

interface RecommendFlags {
  db?: string;
  n: string;
  method: string;
  seed?: string;
  build?: boolean;
  evaluate?: boolean;
  cycles?: boolean;
  cut?: string;
  asOf?: string;
  json?: boolean;
}

const table = (rows: Array<Array<string | number>>) => `${formatTable(rows)}\n`;

/**
 * `comeback recommend CUSTOMER [--n 10] [--method …]`, `--build` (a new numbered build), `--evaluate`
 * (every method against popularity on each customer's last order), `--cycles` (repurchase cycles).
 * Dates are inclusive days: `--as-of 2011-12-09` and `--cut 2011-11-30` include that day.
 */
export function registerRecommend(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('recommend')
      .description('product recommendations for a customer, with reasons; --build, --evaluate, --cycles')
      .argument('[customer]', 'customer id, e-mail or source:external-id')
      .option('--n <count>', 'how many items', '10')
      .option('--method <method>', METHODS.join(' | '), 'personal')
      .option('--seed <sku>', 'similar / bought-together: the product to start from (default: the latest purchase)')
      .option('--build', 'build the item-item matrices from the orders and events up to --as-of and store them')
      .option('--evaluate', 'hold out each customer’s last order after --cut and score every method against popularity')
      .option('--cycles', 'repurchase cycle per product (typical days between a customer’s purchases of it)')
      .option('--cut <date>', 'evaluation: the builds see orders up to and including this day (default: 90% of orders)')
      .option('--as-of <date>', 'build: orders up to and including this day (default: the latest sale)')
      .option('--json', 'print JSON'),
  ).action(async (customer: string | undefined, flags: RecommendFlags) => {
    const n = Number(flags.n);
    if (!Number.isInteger(n) || n < 1 || n > 100)
      throw new ComebackError('usage', `--n ${flags.n}: a whole number 1–100`);
    if (!(METHODS as readonly string[]).includes(flags.method)) {
      throw new ComebackError('usage', `--method ${flags.method}: choose one of ${METHODS.join(', ')}`);
    }
    const method = flags.method as Method;
    if (!customer && !flags.build && !flags.evaluate && !flags.cycles) {
      throw new ComebackError('usage', 'name a customer, or give --build, --evaluate or --cycles');
    }
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const db = store.db;
      if (flags.evaluate) {
        const timeZone = await storeTimeZone(db);
        const result = await evaluateStore(db, { cut: endDateFlag(flags.cut, '--cut', timeZone) });
        if (flags.json) printJson(ctx.io, result);
        else printEvaluation(ctx, result, timeZone);
        return;
      }
      const build = async () => {
        const timeZone = await storeTimeZone(db);
        const asOf =
          endDateFlag(flags.asOf, '--as-of', timeZone) ?? (await defaultAsOf(db, undefined, timeZone)) ?? ctx.now();
        const summary = await buildRecommendations(db, { asOf, now: ctx.now() });
        ctx.io.err.write(
          `build ${summary.buildId} as of ${asOfText(asOf, timeZone)}: ${formatCount(summary.orders)} orders, ${formatCount(summary.customers)} customers, ` +
            `${formatCount(summary.items)} products; read ${summary.loadMs} ms, built ${summary.buildMs} ms, stored ${summary.storeMs} ms\n`,
        );
        return summary;
      };
      if (flags.build) {
        const summary = await build();
        if (!customer && !flags.cycles) {
          if (flags.json) printJson(ctx.io, summary);
          else ctx.io.out.write(`build ${summary.buildId} stored\n`);
          return;
        }
      }
      if (flags.cycles) {
        const latest = (await latestBuild(db)) ?? { id: (await build()).buildId };
        const cycles = await repurchaseCycles(db, latest.id, { limit: n });
        if (flags.json) printJson(ctx.io, { buildId: latest.id, cycles });
        else {
          ctx.io.out.write(
            table([
              ['sku', 'title', 'buyers', 'bought again', 'cycle (days)', ''],
              ...cycles.map((c) => [
                c.sku,
                (c.title ?? '').slice(0, 40),
                c.buyers,
                c.repeatBuyers,
                c.cycleDays === null ? '—' : Math.round(c.cycleDays),
                c.notBoughtAgain ? 'not bought again' : c.repeatItem ? 'repeat item' : '',
              ]),
            ]),
          );
        }
        return;
      }
      if (!customer) return;
      const customerId = await resolveCustomerRef(db, customer);
      if (!(await latestBuild(db))) {
        ctx.io.err.write('no recommendation build yet: building one now\n');
        await build();
      }
      let seed: number | undefined;
      if (flags.seed !== undefined) {
        const row = await db.selectFrom('products').select('id').where('sku', '=', flags.seed).executeTakeFirst();
        if (!row) throw new ComebackError('not_found', `--seed ${flags.seed}: no product with that SKU`);
        seed = Number(row.id);
      }
      const result = await recommendForCustomer(db, customerId, { method, n, seed });
      if (flags.json) printJson(ctx.io, result);
      else printRecommendations(ctx, result);
    } finally {
      await store.close();
    }
  });
}

function printRecommendations(ctx: CommandContext, r: CustomerRecommendations): void {
  ctx.io.out.write(`customer ${r.customerId}, ${r.method}, build ${r.buildId} (as of ${asOfText(r.builtAsOf)})\n`);
  if (r.items.length > 0) {
    ctx.io.out.write(
      table([
        ['#', 'sku', 'title', 'price', 'why', 'flags'],
        ...r.items.map((i, at) => [
          at + 1,
          i.sku,
          (i.title ?? '').slice(0, 40),
          i.priceMinor === null || i.currency === null ? '' : formatMoney(i.priceMinor, i.currency),
          i.reason.text,
          i.flags.join(' '),
        ]),
      ]),
    );
  }
  if (r.note) ctx.io.out.write(`note: ${r.note}\n`);
}

function printEvaluation(ctx: CommandContext, e: Evaluation, timeZone: string): void {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  ctx.io.out.write(
    `held out the last order of ${e.customers} customers placed after ${asOfText(e.cut, timeZone)} (${e.heldOutItems} items); at ${e.k}:\n`,
  );
  const base = e.methods.find((m) => m.method === e.baseline);
  ctx.io.out.write(
    table([
      ['method', 'hit rate', 'vs popular', 'precision', 'recall', 'NDCG', 'coverage', 'best-sellers'],
      ...e.methods.map((m) => [
        m.method === e.baseline ? `${m.method} (baseline)` : m.method,
        pct(m.hitRate),
        base && base.hitRate > 0 ? `${(m.hitRate / base.hitRate).toFixed(2)}×` : '—',
        pct(m.precision),
        pct(m.recall),
        m.ndcg.toFixed(3),
        pct(m.coverage),
        pct(m.bestSellerShare),
      ]),
    ]),
  );
  for (const w of e.warnings) ctx.io.out.write(`warning: ${w}\n`);
}
