import type { Command } from 'commander';
import { ComebackError } from '../../errors.js';
import { loadProgram, memberAsOf } from '../../loyalty/index.js';
import { customerProfile, loadLatestScores } from '../../segments/index.js';
import { zoneOffsetAt } from '../../shared/dates.js';
import { currencyExponent, formatMoney } from '../../shared/money.js';
import { openStore } from '../../store/index.js';
import { resolveCustomerRef } from '../customer-ref.js';
import { formatCount, formatTable, printJson, safeText } from '../io.js';
import { AS_OF_HELP, type CommandContext, dbOption, resolveAsOf } from '../shared.js';

/** An instant as the store's wall time, `2025-06-27 00:42` (the zone is named in the table's heading). */
const stamp = (ms: number, timeZone: string) =>
  new Date(ms + zoneOffsetAt(ms, timeZone) * 60_000).toISOString().slice(0, 16).replace('T', ' ');

/** `comeback customer ID`: one customer's whole story. */
export function registerCustomer(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('customer')
      .description(
        "one customer's whole story: profile, consent, orders, timeline, RFM, persona, stage, scores, segments",
      )
      .argument('<id>', "the store's customer id (e.g. 17850), an e-mail, source:external-id, or #internal-id")
      .option('--as-of <date>', AS_OF_HELP)
      .option('--events <n>', 'most recent events in the timeline', '50')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, flags: { db?: string; asOf?: string; events: string; json?: boolean }) => {
    const limit = Number(flags.events);
    if (!Number.isInteger(limit) || limit < 0)
      throw new ComebackError('usage', `--events ${flags.events}: a whole number`);
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const { asOf, timeZone } = await resolveAsOf(ctx, store.db, flags.asOf);
      const id = await resolveCustomerRef(store.db, ref);
      const scores = await loadLatestScores(store.db, { customerIds: [id] });
      const p = await customerProfile(store.db, id, { asOf, scores, timelineLimit: limit });
      if (flags.json) {
        printJson(ctx.io, p);
        return;
      }
      // Everything from the data goes through `safe`, so that its control characters never reach the terminal.
      const safe = (text: string | null | undefined) => safeText(text ?? '');
      const c = p.customer;
      const out: string[] = [];
      const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
      // The store's ids first (what people know the customer by), then Comeback's internal one.
      const ids = [...p.identities.map((i) => safe(`${i.source}:${i.externalId}`)), `#${c.id}`].join(', ');
      out.push(`customer ${ids}${name ? ` — ${safe(name)}` : ''}${c.email ? ` <${safe(c.email)}>` : ''}`);
      out.push(
        formatTable([
          ['', ''],
          ['phone', safe(c.phone) || 'unknown'],
          ['place', safe([c.city, c.country].filter(Boolean).join(', ')) || 'unknown'],
          ['birthday', safe(c.birthday) || 'unknown'],
          ['first seen', `${stamp(c.firstSeenAt, timeZone)} (${timeZone})`],
          ['ids', p.identities.map((i) => safe(`${i.source}:${i.externalId}`)).join(', ') || 'none'],
          ['consent', p.consents.map((k) => `${k.channel} ${k.granted ? 'yes' : 'no'}`).join(', ') || 'none recorded'],
        ]).replace(/^.*\n/, ''),
      );
      out.push('');
      if (p.rfm) out.push(`RFM: ${p.rfm.group} — ${safe(p.rfm.reason)}`);
      if (p.persona)
        out.push(`persona: ${p.persona.label} — ${safe(p.persona.reason)}\n  play: ${safe(p.persona.play)}`);
      if (p.lifecycle) out.push(`stage: ${p.lifecycle.stage.replace('_', ' ')} — ${safe(p.lifecycle.reason)}`);
      if (p.scores) {
        const alive =
          p.scores.pAlive === null
            ? `P(alive) not informative${p.predictionNote ? ` (${safe(p.predictionNote)})` : ''}`
            : `P(alive) ${p.scores.pAlive.toFixed(3)}`;
        out.push(
          `${alive}, expected purchases ${p.scores.expectedPurchases?.toFixed(2) ?? '–'}, CLV ${clvText(p.scores.clv, p.scores.currency)}, next order ${p.scores.nextOrderDate ?? '–'}`,
        );
      }
      if (p.loyalty) {
        // The balance as `loyalty member` reads it (matured, expired), not the columns as last booked.
        // A ledger booked past the as-of is shown as of its latest entry, and says so (never refused here).
        const read = await memberAsOf(store.db, await loadProgram(store.db), id, asOf, { given: false, timeZone });
        if (read) {
          const m = read.status;
          // Store credit the member can spend (lapsed credit left out), beside the points.
          const credit = m.credit ? `, store credit ${formatMoney(m.credit.balanceMinor, m.credit.currency)}` : '';
          const when =
            read.asOf > asOf ? ` (as of ${stamp(read.asOf - 1, timeZone).slice(0, 10)}, the latest ledger entry)` : '';
          out.push(
            `loyalty: ${m.tier.name}, ${formatCount(m.available)} points available (${formatMoney(m.availableValueMinor, m.currency)}), ${formatCount(m.pending)} pending${credit}${when}`,
          );
        }
      }
      if (p.segments.length > 0) out.push(`segments: ${p.segments.map(safe).join(', ')}`);
      out.push('');
      if (p.orders.length > 0) {
        out.push(
          formatTable([
            ['order', 'date', 'status', 'total', 'refunded', 'lines'],
            ...p.orders.map((o) => [
              safe(o.externalId),
              o.placedDate,
              safe(o.status),
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
          [`when (${timeZone})`, 'what'],
          ...p.timeline.map((e) => [
            stamp(e.at, timeZone),
            e.kind === 'order'
              ? `order ${safe(e.externalId)} ${formatMoney(e.totalMinor, e.currency)} (${safe(e.status)})`
              : e.kind === 'refund'
                ? `refund ${formatMoney(e.amountMinor, e.currency)}${e.reason ? ` (${safe(e.reason)})` : ''}`
                : safe(`${e.type}${e.event ? ` ${e.event}` : ''}`),
          ]),
        ]),
      );
      ctx.io.out.write(`${out.join('\n')}\n`);
    } finally {
      await store.close();
    }
  });
}

/** A stored CLV (major units) in its currency, `£408.39`; bare when the score has no currency, `–` when none. */
function clvText(clv: number | null | undefined, currency: string | null): string {
  if (clv === null || clv === undefined) return '–';
  if (!currency) return clv.toFixed(2);
  return formatMoney(Math.round(clv * 10 ** currencyExponent(currency)), currency);
}
