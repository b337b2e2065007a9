import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { latestSaleEnd } from '../../analytics/index.js';
import { ComebackError, type Result } from '../../errors.js';
import {
  adjust,
  adjustCredit,
  auditLedger,
  creditStatus,
  dormantMembersAndCount,
  earnForAction,
  enrolMember,
  fetchSender,
  futureWriteRefusal,
  loadProgram,
  markCodesUsed,
  memberAsOf,
  memberHistory,
  memberInstant,
  memberToday,
  type Program,
  parseAction,
  parseProgramConfig,
  programReport,
  programVersions,
  redeem,
  type SyncSummary,
  saveProgram,
  sendRedemptionWebhook,
  settle,
  staleWriteRefusal,
  syncCredit,
  syncOrders,
} from '../../loyalty/index.js';
import { dayInZone } from '../../shared/dates.js';
import { formatMoney, type Money, normaliseCurrency, readExactAmount } from '../../shared/money.js';
import { type Db, openStore } from '../../store/index.js';
import { resolveCustomerRef } from '../customer-ref.js';
import { storeCustomers } from '../export-columns.js';
import { asOfText, countOf, formatCount, formatTable, printJson } from '../io.js';
import { type CommandContext, dbOption, resolveAsOf } from '../shared.js';

interface Flags {
  db?: string;
  json?: boolean;
  asOf?: string;
}

/** The store-local day (`YYYY-MM-DD`) of an instant: days are the store's zone's, as everywhere. */
const day = (ms: number, timeZone: string) => dayInZone(ms, timeZone);

/**
 * What a member can spend after an action, as `loyalty member` reads it (pending matured, expiries due
 * taken off, as of the latest ledger entry when that is later): "available 1,250 points (£12.50)". The
 * stored balance the ledger functions return is the booked column, which counts neither.
 */
async function availableNow(db: Db, program: Program, customerId: number, asOf: number, timeZone: string) {
  const read = await memberAsOf(db, program, customerId, asOf, { given: false, timeZone });
  if (!read) return 'not a member';
  const m = read.status;
  const shown = day(read.asOf - 1, timeZone);
  const when = read.asOf > asOf && shown !== day(asOf - 1, timeZone) ? ` as of ${shown}` : '';
  return `available ${formatCount(m.available)} points (${formatMoney(m.availableValueMinor, m.currency)})${when}`;
}

