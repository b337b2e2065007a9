import type { Command } from 'commander';
import { ComebackError } from '../../errors.js';
import { customerProfile, loadLatestScores, resolveCustomerId } from '../../segments/index.js';
import { formatMoney } from '../../shared/money.js';
import { openStore } from '../../store/index.js';
import { formatTable, printJson } from '../io.js';
import { AS_OF_HELP, type CommandContext, dbOption, resolveAsOf } from '../shared.js';

const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** `comeback customer ID`: one customer's whole story. */
export function registerCustomer(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('customer')
      .description(
        "one customer's whole story: profile, consent, orders, timeline, RFM, persona, stage, scores, segments",
      )
      .argument('<id>', 'internal id, e-mail, or source:external-id (e.g. online-retail:12347)')
      .option('--as-of <date>', AS_OF_HELP)
      .option('--events <n>', 'most recent events in the timeline', '50')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, flags: { db?: string; asOf?: string; events: string; json?: boolean }) => {
    const limit = Number(flags.events);
    if (!Number.isInteger(limit) || limit < 0)
      throw new ComebackError('usage', `--events ${flags.events}: a whole number`);
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const { asOf } = await resolveAsOf(ctx, store.db, flags.asOf);
      const id = await resolveCustomerId(store.db, ref);
      const scores = await loadLatestScores(store.db);
      const p = await customerProfile(store.db, id, { asOf, scores, timelineLimit: limit });
      if (flags.json) {
        printJson(ctx.io, p);
        return;
      }
      const c = p.customer;
      const out: string[] = [];
      const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
      out.push(`customer ${c.id}${name ? ` — ${name}` : ''}${c.email ? ` <${c.email}>` : ''}`);
      out.push(
        formatTable([
          ['', ''],
          ['phone', c.phone ?? 'unknown'],
          ['place', [c.city, c.country].filter(Boolean).join(', ') || 'unknown'],
          ['birthday', c.birthday ?? 'unknown'],
          ['first seen', stamp(c.firstSeenAt)],
          ['ids', p.identities.map((i) => `${i.source}:${i.externalId}`).join(', ') || 'none'],
          ['consent', p.consents.map((k) => `${k.channel} ${k.granted ? 'yes' : 'no'}`).join(', ') || 'none recorded'],
        ]).replace(/^.*\n/, ''),
      );
      out.push('');
      if (p.rfm) out.push(`RFM: ${p.rfm.group} — ${p.rfm.reason}`);
      if (p.persona) out.push(`persona: ${p.persona.label} — ${p.persona.reason}\n  play: ${p.persona.play}`);
      if (p.lifecycle) out.push(`stage: ${p.lifecycle.stage.replace('_', ' ')} — ${p.lifecycle.reason}`);
      if (p.scores) {
        out.push(
          `P(alive) ${p.scores.pAlive.toFixed(3)}, expected purchases ${p.scores.expectedPurchases?.toFixed(2) ?? '–'}, CLV ${p.scores.clv?.toFixed(2) ?? '–'}, next order ${p.scores.nextOrderDate ?? '–'}`,
        );
      }
      if (p.loyalty) out.push(`loyalty: ${p.loyalty.tier}, ${p.loyalty.balance} points (${p.loyalty.pending} pending)`);
      if (p.segments.length > 0) out.push(`segments: ${p.segments.join(', ')}`);
      out.push('');
      if (p.orders.length > 0) {
        out.push(
          formatTable([
            ['order', 'date', 'status', 'total', 'refunded', 'lines'],
            ...p.orders.map((o) => [
              o.externalId,
              o.placedDate,
              o.status,
              formatMoney(o.totalMinor, o.currency),
              o.refundedMinor ? formatMoney(o.refundedMinor, o.currency) : '',
              o.lines.length,
            ]),
          ]),
        );
        out.push('');
      }
      out.push(
        formatTable([
          ['when', 'what'],
          ...p.timeline.map((e) => [
            stamp(e.at),
            e.kind === 'order'
              ? `order ${e.externalId} ${formatMoney(e.totalMinor, e.currency)} (${e.status})`
              : e.kind === 'refund'
                ? `refund ${formatMoney(e.amountMinor, e.currency)}${e.reason ? ` (${e.reason})` : ''}`
                : `${e.type}${e.event ? ` ${e.event}` : ''}`,
          ]),
        ]),
      );
      ctx.io.out.write(`${out.join('\n')}\n`);
    } finally {
      await store.close();
    }
  });
}
