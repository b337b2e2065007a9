import { type Insertable, sql } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import { type Db, dialectOf } from '../store/index.js';
import {
  limitRefusal,
  lockMember,
  type MemberRow,
  post,
  reviewAfterReversal,
  reviewTier,
  settleMember,
  writeTransaction,
} from './ledger.queries.js';
import type { LoyaltyDb, LoyaltyOrderTable, LoyaltyTables } from './loyalty-tables.js';
import { enrolLocked, rewardReferral } from './members.queries.js';
import { earnableMinor, orderPoints, type Program, reversalTarget, tierByKey, tierRank } from './program.js';

/** What one `syncOrders` run did. */
export interface SyncSummary {
  /** Orders looked at (new or changed since the last run). */
  orders: number;
  enrolled: number;
  pointsEarned: number;
  pointsReversed: number;
  /** Points a refund should have taken back but the member had already spent: booked as the member's debt. */
  shortfall: number;
  /** Tier changes made while syncing: upgrades from orders, drops after refunds and due reviews. */
  upgrades: number;
  downgrades: number;
  ledgerEntries: number;
  referralPoints: number;
  /** Orders first seen in another currency than the program's, of members or not: they earn and enrol nothing. */
  otherCurrency: number;
}

interface OrderCandidate {
  id: number;
  customer_id: number | null;
  placed_at: number;
  currency: string;
  subtotal_minor: number;
  shipping_minor: number;
  tax_minor: number;
  discount_minor: number;
  total_minor: number;
  refunded_minor: number;
  status: string;
  seen: number | null;
  refunded_seen: number | null;
  status_seen: string | null;
  earned: number | null;
  reversed: number | null;
  shortfall: number | null;
  earn_available_at: number | null;
  cancelled_at: number | null;
  last_refund_at: number | null;
  event_at: number;
}

/**
 * Runs the program over the store's orders: every order not seen before, or whose refunds or status
 * changed, in the order things happened: an order's sale when it was placed, its refund or
 * cancellation when that happened, so that each tier decision (an upgrade on an order, a drop after a
 * refund) reads the points of everything before it and nothing after. An order first seen with a
 * refund earns first; its state records the refund as not yet seen, so it comes back in its place in
 * time (a later batch, or the next run if this one stops) for the reversal. A paid order earns
 * floor(net merchandise × pointsPerUnit × tier multiplier), pending until its return window has
 * passed; refunds and cancellations take back the same share of what it earned (see
 * `reversalTarget`). Orders in another currency, guest orders, orders placed before the customer
 * enrolled and orders first seen already refunded or cancelled earn nothing. Every entry has an
 * idempotency key (`order:ID:earn`, `order:ID:reverse:REFUNDED`), so a rerun, or two at once, books
 * nothing twice. Work goes in batches, one write transaction each; `onProgress(done, total)` hears after
 * each batch how many orders were looked at of those there were to look at.
 */
export async function syncOrders(
  db: Db,
  program: Program,
  {
    now,
    batchSize = 2000,
    onProgress,
  }: { now: number; batchSize?: number; onProgress?: (done: number, total: number) => void },
): Promise<SyncSummary> {
  const summary: SyncSummary = {
    orders: 0,
    enrolled: 0,
    pointsEarned: 0,
    pointsReversed: 0,
    shortfall: 0,
    upgrades: 0,
    downgrades: 0,
    ledgerEntries: 0,
    referralPoints: 0,
    otherCurrency: 0,
  };
  const total = onProgress ? await countCandidates(db) : 0;
  // Orders that earned in this run and come back for their refund: looked at once, counted once.
  const deferred = new Set<number>();
  for (;;) {
    const done = await writeTransaction(db, async (trx) => {
      // Two syncs at once would both pick the same orders; on PostgreSQL one waits for the other here
      // (on SQLite the write transaction already serialises them), then sees what the first booked.
      if (dialectOf(db) === 'postgres')
        await sql`select pg_advisory_xact_lock(hashtext('comeback.loyalty.sync'))`.execute(trx);
      const batch = await candidates(trx, batchSize);
      if (batch.length === 0) return true;
      const members = new Map<number, MemberRow | null>();
      const pendingReferrals = program.config.referral ? await pendingReferees(trx) : new Set<number>();
      const states = new Map<number, Insertable<LoyaltyOrderTable>>();
      // Reversals of orders this batch earned, due by its last event (every one in the last batch): run
      // in their place among the batch's events; later ones come back with a later batch.
      const through = batch.length < batchSize ? Number.POSITIVE_INFINITY : Number(batch.at(-1)!.event_at);
      const later: OrderCandidate[] = [];
      const run = async (order: OrderCandidate) => {
        const { state, again } = await syncOrder(
          trx,
          program,
          order,
          members,
          pendingReferrals,
          summary,
          now,
          deferred,
        );
        states.set(order.id, state);
        if (!again || again.event_at > through) return;
        const at = later.findIndex((o) => o.event_at > again.event_at);
        later.splice(at < 0 ? later.length : at, 0, again);
      };
      for (const order of batch) {
        while (later[0] && later[0].event_at <= Number(order.event_at)) await run(later.shift()!);
        await run(order);
      }
      while (later[0]) await run(later.shift()!);
      await writeStates(trx, [...states.values()]);
      return batch.length < batchSize;
    });
    onProgress?.(summary.orders, Math.max(total, summary.orders));
    if (done) return summary;
  }
}