/** `comeback loyalty …`: set up the program, run it over the store's orders, serve members, report. */
export function registerLoyalty(program: Command, ctx: CommandContext): void {
  const loyalty = program
    .command('loyalty')
    .description('the loyalty program: points, tiers, rewards, referrals and store credit on append-only ledgers');

  /** Adds the common options and runs `fn` with an open store, the clock (or --as-of) and the program. */
  const command = (name: string, description: string) =>
    dbOption(loyalty.command(name).description(description))
      .option('--json', 'print JSON')
      .option(
        '--as-of <date>',
        "act as of this date (YYYY-MM-DD: the end of that day, or an ISO instant); default: the store's latest data, as every command",
      );
  /**
   * Runs `fn` with an open store, the program and the as-of every command shares (`resolveAsOf`: the
   * flag, else the store's latest data). A command that writes the ledger refuses a default date far
   * past the store's data (see `staleWriteRefusal`).
   */
  const withProgram = async <F extends Flags>(
    flags: F,
    fn: (db: Db, program: Program, now: number, source: string, timeZone: string) => Promise<void>,
    { write = false, act = false }: { write?: boolean; act?: boolean } = {},
  ): Promise<void> => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const program = await loadProgram(store.db);
      const resolved = await resolveAsOf(ctx, store.db, flags.asOf, program.config.currency);
      if (write) {
        const { timeZone } = resolved;
        const dataEnd = await latestSaleEnd(store.db, undefined, undefined, timeZone);
        const refusal = staleWriteRefusal(resolved.asOf, dataEnd, resolved.source === 'given', timeZone);
        if (refusal) throw new ComebackError('conflict', refusal);
        // A typed as-of is the day's end: its last millisecond is the day the write is dated on.
        const ahead = futureWriteRefusal(resolved.asOf - 1, ctx.now(), timeZone);
        if (ahead) throw new ComebackError('bad_input', ahead, { location: { field: 'as-of' } });
      }
      // A hand-made entry (enrol, earn, redeem, adjust) as of a day is made on that day, at its last
      // millisecond: at the as-of itself, the next midnight, it would read as the next day's.
      const dayEnd = flags.asOf === undefined ? resolved.source !== 'now' : DAY.test(flags.asOf.trim());
      const at = act && dayEnd ? resolved.asOf - 1 : resolved.asOf;
      await fn(store.db, program, at, resolved.source, resolved.timeZone);
    } finally {
      await store.close();
    }
  };
  const out = (text: string) => ctx.io.out.write(`${text}\n`);
  /**
   * Runs a hand-made entry for one member (earn, redeem, adjust, credit adjust) at the as-of, or at the
   * member's latest ledger entry when that is later (`memberInstant`, said on stderr after it): the ledger is not
   * written back in time. A typed as-of before that entry is refused, naming `as-of`.
   */
  const withMemberWrite = <F extends Flags>(
    flags: F,
    customer: string,
    fn: (db: Db, program: Program, customerId: number, at: number, timeZone: string) => Promise<void>,
  ): Promise<void> =>
    withProgram(
      flags,
      async (db, p, now, source, timeZone) => {
        const id = await resolveCustomer(db, customer);
        const at = await memberInstant(db, id, now, { given: source === 'given', timeZone, writing: true });
        await fn(db, p, id, at, timeZone);
        if (at > now) {
          ctx.io.err.write(
            `note: dated ${day(at, timeZone)}, the member's latest ledger entry, after the store's latest data (${day(now, timeZone)}): a member's ledger is not written back in time\n`,
          );
        }
      },
      ACT,
    );

  command('init', 'validate a program file and store it as the next version (no change, no new version)')
    .requiredOption('--config <file>', 'program JSON, see samples/loyalty/program.example.json')
    .action(async (flags: Flags & { config: string }) => {
      let text: string;
      try {
        text = readFileSync(flags.config, 'utf8');
      } catch (error) {
        throw new ComebackError('bad_input', `cannot read ${flags.config}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const config = parseProgramConfig(text, flags.config);
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const { asOf } = await resolveAsOf(ctx, store.db, flags.asOf, config.currency);
        const saved = await saveProgram(store.db, config, { now: asOf }).catch((error: unknown) => {
          // A refusal about the file's content names the file, as a bad field in it does.
          if (error instanceof ComebackError && error.kind === 'bad_input' && error.location?.field)
            throw new ComebackError('bad_input', `${flags.config}: ${error.message}`, { cause: error });
          throw error;
        });
        if (flags.json) printJson(ctx.io, { version: saved.version, name: config.name, currency: config.currency });
        else out(`loyalty program "${config.name}" (${config.currency}) is version ${saved.version}`);
      } finally {
        await store.close();
      }
    });

  command('status', 'the program, its versions and its members in brief').action(async (flags: Flags) =>
    withProgram(flags, async (db, p, now, _source, timeZone) => {
      const report = await programReport(db, p, { asOf: now });
      const versions = await programVersions(db);
      if (flags.json) return printJson(ctx.io, { version: p.version, config: p.config, versions, report });
      const c = p.config;
      out(
        `${c.name}: version ${p.version} of ${versions.length}, ${c.currency}, 1 point = ${
          Number.isInteger(c.pointValueMinor)
            ? formatMoney(c.pointValueMinor, c.currency)
            : `${c.pointValueMinor} minor units of ${c.currency}`
        }`,
      );
      out(
        `earning: ${c.earning.pointsPerUnit} points per ${c.currency} 1, return window ${c.earning.returnWindowDays} days`,
      );
      out(
        `tiers (${c.tiers.basis} over ${c.tiers.windowDays} days): ${c.tiers.levels.map((l) => `${l.name} ≥ ${l.threshold} ×${l.multiplier}`).join(', ')}`,
      );
      out(
        `members: ${formatCount(report.members)} (${formatCount(report.activeMembers)} active), outstanding ${formatCount(report.outstanding.available + report.outstanding.pending)} points = ${formatMoney(report.outstanding.liabilityMinor, c.currency)}, as of ${asOfText(now, timeZone)}`,
      );
    }),
  );

  command('member', "a member's balance, tier, rewards within reach and recent ledger entries")
    .argument('<customer>', 'customer id or e-mail')
    .action(async (customer: string, flags: Flags) =>
      withProgram(flags, async (db, p, now, source, timeZone) => {
        const id = await resolveCustomer(db, customer);
        const read = await memberAsOf(db, p, id, now, { given: source === 'given', timeZone });
        if (!read) throw new ComebackError('not_found', `customer ${customer} is not a loyalty member`);
        const { status } = read;
        // The customer's own pages read as of today (the clock, at the edge). When the store's data
        // ends long before it, points and tiers may have lapsed since: say what the customer sees.
        const clock = ctx.now();
        const dataEnd = source === 'given' ? undefined : await latestSaleEnd(db, undefined, undefined, timeZone);
        const seen = await memberToday(db, p, id, { readAsOf: read.asOf, now: clock, dataEnd, timeZone });
        const live = seen?.status;
        if (flags.json)
          return printJson(ctx.io, { ...status, asOf: read.asOf, ...(seen ? { today: seen.today } : {}) });
        // The store's own ids first: Comeback's internal id differs between stores and databases.
        const names = [...(await storeCustomers(db, [id]))(id).identities, `#${id}`].join(', ');
        out(
          `member ${names}: ${status.tier.name} (×${status.tier.multiplier}) since ${day(status.tier.since, timeZone)}, referral code ${status.referralCode}`,
        );
        out(
          `available ${formatCount(status.available)} points (${formatMoney(status.availableValueMinor, status.currency)}), pending ${formatCount(status.pending)}, earned in all ${formatCount(status.lifetimeEarned)}`,
        );
        if (read.asOf > now) {
          out(
            `note: shown as of ${day(read.asOf - 1, timeZone)}, the day the member's ledger is booked up to (a sync, live reviews, answers, redemptions), after the store's latest data (${day(now - 1, timeZone)}); as the customer's own pages show it`,
          );
        }
        if (live && (live.available !== status.available || live.tier.key !== status.tier.key)) {
          out(
            `note: the store's data ends on ${day(now - 1, timeZone)}; today (${day(clock, timeZone)}) the customer's own pages show ${formatCount(live.available)} points (${formatMoney(live.availableValueMinor, live.currency)}) and ${live.tier.name}, after the expiries and tier reviews due since (\`loyalty sync --as-of ${day(clock, timeZone)}\` books them)`,
          );
        }
        if (status.debt > 0) {
          out(`owes ${formatCount(status.debt)} points spent before a refund: later earnings repay them first`);
        }
        if (status.nextTier) out(`next tier: ${status.nextTier.name} at ${formatCount(status.nextTier.threshold)}`);
        if (status.tierKeep) {
          const k = status.tierKeep;
          const spend = p.config.tiers.basis === 'spend';
          const amount = (v: number) => (spend ? formatMoney(v, p.config.currency) : `${formatCount(v)} points`);
          const of = spend
            ? `${amount(k.counted)} of ${amount(k.threshold)}`
            : `${formatCount(k.counted)} of ${amount(k.threshold)}`;
          // Refunds in the window can take back more than was earned in it (points earned before it).
          const soFar =
            k.counted < 0
              ? `refunds in the window took back ${amount(-k.counted)} more than it ${spend ? 'spent' : 'earned'}, of ${amount(k.threshold)} needed`
              : `${of} counted so far`;
          out(
            k.missing > 0
              ? `to keep ${status.tier.name} at the review on ${day(k.reviewAt - 1, timeZone)}: ${amount(k.missing)} more by then (${soFar})`
              : `${status.tier.name} is kept at the review on ${day(k.reviewAt - 1, timeZone)} (${of} counted)`,
          );
        }
        if (status.rewardsWithinReach.length > 0) {
          out(`within reach: ${status.rewardsWithinReach.map((r) => `${r.key} (${r.cost})`).join(', ')}`);
        }
        out('');
        out(
          formatTable([
            ['date', 'points', 'kind', 'reason', 'bucket'],
            ...memberHistory(status).map((h) =>
              h.due
                ? [
                    day(h.at, timeZone),
                    String(h.points),
                    'expire',
                    h.expiry.reason,
                    'due (a sync as of this day or later books it)',
                  ]
                : [
                    day(h.at, timeZone),
                    String(h.points),
                    h.entry.kind,
                    // The ledger's reason names Comeback's order id; a person knows the store's order number.
                    h.entry.orderId !== null && h.entry.orderNumber
                      ? h.entry.reason.replace(`order ${h.entry.orderId}`, `order ${h.entry.orderNumber}`)
                      : h.entry.reason,
                    // A pending entry whose return window has passed by the as-of counts as available (as
                    // the balance above does), though only the next sync books it.
                    h.entry.bucket === 'pending' && h.entry.availableAt <= read.asOf ? 'available' : h.entry.bucket,
                  ],
            ),
          ]),
        );
      }),
    );

  command('enrol', 'enrol a customer (with a referral code of another member)')
    .argument('<customer>', 'customer id or e-mail')
    .option('--referral <code>', "the referrer's code")
    .action(async (customer: string, flags: Flags & { referral?: string }) =>
      withProgram(
        flags,
        async (db, p, now) => {
          const id = await resolveCustomer(db, customer);
          const value = unwrap(await enrolMember(db, p, { customerId: id, now, referralCode: flags.referral }));
          if (flags.json) return printJson(ctx.io, value);
          out(
            `${value.alreadyMember ? 'already a member' : 'enrolled'}: customer ${id}, referral code ${value.referralCode}`,
          );
          if (value.referral)
            out(`referral ${value.referral.status}${value.referral.reason ? `: ${value.referral.reason}` : ''}`);
        },
        ACT,
      ),
    );

  command('earn', 'credit an action: review, share, birthday, signup or custom:NAME')
    .argument('<customer>', 'customer id or e-mail')
    .requiredOption('--action <action>', 'review | share | birthday | signup | custom:NAME')
    .option('--reference <ref>', 'what the action was (review id, shared URL); the same reference is credited once')
    .action(async (customer: string, flags: Flags & { action: string; reference?: string }) => {
      const action = parseAction(flags.action);
      if (!action)
        throw new ComebackError(
          'usage',
          `--action ${flags.action}: use review, share, birthday, signup or custom:NAME`,
        );
      await withMemberWrite(flags, customer, async (db, p, id, now, timeZone) => {
        const value = unwrap(await earnForAction(db, p, { customerId: id, action, now, reference: flags.reference }));
        if (flags.json) return printJson(ctx.io, value);
        out(
          value.applied
            ? `+${value.points} points for ${action}; ${await availableNow(db, p, id, now, timeZone)}`
            : `already credited; ${await availableNow(db, p, id, now, timeZone)}`,
        );
      });
    });

  command('redeem', 'spend points on a reward and print its single-use code')
    .argument('<customer>', 'customer id or e-mail')
    .requiredOption('--reward <key>', 'a reward key of the program')
    .option(
      '--key <idempotency-key>',
      'retrying with the same key returns the same code; the key with another customer or reward is refused (exit 1)',
    )
    .option('--webhook <url>', 'POST the signed redemption to the store (secret from COMEBACK_WEBHOOK_SECRET)')
    .action(async (customer: string, flags: Flags & { reward: string; key?: string; webhook?: string }) => {
      const secret = ctx.env.COMEBACK_WEBHOOK_SECRET;
      if (flags.webhook && !secret)
        throw new ComebackError('usage', '--webhook needs COMEBACK_WEBHOOK_SECRET to sign with');
      await withMemberWrite(flags, customer, async (db, p, id, now, timeZone) => {
        const value = unwrap(
          await redeem(db, p, { customerId: id, rewardKey: flags.reward, now, idempotencyKey: flags.key }),
        );
        let delivery: { ok: boolean; status: number } | undefined;
        if (flags.webhook && secret)
          delivery = await sendRedemptionWebhook(fetchSender(), flags.webhook, value, { secret, now });
        if (flags.json) return printJson(ctx.io, { ...value, webhook: delivery });
        out(
          `${value.code}  ${value.reward.name}, −${value.points} points, valid until ${day(value.expiresAt, timeZone)}; ${await availableNow(db, p, id, now, timeZone)}`,
        );
        if (delivery) out(`webhook: ${delivery.ok ? 'delivered' : 'failed'} (HTTP ${delivery.status})`);
      });
    });

  command('adjust', 'credit or debit points by hand, with a reason')
    .argument('<customer>', 'customer id or e-mail')
    .requiredOption('--points <n>', 'points to add (negative to take away)')
    .requiredOption('--reason <text>', 'why: kept in the ledger')
    .option('--key <idempotency-key>', 'retrying with the same key applies it once; another request with it is refused')
    .action(async (customer: string, flags: Flags & { points: string; reason: string; key?: string }) => {
      const points = Number(flags.points);
      if (!Number.isSafeInteger(points) || points === 0)
        throw new ComebackError('usage', `--points ${flags.points}: a non-zero whole number`);
      await withMemberWrite(flags, customer, async (db, p, id, now, timeZone) => {
        const value = unwrap(
          await adjust(db, p, {
            customerId: id,
            points,
            reason: flags.reason,
            now,
            actor: 'cli',
            idempotencyKey: flags.key,
          }),
        );
        if (flags.json) return printJson(ctx.io, value);
        out(`${points > 0 ? '+' : ''}${points} points; ${await availableNow(db, p, id, now, timeZone)}`);
      });
    });

  const credit = command('credit', "a member's store credit: balance and checkout code per currency, and its history")
    .argument('<customer>', 'customer id or e-mail')
    .option('--entries <n>', 'history entries to show, newest first', '20')
    .action(async (customer: string, flags: Flags & { entries: string }) => {
      const entries = Number(flags.entries);
      if (!Number.isSafeInteger(entries) || entries < 0)
        throw new ComebackError('bad_input', `entries: "${flags.entries}" is not a whole number`);
      await withProgram(flags, async (db, _p, dataAsOf, source, timeZone) => {
        const id = await resolveCustomer(db, customer);
        // As `loyalty member`: a ledger booked past the store's data (a live redemption, a hand
        // adjustment) is read as of its latest entry, as the customer's pages show it. A typed as-of
        // reads the credit ledger's history as it stood then.
        const now = source === 'given' ? dataAsOf : await memberInstant(db, id, dataAsOf, { given: false, timeZone });
        const status = await creditStatus(db, id, { asOf: now, entries });
        if (flags.json) return printJson(ctx.io, { asOf: now, ...status });
        // The store's ids first, then Comeback's internal one, as `loyalty member` names a member.
        const who = [...(await storeCustomers(db, [id]))(id).identities, `#${id}`].join(', ');
        if (status.accounts.length === 0) {
          out(`customer ${who} has no store credit`);
          return;
        }
        if (now > dataAsOf) {
          out(
            `note: shown as of ${day(now - 1, timeZone)}, the member's latest ledger entry, after the store's latest data (${day(dataAsOf - 1, timeZone)}); as the customer's own pages show it`,
          );
        }
        for (const a of status.accounts) {
          out(`customer ${who}: ${formatMoney(a.balanceMinor, a.currency)} of store credit, checkout code ${a.code}`);
          if (a.dueExpiryMinor > 0) {
            out(
              `  ${formatMoney(a.dueExpiryMinor, a.currency)} of it lapsed by ${day(now - 1, timeZone)} and is not counted; a \`loyalty sync\` as of that day or later books its expiry`,
            );
          }
        }
        if (status.entries.length === 0) return;
        out('');
        out(
          formatTable([
            ['date', 'amount', 'kind', 'reason', 'by'],
            ...status.entries.map((e) => [
              day(e.occurredAt, timeZone),
              `${e.amountMinor > 0 ? '+' : ''}${formatMoney(e.amountMinor, e.currency)}`,
              e.kind,
              e.reason,
              e.actor ?? (e.orderId !== null ? `order ${e.orderId}` : '–'),
            ]),
          ]),
        );
      });
    });

  dbOption(credit.command('adjust').description("credit or debit a member's store credit by hand, with a reason"))
    .argument('<customer>', 'customer id or e-mail')
    .requiredOption('--amount <money>', 'in major units with a decimal point: 5.00 adds, -2.50 takes away')
    .option('--currency <code>', "ISO 4217 code (default: the program's currency)")
    .requiredOption('--reason <text>', 'why: kept in the credit ledger')
    .option('--key <idempotency-key>', 'retrying with the same key applies it once; another request with it is refused')
    .option('--json', 'print JSON')
    .option('--as-of <date>', 'when the adjustment happens (YYYY-MM-DD or an ISO instant)')
    .action(
      async (customer: string, own: Flags & { amount: string; currency?: string; reason: string; key?: string }) => {
        // `credit` has --db, --json and --as-of too, and commander gives them to it wherever they stand.
        const flags = { ...credit.opts<Flags>(), ...own };
        return withMemberWrite(flags, customer, async (db, p, id, now) => {
          const currency = flags.currency === undefined ? p.config.currency : normaliseCurrency(flags.currency);
          if (!currency)
            throw new ComebackError('bad_input', `currency: "${flags.currency}" is not an ISO 4217 currency code`);
          const amount = readExactAmount(flags.amount, currency);
          if (!amount.ok) throw new ComebackError('bad_input', `amount: ${amount.reason}`);
          if (amount.minor === 0) throw new ComebackError('bad_input', 'amount: must not be zero');
          const result = await adjustCredit(db, {
            customerId: id,
            currency,
            amountMinor: amount.minor,
            reason: flags.reason,
            now,
            actor: 'cli',
            idempotencyKey: flags.key,
          });
          // The library names its own field (`amountMinor`); here the person typed --amount.
          if (!result.ok)
            throw new ComebackError(result.error.kind, result.error.message.replace(/^amountMinor: /, 'amount: '));
          const value = result.value;
          if (flags.json) return printJson(ctx.io, value);
          const moved = `${value.amountMinor > 0 ? '+' : ''}${formatMoney(value.amountMinor, currency)}`;
          out(
            `${value.applied ? moved : `already applied (${moved})`}; store credit ${formatMoney(value.balanceMinor, currency)}`,
          );
        });
      },
    );

  command(
    'sync',
    "run the program over the store's orders, mark used codes, spend and expire store credit, settle, expire and review tiers",
  ).action(async (flags: Flags) =>
    withProgram(
      flags,
      async (db, p, now, source, timeZone) => {
        ctx.io.err.write(`loyalty sync as of ${asOfText(now, timeZone)} (${source})\n`);
        const bar = syncProgress(ctx);
        let orders: SyncSummary;
        try {
          orders = await syncOrders(db, p, { now, onProgress: bar.update });
        } finally {
          bar.stop();
        }
        const codesUsed = await markCodesUsed(db);
        const credit = await syncCredit(db, { now });
        const settled = await settle(db, p, { now });
        const upgrades = orders.upgrades + settled.upgrades;
        const downgrades = orders.downgrades + settled.downgrades;
        if (flags.json)
          return printJson(ctx.io, { asOf: now, orders, codesUsed, credit, settle: settled, upgrades, downgrades });
        const sums = (list: Money[]) =>
          list.length === 0
            ? formatMoney(0, p.config.currency)
            : list.map((m) => formatMoney(m.minor, m.currency)).join(', ');
        out(
          formatTable([
            ['', 'count'],
            ['orders looked at', formatCount(orders.orders)],
            ['members enrolled', formatCount(orders.enrolled)],
            ['points earned', formatCount(orders.pointsEarned)],
            ['points reversed', formatCount(orders.pointsReversed)],
            ['points spent before a refund, now owed', formatCount(orders.shortfall)],
            ['referral points', formatCount(orders.referralPoints)],
            ['orders in other currencies', formatCount(orders.otherCurrency)],
            ['codes marked used', formatCount(codesUsed)],
            [`orders that spent store credit (${formatCount(credit.spends)})`, sums(credit.spent)],
            [`store credit given back by refunds (${formatCount(credit.restores)})`, sums(credit.restored)],
            ['orders over their store credit', formatCount(credit.overUses.length)],
            ['credit codes in another currency', formatCount(credit.otherCurrency)],
            ['store credit expired', sums(credit.expired)],
            ['points expired', formatCount(settled.expired)],
            ['tier upgrades / downgrades', `${formatCount(upgrades)} / ${formatCount(downgrades)}`],
          ]),
        );
        if (orders.otherCurrency > 0) {
          const all = orders.otherCurrency === orders.orders ? 'all ' : '';
          out(
            `note: ${all}${formatCount(orders.otherCurrency)} orders looked at are in other currencies than the program's ${p.config.currency}: they earn no points and enrol no one`,
          );
        }
        for (const o of credit.overUses) {
          out(
            `order ${o.orderId} used ${o.code} for ${formatMoney(o.requestedMinor, o.currency)} with ${formatMoney(o.spentMinor, o.currency)} of store credit: only that was taken, ${formatMoney(o.requestedMinor - o.spentMinor, o.currency)} was given beyond it`,
          );
        }
        for (const c of credit.outstanding) {
          const others =
            c.otherMinor === 0 ? '' : `, ${formatMoney(c.otherMinor, c.currency)} changed meanwhile by others`;
          out(
            `store credit outstanding in ${c.currency}: ${formatMoney(c.beforeMinor, c.currency)} before the sync, ${formatMoney(c.afterMinor, c.currency)} after${others}`,
          );
        }
      },
      WRITE,
    ),
  );

  command(
    'report',
    'members, points issued (gross and net of reversals) / redeemed / expired, liability, debt, tiers, repeat purchase',
  ).action(async (flags: Flags) =>
    withProgram(flags, async (db, p, now, _source, timeZone) => {
      const r = await programReport(db, p, { asOf: now });
      if (flags.json) return printJson(ctx.io, r);
      const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
      out(`as of ${asOfText(r.asOf, timeZone)}, from the ledger up to then`);
      out(
        formatTable([
          ['', 'value'],
          ['members', formatCount(r.members)],
          [`active (${r.activeDays} days)`, formatCount(r.activeMembers)],
          ['points issued, gross', formatCount(r.points.issuedGross)],
          ['points issued, net of reversals', formatCount(r.points.issuedNet)],
          ['points redeemed', formatCount(r.points.redeemed)],
          // Past the last sync, what expired by the as-of though no sync has booked it yet counts too.
          [
            'points expired',
            r.points.expiredUnbooked > 0
              ? `${formatCount(r.points.expired)} (${formatCount(r.points.expiredUnbooked)} of them due, not yet booked)`
              : formatCount(r.points.expired),
          ],
          ['points reversed', formatCount(r.points.reversed)],
          // Credits by hand are in issued; with the debits by hand the rows add up to what is outstanding.
          ['points debited by hand', formatCount(r.points.debitedByHand)],
          ['outstanding available', formatCount(r.outstanding.available)],
          ['outstanding pending', formatCount(r.outstanding.pending)],
          ['liability', formatMoney(r.outstanding.liabilityMinor, r.currency)],
          // What members can spend: credit lapsed by the as-of is not, though no sync has booked it yet.
          ...r.credit.map((c) => [
            `store credit outstanding (${formatCount(c.accounts)} ${c.accounts === 1 ? 'member' : 'members'})`,
            c.lapsedMinor > 0
              ? `${formatMoney(c.spendableMinor, c.currency)} (${formatMoney(c.lapsedMinor, c.currency)} more lapsed, not yet booked)`
              : formatMoney(c.spendableMinor, c.currency),
          ]),
          [
            `owed by members (${formatCount(r.outstanding.membersInDebt)})`,
            `${formatCount(r.outstanding.debt)} (${formatMoney(r.outstanding.debtValueMinor, r.currency)})`,
          ],
          ['redemption rate of gross issued', pct(r.redemptionRateGross)],
          ['redemption rate of net issued', pct(r.redemptionRateNet)],
          [
            `tier upgrades / downgrades (${r.movementDays} days)`,
            `${formatCount(r.upgrades)} / ${formatCount(r.downgrades)}`,
          ],
          ['repeat rate, members', pct(r.repeatPurchase.members.rate)],
          ['repeat rate, non-members', pct(r.repeatPurchase.nonMembers.rate)],
        ]),
      );
      out('');
      out(formatTable([['tier', 'members'], ...r.tiers.map((t) => [t.name, formatCount(t.members)])]));
    }),
  );

  command(
    'audit',
    'check the ledger: balances against their entries, no key twice, every reward code paid by its debit (exit 1 on a problem)',
  ).action(async (flags: Flags) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const audit = await auditLedger(store.db);
      if (flags.json) printJson(ctx.io, audit);
      else {
        out(`ledger audit: ${formatCount(audit.members)} members, ${formatCount(audit.entries)} entries`);
        for (const problem of audit.problems) out(`  ${problem}`);
        if (audit.problems.length === 0) out('no problems');
      }
      if (audit.problems.length > 0) {
        throw new ComebackError('conflict', `the ledger audit found ${formatCount(audit.problems.length)} problem(s)`);
      }
    } finally {
      await store.close();
    }
  });

  command('dormant', 'members with no earn or redemption for a while, and what they are missing')
    .option('--days <n>', "days without activity (default: the program's dormantDays)")
    .option('--limit <n>', 'at most this many members, largest balance first', '1000')
    .action(async (flags: Flags & { days?: string; limit: string }) => {
      const days = flags.days === undefined ? undefined : Number(flags.days);
      if (days !== undefined && (!Number.isSafeInteger(days) || days < 1)) {
        throw new ComebackError('usage', `--days ${flags.days}: a whole number of days`);
      }
      const limit = Number(flags.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new ComebackError('usage', `--limit ${flags.limit}: a whole number of members, 1 or more`);
      }
      await withProgram(flags, async (db, p, now, _source, timeZone) => {
        const { total, members } = await dormantMembersAndCount(db, p, { asOf: now, days, limit });
        // As GET /loyalty/dormant answers: the first `limit` members and how many are dormant in all.
        if (flags.json) return printJson(ctx.io, { asOf: now, asOfDay: day(now - 1, timeZone), total, members });
        // The store's id beside Comeback's internal one, as the exports do.
        const known = await storeCustomers(
          db,
          members.map((m) => m.customerId),
        );
        out(
          formatTable([
            ['customer', 'store id', 'inactive days', 'balance', 'worth', 'within reach', 'next reward (points short)'],
            ...members.map((m) => [
              `#${m.customerId}`,
              known(m.customerId).storeId || known(m.customerId).email,
              formatCount(m.daysInactive),
              formatCount(m.balance),
              formatMoney(m.balanceValueMinor, p.config.currency),
              String(m.rewardsWithinReach.length),
              m.nextReward ? `${m.nextReward.key} (${formatCount(m.nextReward.missing)})` : '–',
            ]),
          ]),
        );
        out(
          members.length < total
            ? `${formatCount(members.length)} of ${formatCount(total)} dormant members, largest balance first (--limit ${total} shows them all)`
            : `${countOf(total, 'dormant member', 'dormant members')}`,
        );
      });
    });
}

const WRITE = { write: true };
/** A write a person makes by hand: dated on the as-of's day (see `withProgram`). */
const ACT = { write: true, act: true };
/** An as-of typed as a day, `YYYY-MM-DD` (the end of that day), rather than an instant. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A progress bar for `loyalty sync` on stderr when it is a terminal (orders looked at / to look at). */
function syncProgress(ctx: CommandContext): { update(done: number, total: number): void; stop(): void } {
  if (!ctx.io.err.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.io.err,
      format: 'loyalty sync [{bar}] {percentage}% | {value}/{total} orders | {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The customer a person names: the one rule of `comeback customer` (src/cli/customer-ref.ts). */
const resolveCustomer = resolveCustomerRef;

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new ComebackError(result.error.kind, result.error.message);
  return result.value;
}
