import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { defaultAsOf } from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import { type FeedbackReport, feedbackReport, importFeedbackCsv, latestFeedbackEnd } from '../../feedback/index.js';
import { dayInZone } from '../../shared/dates.js';
import { openStore } from '../../store/index.js';
import { storeCustomers } from '../export-columns.js';
import { countOf, formatCount, formatTable, printJson } from '../io.js';
import { AS_OF_HELP, type CommandContext, dateFlag, dbOption, endDateFlag, storeTimeZone } from '../shared.js';

const num = (v: number | null, digits = 1) => (v === null ? '–' : v.toFixed(digits));
/** The note of a score; CSAT prints no interval, so its small sample is said without one. */
const noteText = (note: string | null, interval = true) =>
  note === 'no_answers'
    ? ' (no answers: no figure)'
    : note === 'small_sample'
      ? interval
        ? ' (few answers: a wide interval)'
        : ' (few answers: the figure may move a lot)'
      : '';

/** The human face of the feedback report; the days of answers and reviews are the store's (`timeZone`). */
function printReport(
  ctx: CommandContext,
  r: FeedbackReport,
  timeZone: string,
  source: string,
  storeId: (customerId: number | null) => string,
): void {
  const out = ctx.io.out;
  // The store's days: the period's last day is the one its end (exclusive) closes.
  const day = (ms: number) => dayInZone(ms, timeZone);
  out.write(
    `Feedback ${r.from === null ? 'up to' : `from ${day(r.from)} to`} ${day(r.asOf - 1)}${source ? ` (${source})` : ''}\n\n`,
  );
  const n = r.nps;
  out.write(
    n.nps === null
      ? `NPS: no answers in the period, so no score${'\n'}`
      : `NPS ${num(n.nps)} [${num(n.interval!.low)}, ${num(n.interval!.high)}] (95 % adjusted-Wald interval, Rocks 2016) from ${countOf(n.answers, 'answer', 'answers')}: ${countOf(n.promoters, 'promoter', 'promoters')}, ${countOf(n.passives, 'passive', 'passives')}, ${countOf(n.detractors, 'detractor', 'detractors')}${noteText(n.note)}\n`,
  );
  if (r.npsTrend.length > 0) {
    out.write(
      `${formatTable([
        ['month', 'answers', 'NPS', 'low', 'high'],
        ...r.npsTrend.map((m) => [
          m.month,
          m.answers,
          num(m.nps),
          num(m.interval?.low ?? null),
          num(m.interval?.high ?? null),
        ]),
      ])}\n`,
    );
  }
  const c = r.csat;
  out.write(
    c.csat === null
      ? 'CSAT: no answers in the period, so no score\n'
      : `CSAT ${num(c.csat)} % satisfied (4–5), mean ${num(c.mean, 2)} of 5, from ${countOf(c.answers, 'answer', 'answers')}${noteText(c.note, false)}\n`,
  );
  if (r.responseRates.length > 0) {
    out.write(
      `\n${formatTable([
        ['survey', 'links', 'answered', 'rate'],
        ...r.responseRates.map((x) => [
          x.survey,
          x.issued,
          x.answered,
          x.rate === null ? '–' : `${(x.rate * 100).toFixed(1)} %`,
        ]),
      ])}\n`,
    );
  }
  out.write(
    r.exitReasons.total.length === 0
      ? '\nExit reasons: no exit-survey answers in the period\n'
      : `\nExit reasons\n${formatTable([['reason', 'answers'], ...r.exitReasons.total.map((x) => [x.reason, x.answers])])}\n`,
  );
  if (r.cartReasons.length > 0) {
    out.write(
      `\nWhy carts were left ("what stopped you?")\n${formatTable([['reason', 'answers'], ...r.cartReasons.map((x) => [x.reason, x.answers])])}\n`,
    );
  }
  const churn = r.exitReasons.churn;
  if (churn.byMonth.length > 0) {
    const rate = (c: {
      churnRate: number | null;
      customersLost: number | null;
      customersStart: number | null;
      cannotLeave?: boolean;
    }) =>
      c.customersLost === null || c.customersStart === null
        ? 'not known'
        : c.customersStart === 0 || c.churnRate === null
          ? 'nobody active at the start'
          : `${(c.churnRate * 100).toFixed(1)} % (${formatCount(c.customersLost)} of ${formatCount(c.customersStart)}${c.cannotLeave ? ': too recent at the start to leave in the span' : ''})`;
    const reasonsOf = (list: Array<{ reason: string; answers: number }>) =>
      list.map((x) => `${x.reason} ${x.answers}`).join(', ') || '–';
    out.write(
      `\nReasons for leaving beside churn (customers active at the start, a purchase in the ${churn.activeWindowDays} days before, no longer active at the end; ${churn.currency} customers; orders up to ${day((churn.salesEnd ?? r.asOf) - 1)})\n${formatTable(
        [
          ['month', 'churn', 'exit reasons'],
          ...churn.byMonth.map((c) => [
            `${c.month}${c.partial ? ' (so far)' : ''}`,
            rate(c),
            reasonsOf(r.exitReasons.byMonth.filter((x) => x.month === c.month)),
          ]),
        ],
      )}\n\n${formatTable([
        [`stage on ${day(churn.span?.from ?? r.asOf)}`, 'churn', 'exit reasons'],
        ...churn.bySegment.map((c) => [
          c.segment === 'none' ? '(no sale yet)' : c.segment,
          rate(c),
          reasonsOf(r.exitReasons.bySegment.filter((x) => x.segment === c.segment)),
        ]),
      ])}\n${churn.note ? `${churn.note}\n` : ''}${
        r.exitReasons.afterOrders > 0
          ? `${countOf(r.exitReasons.afterOrders, 'exit answer', 'exit answers')} after the orders end ${r.exitReasons.afterOrders === 1 ? 'is' : 'are'} left out of the stages: no stage can be read for ${r.exitReasons.afterOrders === 1 ? 'it' : 'them'}\n`
          : ''
      }`,
    );
  }
  out.write(
    r.reviews.count === 0
      ? '\nReviews: none in the period\n'
      : `\nReviews: ${r.reviews.count}, average ${num(r.reviews.average, 2)} of 5\n`,
  );
  if (r.reviews.latest.length > 0) {
    out.write(
      `\nLatest reviews\n${formatTable([
        ['day', 'customer', 'product', 'rating', 'review'],
        ...r.reviews.latest
          .slice(0, LATEST)
          .map((x) => [day(x.createdAt), storeId(x.customerId), clip(x.product), x.rating, clip(x.body ?? '')]),
      ])}\n`,
    );
  }
  if (r.latestComments.length > 0) {
    out.write(
      `\nLatest comments\n${formatTable([
        ['day', 'customer', 'survey', 'answer', 'comment'],
        ...r.latestComments
          .slice(0, LATEST)
          .map((x) => [
            day(x.answeredAt),
            storeId(x.customerId),
            x.survey,
            x.reason ?? num(x.score, 0),
            clip(x.comment),
          ]),
      ])}\n`,
    );
  }
}

