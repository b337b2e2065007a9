import type { Command } from 'commander';
import { dayInZone } from '../../shared/dates.js';
import { formatMoney } from '../../shared/money.js';
import { openStore, storeStats } from '../../store/index.js';
import { formatCount, formatTable, printJson } from '../io.js';
import { type CommandContext, dbOption, storeTimeZone } from '../shared.js';

/** `comeback stats`: what the store holds. */
export function registerStats(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('stats')
      .description(
        'customers, orders, lines, events (the store’s, and apart those Comeback wrote), revenue by currency and the date range in the store',
      )
      .option('--json', 'print JSON'),
  ).action(async (flags: { db?: string; json?: boolean }) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const stats = await storeStats(store.db);
      const timeZone = await storeTimeZone(store.db);
      if (flags.json) {
        printJson(ctx.io, {
          ...stats,
          firstOrderAt: stats.firstOrderAt === null ? null : new Date(stats.firstOrderAt).toISOString(),
          lastOrderAt: stats.lastOrderAt === null ? null : new Date(stats.lastOrderAt).toISOString(),
        });
        return;
      }
      // The first and last days in the store's zone (`comeback flows settings`), as every other command.
      const day = (ms: number | null) => (ms === null ? '–' : dayInZone(ms, timeZone));
      ctx.io.out.write(
        `${formatTable([
          ['', 'count'],
          ['customers', formatCount(stats.customers)],
          ['orders', formatCount(stats.orders)],
          ['order lines', formatCount(stats.lines)],
          ['refund records', formatCount(stats.refunds)],
          ['products', formatCount(stats.products)],
          ['events', formatCount(stats.events)],
          ['events written by Comeback', formatCount(stats.comebackEvents)],
        ])}\n\n`,
      );
      if (stats.revenue.length > 0) {
        ctx.io.out.write(
          `${formatTable([
            ['currency', 'paid orders', 'net revenue', 'orders refunded', 'refunded', 'refunds without order'],
            ...stats.revenue.map((r) => [
              r.currency,
              formatCount(r.orders),
              formatMoney(r.revenueMinor, r.currency),
              formatCount(r.refundedOrders),
              formatMoney(r.refundedMinor, r.currency),
              r.unmatchedRefunds === 0
                ? '0'
                : `${formatCount(r.unmatchedRefunds)} (${formatMoney(r.unmatchedRefundedMinor, r.currency)})`,
            ]),
          ])}\n\n`,
        );
      }
      ctx.io.out.write(`orders from ${day(stats.firstOrderAt)} to ${day(stats.lastOrderAt)}\n`);
    } finally {
      await store.close();
    }
  });
}