/** How many orders a sync would look at now (for progress only). */
async function countCandidates(db: Db): Promise<number> {
  const row = await db
    .withTables<LoyaltyTables>()
    .selectFrom('orders as o')
    .leftJoin('loyalty_orders as lo', 'lo.order_id', 'o.id')
    .select(sql<number>`count(*)`.as('n'))
    .where('o.customer_id', 'is not', null)
    .where('o.status', '<>', 'pending')
    .where((eb) =>
      eb.or([
        eb('lo.order_id', 'is', null),
        eb('lo.refunded_seen', '<>', eb.ref('o.refunded_minor')),
        eb('lo.status_seen', '<>', eb.ref('o.status')),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function candidates(trx: LoyaltyDb, limit: number): Promise<OrderCandidate[]> {
  return trx
    .selectFrom('orders as o')
    .leftJoin('loyalty_orders as lo', 'lo.order_id', 'o.id')
    .select([
      'o.id',
      'o.customer_id',
      'o.placed_at',
      'o.currency',
      'o.subtotal_minor',
      'o.shipping_minor',
      'o.tax_minor',
      'o.discount_minor',
      'o.total_minor',
      'o.refunded_minor',
      'o.status',
      'lo.order_id as seen',
      'lo.refunded_seen',
      'lo.status_seen',
      'lo.earned',
      'lo.reversed',
      'lo.shortfall',
      'lo.earn_available_at',
      'o.cancelled_at',
      (eb) =>
        eb
          .selectFrom('refunds as r')
          .select((r) => r.fn.max('r.refunded_at').as('at'))
          .whereRef('r.order_id', '=', 'o.id')
          .as('last_refund_at'),
      // When what the sync books for the order happens: its sale when first seen, else its reversal
      // (the cancellation, or the latest refund; last when the store gave no date).
      sql<number>`case when lo.order_id is null then o.placed_at
        when o.status = 'cancelled' then coalesce(o.cancelled_at, ${UNDATED})
        else coalesce((select max(r2.refunded_at) from refunds r2 where r2.order_id = o.id), ${UNDATED}) end`.as(
        'event_at',
      ),
    ])
    .where('o.customer_id', 'is not', null)
    .where('o.status', '<>', 'pending')
    .where((eb) =>
      eb.or([
        eb('lo.order_id', 'is', null),
        eb('lo.refunded_seen', '<>', eb.ref('o.refunded_minor')),
        eb('lo.status_seen', '<>', eb.ref('o.status')),
      ]),
    )
    .orderBy('event_at')
    .orderBy('o.id')
    .limit(limit)
    .execute();
}

/** The event time of a reversal the store gave no date for: after every dated one. */
const UNDATED = 8_640_000_000_000_000;

async function pendingReferees(trx: LoyaltyDb): Promise<Set<number>> {
  const rows = await trx.selectFrom('loyalty_referrals').select('referee_id').where('status', '=', 'pending').execute();
  return new Set(rows.map((r) => r.referee_id));
}

async function syncOrder(
  trx: LoyaltyDb,
  program: Program,
  order: OrderCandidate,
  members: Map<number, MemberRow | null>,
  pendingReferrals: Set<number>,
  summary: SyncSummary,
  now: number,
  deferred: Set<number>,
): Promise<{ state: Insertable<LoyaltyOrderTable>; again?: OrderCandidate }> {
  const { config } = program;
  const customerId = order.customer_id!;
  if (!deferred.has(order.id)) summary.orders += 1;
  const count = (change: string) => {
    if (change === 'upgrade') summary.upgrades += 1;
    if (change === 'downgrade') summary.downgrades += 1;
  };
  let member = members.get(customerId);
  if (member === undefined) {
    member = (await lockMember(trx, customerId)) ?? null;
    if (member) await settleMember(trx, program, member, now);
    members.set(customerId, member);
  }
  const sale = order.status === 'paid' || order.status === 'partially_refunded';
  if (member === null && config.autoEnrol && sale && order.currency === config.currency) {
    member = (await enrolLocked(trx, program, customerId, order.placed_at, now)).member;
    await settleMember(trx, program, member, now);
    members.set(customerId, member);
    summary.enrolled += 1;
  }

  let earned = order.earned ?? 0;
  let reversed = order.reversed ?? 0;
  let shortfall = order.shortfall ?? 0;
  let earnAvailableAt = order.earn_available_at ?? order.placed_at + config.earning.returnWindowDays * MS_PER_DAY;

  // Counted for members and others alike: a program in GBP over a store selling in USD enrols no one,
  // and the count is how the sync says why.
  if (order.seen === null && order.currency !== config.currency) summary.otherCurrency += 1;
  else if (order.seen === null && member) {
    if (sale && order.placed_at >= member.enrolled_at) {
      // A downgrade due before this order applies first; an upgrade it causes applies from the next order.
      if (member.tier_review_at <= order.placed_at) count(await reviewTier(trx, program, member, order.placed_at));
      const tier = tierByKey(config, member.tier);
      const net = earnableMinor(config, order);
      let points = orderPoints(config, net, tier.multiplier);
      if (points > 0 && config.earning.limits) {
        const refusal = await limitRefusal(trx, 'order', customerId, config.earning.limits, points, order.placed_at);
        if (refusal) points = 0;
      }
      if (points > 0) {
        const posted = await post(
          trx,
          program,
          member,
          {
            amount: points,
            kind: 'earn',
            reason: `order ${order.id}`,
            source: 'order',
            rule: 'order',
            idempotencyKey: `order:${order.id}:earn`,
            occurredAt: order.placed_at,
            availableAt: earnAvailableAt,
            orderId: order.id,
            meta: { netMinor: net, multiplier: tier.multiplier, tier: tier.key },
          },
          now,
        );
        if (posted) {
          earned = points;
          summary.pointsEarned += points;
          summary.ledgerEntries += 1;
        } else {
          // Booked before without its state row (the state is written at the end of a batch): keep
          // what the ledger says the order earned.
          const booked = await trx
            .selectFrom('loyalty_ledger')
            .select('amount')
            .where('idempotency_key', '=', `order:${order.id}:earn`)
            .executeTakeFirstOrThrow();
          earned = booked.amount;
        }
        // All points ever earned (before reversals) bound what the window holds, so below the next
        // threshold no upgrade is possible and the window need not be summed.
        const next = config.tiers.levels[tierRank(config, member.tier) + 1];
        if (next && (config.tiers.basis === 'spend' || member.gross_earned >= next.threshold)) {
          count(await reviewTier(trx, program, member, order.placed_at));
        }
      }
      if (pendingReferrals.has(customerId)) {
        const credited = await rewardReferral(trx, program, member, order, now);
        pendingReferrals.delete(customerId);
        summary.referralPoints += credited;
        if (credited > 0) summary.ledgerEntries += 1;
      }
    }
  }

  // Earned just now with a refund already on the order: the reversal waits for its own time (the
  // state says the refund is not seen yet, so the order comes back then).
  const reversalLater = order.seen === null && member !== null && earned > 0 && order.refunded_minor > 0;
  if (reversalLater) {
    deferred.add(order.id);
    const state = {
      order_id: order.id,
      customer_id: customerId,
      earned,
      reversed,
      shortfall,
      refunded_seen: 0,
      status_seen: 'paid',
      earn_available_at: earnAvailableAt,
      processed_at: now,
    };
    const at = order.status === 'cancelled' ? order.cancelled_at : order.last_refund_at;
    // The order as the candidate query will read it back: seen, its refund not yet.
    const again: OrderCandidate = {
      ...order,
      seen: order.id,
      refunded_seen: 0,
      status_seen: 'paid',
      earned,
      reversed,
      shortfall,
      earn_available_at: earnAvailableAt,
      event_at: at === null ? UNDATED : Number(at),
    };
    return { state, again };
  }
  if (member && earned > 0) {
    const cancelled = order.status === 'cancelled' || order.status === 'refunded';
    const target = reversalTarget(earned, order.refunded_minor, order.total_minor, cancelled);
    const delta = target - reversed - shortfall;
    if (delta > 0) {
      const stillPending = earnAvailableAt > Math.max(now, member.settled_at);
      const amount = stillPending ? delta : Math.min(delta, member.balance);
      const missing = delta - amount;
      const kindOf = order.status === 'cancelled' ? 'cancelled' : 'refunded';
      const keyOf = `order:${order.id}:reverse:${order.status === 'cancelled' ? 'cancelled' : order.refunded_minor}`;
      const at = (order.status === 'cancelled' ? order.cancelled_at : order.last_refund_at) ?? now;
      const entry = {
        kind: 'reverse' as const,
        reason: `order ${order.id} ${kindOf}`,
        source: 'order' as const,
        rule: 'order',
        occurredAt: at,
        orderId: order.id,
        meta: { target, shortfall: missing },
      };
      // The reversal takes what the balance holds; the points already spent become the member's
      // debt (the debt bucket), which later earnings repay before they can be spent.
      const posted =
        amount > 0
          ? await post(
              trx,
              program,
              member,
              { ...entry, amount: -amount, idempotencyKey: keyOf, availableAt: stillPending ? earnAvailableAt : now },
              now,
            )
          : true;
      const owed =
        missing > 0 && posted
          ? await post(
              trx,
              program,
              member,
              { ...entry, amount: -missing, idempotencyKey: `${keyOf}:debt`, debt: true },
              now,
            )
          : false;
      if (posted) {
        reversed += amount;
        summary.pointsReversed += amount;
        if (amount > 0) summary.ledgerEntries += 1;
      }
      if (owed) {
        shortfall += missing;
        summary.shortfall += missing;
        summary.ledgerEntries += 1;
      }
      if (posted || owed) {
        // A review due by the refund's date comes first, as it does before an order's earn.
        if (member.tier_review_at <= at) count(await reviewTier(trx, program, member, at));
        count(await reviewAfterReversal(trx, program, member, at, removedValue(program, order, delta)));
      }
    }
  }
  if (!member) earnAvailableAt = order.placed_at;

  return {
    state: {
      order_id: order.id,
      customer_id: customerId,
      earned,
      reversed,
      shortfall,
      refunded_seen: order.refunded_minor,
      status_seen: order.status,
      earn_available_at: earnAvailableAt,
      processed_at: now,
    },
  };
}

/**
 * What a reversal took off the tier's qualifying value: the points on a points basis; on a spend
 * basis the net paid amount the refund or cancellation removed since the order was last seen.
 */
function removedValue(program: Program, order: OrderCandidate, points: number): number {
  if (program.config.tiers.basis !== 'spend') return points;
  const counts = (status: string | null) => status === 'paid' || status === 'partially_refunded';
  const before = counts(order.status_seen) ? order.total_minor - (order.refunded_seen ?? 0) : 0;
  const after = counts(order.status) ? order.total_minor - order.refunded_minor : 0;
  return Math.max(0, before - after);
}

/** Records what each order has earned and reversed so far, many rows per statement. */
async function writeStates(trx: LoyaltyDb, states: Array<Insertable<LoyaltyOrderTable>>): Promise<void> {
  // 9 columns a row stays well under SQLite's 32,766 bound parameters per statement.
  for (let i = 0; i < states.length; i += 500) {
    await trx
      .insertInto('loyalty_orders')
      .values(states.slice(i, i + 500))
      .onConflict((oc) =>
        oc.column('order_id').doUpdateSet((eb) => ({
          customer_id: eb.ref('excluded.customer_id'),
          earned: eb.ref('excluded.earned'),
          reversed: eb.ref('excluded.reversed'),
          shortfall: eb.ref('excluded.shortfall'),
          refunded_seen: eb.ref('excluded.refunded_seen'),
          status_seen: eb.ref('excluded.status_seen'),
          earn_available_at: eb.ref('excluded.earn_available_at'),
          processed_at: eb.ref('excluded.processed_at'),
        })),
      )
      .execute();
  }
}