/** How many of the latest reviews and comments the human report lists (`--json` has them all). */
const LATEST = 5;

/** A text cut to fit a table cell, with an ellipsis when cut; line breaks become spaces. */
function clip(text: string, width = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** `comeback feedback import FILE` and `comeback feedback report`. */
export function registerFeedback(program: Command, ctx: CommandContext): void {
  const feedback = program
    .command('feedback')
    .description('surveys and reviews: import answers collected elsewhere, the NPS / CSAT / exit-reason report');
  dbOption(
    feedback
      .command('import <file>')
      .description(
        'import survey answers from CSV: survey, customer (id or e-mail), answered_at, then score, reason, comment…; all or nothing, a re-run adds nothing',
      ),
  )
    .option('--json', 'machine output')
    .action(async (file: string, flags: { db?: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new ComebackError('bad_input', `cannot read ${file}`, { cause: error, location: { file } });
      }
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const summary = await importFeedbackCsv(store.db, text, { file, now: ctx.now() });
        if (flags.json) return printJson(ctx.io, summary);
        ctx.io.out.write(
          `${file}: ${summary.rows} answers, ${summary.created} new, ${summary.existing} already imported\n`,
        );
      } finally {
        await store.close();
      }
    });
  dbOption(
    feedback
      .command('report')
      .description('NPS with its interval and monthly trend, CSAT, response rates, exit reasons, reviews'),
  )
    .option('--from <date>', 'first day, YYYY-MM-DD, included')
    .option(
      '--as-of <date>',
      `${AS_OF_HELP.replace(/ \(default.*$/, '')} (default: the end of the day of the latest answer, review or sale)`,
    )
    .option('--json', 'machine output')
    .action(async (flags: { db?: string; from?: string; asOf?: string; json?: boolean }) => {
      // Read in UTC first so that a bad date is refused before the store opens; re-read in its zone.
      dateFlag(flags.from, '--from');
      endDateFlag(flags.asOf, '--as-of');
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const timeZone = await storeTimeZone(store.db);
        const from = dateFlag(flags.from, '--from', timeZone);
        const given = endDateFlag(flags.asOf, '--as-of', timeZone);
        const latest =
          given === undefined
            ? await latestFeedbackEnd(store.db, timeZone, await defaultAsOf(store.db, undefined, timeZone))
            : undefined;
        const asOf = given ?? latest ?? ctx.now();
        const report = await feedbackReport(store.db, { asOf, ...(from !== undefined ? { from } : {}) });
        // The store's id (else the e-mail) beside Comeback's internal one, as the exports do.
        const people = [...report.reviews.latest, ...report.latestComments]
          .map((x) => x.customerId)
          .filter((id): id is number => id !== null);
        const known = await storeCustomers(store.db, people);
        if (flags.json) {
          // `storeCustomer`: the customer's store id as `source:id` (null without one), as the table shows.
          const withStoreId = <T extends { customerId: number | null }>(x: T) => ({
            ...x,
            storeCustomer: x.customerId === null ? null : (known(x.customerId).identities[0] ?? null),
          });
          return printJson(ctx.io, {
            ...report,
            latestComments: report.latestComments.map(withStoreId),
            reviews: { ...report.reviews, latest: report.reviews.latest.map(withStoreId) },
          });
        }
        const source =
          given !== undefined ? '' : latest !== undefined ? 'the day of the latest answer, review or sale' : 'now';
        const storeId = (id: number | null) => {
          if (id === null) return '–';
          const c = known(id);
          return `${c.identities[0] ?? c.email} #${id}`.trim();
        };
        printReport(ctx, report, timeZone, source, storeId);
      } finally {
        await store.close();
      }
    });
}
