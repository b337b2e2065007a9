import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { ComebackError } from '../../errors.js';
import { normaliseCurrency } from '../../shared/money.js';
import { type SimulationStats, writeShopifyExport, writeSimulation } from '../../simulate/index.js';
import { openStore } from '../../store/index.js';
import { formatCount, type Io, printJson } from '../io.js';
import { type CommandContext, dateFlag, dbOption } from '../shared.js';

interface SimulateFlags {
  customers: string;
  months: string;
  seed: string;
  currency: string;
  model: string;
  start?: string;
  events: boolean;
  out?: string;
  db?: string;
  json?: boolean;
}

/** `comeback simulate`: a seeded, streamed store written into the database or as a Shopify export. */
export function registerSimulate(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('simulate')
      .description(
        'write a simulated store (BG/NBD or Pareto/NBD purchases, Gamma-Gamma values, CDNOW parameters) into the database or as a Shopify export',
      )
      .requiredOption('--customers <n>', 'number of customers')
      .option('--months <n>', 'length of the period in months; customers arrive uniformly over it', '12')
      .option('--seed <n>', 'seed of the generator: the same seed writes the same store', '1')
      .option('--currency <code>', 'ISO 4217 currency of the orders', 'USD')
      .option('--model <name>', 'bgnbd or pnbd (purchases and dropout)', 'bgnbd')
      .option('--start <date>', 'first day of the period (YYYY-MM-DD)', '2024-01-01')
      .option('--no-events', 'write no browsing or cart events')
      .option('--out <file>', 'write a Shopify orders export to FILE instead of the database (no events)')
      .option('--json', 'print the counts as JSON'),
  ).action(async (flags: SimulateFlags) => {
    const customers = positiveInteger(flags.customers, '--customers');
    const months = positiveInteger(flags.months, '--months');
    const seed = nonNegativeInteger(flags.seed, '--seed');
    const currency = normaliseCurrency(flags.currency);
    if (!currency) throw new ComebackError('usage', `--currency ${flags.currency}: not an ISO 4217 code`);
    if (flags.model !== 'bgnbd' && flags.model !== 'pnbd') {
      throw new ComebackError('usage', `--model ${flags.model}: choose bgnbd or pnbd`);
    }
    const start = dateFlag(flags.start, '--start');
    const options = {
      customers,
      months,
      seed,
      currency,
      model: flags.model,
      start,
      events: flags.events,
      now: ctx.now(),
      onProgress: progress(ctx.io),
    } as const;
    let stats: SimulationStats;
    if (flags.out) {
      const out = createWriteStream(flags.out);
      stats = await writeShopifyExport(out, options);
      out.end();
      await finished(out);
    } else {
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        stats = await writeSimulation(store.db, options);
      } finally {
        await store.close();
      }
    }
    if (ctx.io.err.isTTY) ctx.io.err.write('\n');
    if (flags.json) printJson(ctx.io, { ...stats, seed, model: flags.model, currency, out: flags.out ?? null });
    else {
      ctx.io.out.write(
        `simulated ${formatCount(stats.customers)} customers, ${formatCount(stats.orders)} orders, ` +
          `${formatCount(stats.lines)} lines, ${formatCount(stats.refunded)} refunded, ${formatCount(stats.events)} events` +
          `${flags.out ? ` → ${flags.out}` : ''}\n`,
      );
    }
  });
}

/** On a terminal a counter redrawn in place; otherwise a line at each tenth of the customers (for logs). */
function progress(io: Io): (done: number, total: number) => void {
  if (io.err.isTTY) {
    return (done, total) => io.err.write(`\rsimulate ${formatCount(done)}/${formatCount(total)} customers`);
  }
  let tenth = 0;
  return (done, total) => {
    const reached = Math.floor((10 * done) / total);
    if (reached <= tenth) return;
    tenth = reached;
    io.err.write(`simulate: ${formatCount(done)}/${formatCount(total)} customers written\n`);
  };
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new ComebackError('usage', `${flag} ${text}: give a whole number of at least 1`);
  return n;
}

function nonNegativeInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new ComebackError('usage', `${flag} ${text}: give a whole number from 0 to 4294967295`);
  }
  return n;
}
