import { randomUUID } from 'node:crypto';
import { PostgresAdapter, type Selectable, sql } from 'kysely';
import { ComebackError, type ErrorKind, type Result } from '../errors.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { type Db, immediateTransaction, REVENUE_STATUSES } from '../store/index.js';
import type { Bucket, EntryKind, EntrySource, LoyaltyDb, LoyaltyMemberTable, LoyaltyTables } from './loyalty-tables.js';
import { type Program, type ProgramConfig, type RuleLimits, tierByKey, tierFor, tierRank } from './program.js';

/** A member's balance row as read inside a write transaction. */
export type MemberRow = Selectable<LoyaltyMemberTable>;

/**
 * Runs `fn` in a transaction that holds the write lock from its first statement. On SQLite, Kysely's
 * transactions begin DEFERRED, and a deferred reader that later writes fails with SQLITE_BUSY when
 * another process committed meanwhile; `BEGIN IMMEDIATE` takes the lock up front (waiting up to the
 * busy timeout). On PostgreSQL it is an ordinary transaction and callers lock member rows with
 * `lockMember` (SELECT … FOR UPDATE). Inside an existing transaction it simply runs `fn` there.
 */
export async function writeTransaction<T>(db: Db, fn: (trx: LoyaltyDb) => Promise<T>): Promise<T> {
  return immediateTransaction(db.withTables<LoyaltyTables>(), fn);
}

/** Reads a member's row, locking it against concurrent writers on PostgreSQL. */
export async function lockMember(trx: LoyaltyDb, customerId: number): Promise<MemberRow | undefined> {
  const query = trx.selectFrom('loyalty_members').selectAll().where('customer_id', '=', customerId);
  return (trx.getExecutor().adapter instanceof PostgresAdapter ? query.forUpdate() : query).executeTakeFirst();
}

/** What a ledger entry says; `post` adds where it lands (bucket) and the member's new counters. */
export interface NewEntry {
  amount: number;
  kind: EntryKind;
  reason: string;
  source: EntrySource;
  rule: string;
  idempotencyKey: string;
  occurredAt: number;
  /** When the points become spendable; defaults to now. A later instant puts them in the pending bucket. */
  availableAt?: number;
  /** Books the entry in the debt bucket: negative raises what the member owes, positive repays it. */
  debt?: boolean;
  orderId?: number | null;
  meta?: Record<string, unknown>;
}

/**
 * Appends one entry unless its idempotency key is already in the ledger (then returns false and
 * changes nothing), and moves the member's counters with it. The member row must be locked (see
 * `writeTransaction`) and settled up to `now`; `member` is updated in place. A debit that would take the
 * available balance (or the debt) below zero throws `insufficient_points` and the transaction rolls back.
 * Points that land in the available bucket while the member owes a debt repay it first (`repayDebt`).
 */
export async function post(
  trx: LoyaltyDb,
  program: Program,
  member: MemberRow,
  entry: NewEntry,
  now: number,
): Promise<boolean> {
  const availableAt = entry.availableAt ?? now;
  const bucket: Bucket = entry.debt ? 'debt' : availableAt > Math.max(now, member.settled_at) ? 'pending' : 'available';
  const inserted = await trx
    .insertInto('loyalty_ledger')
    .values({
      customer_id: member.customer_id,
      amount: entry.amount,
      kind: entry.kind,
      reason: entry.reason,
      source: entry.source,
      rule: entry.rule,
      idempotency_key: entry.idempotencyKey,
      bucket,
      available_at: availableAt,
      occurred_at: entry.occurredAt,
      created_at: now,
      program_version: program.version,
      order_id: entry.orderId ?? null,
      meta: JSON.stringify(entry.meta ?? {}),
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;

  const toBalance = bucket === 'available' ? entry.amount : 0;
  const toPending = bucket === 'pending' ? entry.amount : 0;
  // A negative entry in the debt bucket is owed: the debt counter is minus the bucket's sum.
  const toDebt = bucket === 'debt' ? -entry.amount : 0;
  const earned = entry.kind === 'earn' || entry.kind === 'reverse' ? entry.amount : 0;
  const gross = entry.kind === 'earn' && entry.amount > 0 ? entry.amount : 0;
  const active = (entry.kind === 'earn' && entry.amount > 0) || entry.kind === 'redeem';
  const lastActivity = active ? Math.max(member.last_activity_at, entry.occurredAt) : member.last_activity_at;
  const updated = await trx
    .updateTable('loyalty_members')
    .set((eb) => ({
      balance: eb('balance', '+', toBalance),
      pending: eb('pending', '+', toPending),
      debt: eb('debt', '+', toDebt),
      lifetime_earned: eb('lifetime_earned', '+', earned),
      gross_earned: eb('gross_earned', '+', gross),
      last_activity_at: lastActivity,
    }))
    .where('customer_id', '=', member.customer_id)
    .where('balance', '>=', -toBalance)
    .where('pending', '>=', -toPending)
    .where('debt', '>=', -toDebt)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) {
    throw new ComebackError(
      'insufficient_points',
      `member ${member.customer_id}: ${entry.kind} of ${entry.amount} would overdraw the balance of ${member.balance}`,
    );
  }
  member.balance += toBalance;
  member.pending += toPending;
  member.debt += toDebt;
  member.lifetime_earned += earned;
  member.gross_earned += gross;
  member.last_activity_at = lastActivity;
  if (toBalance > 0 && member.debt > 0) await repayDebt(trx, program, member, now);
  return true;
}

/**
 * Repays what the member owes from the available balance, as far as it goes: a pair of `repay`
 * entries, one taking the points from the available bucket and one crediting the debt bucket, so the
 * ledger's sum stays balance + pending − debt. Returns the points repaid.
 */
export async function repayDebt(trx: LoyaltyDb, program: Program, member: MemberRow, now: number): Promise<number> {
  const amount = Math.min(member.debt, member.balance);
  if (amount <= 0) return 0;
  const id = randomUUID();
  const base = { kind: 'repay' as const, source: 'system' as const, rule: 'debt', occurredAt: now };
  await post(
    trx,
    program,
    member,
    { ...base, amount: -amount, reason: 'repays points spent before a refund', idempotencyKey: `repay:${id}:take` },
    now,
  );
  await post(
    trx,
    program,
    member,
    { ...base, amount, debt: true, reason: 'debt repaid', idempotencyKey: `repay:${id}:debt` },
    now,
  );
  return amount;
}

/**
 * Moves the member's pending points that became available by `now` into the balance, then repays any
 * debt from it. Pending entries are never rewritten: the member's `settled_at` mark says which of them
 * the balance already holds, and so how far the member is booked (a sync as of `now` books the member
 * through `now`, whether or not anything was pending: `ledgerThrough` reads it).
 */
export async function settleMember(trx: LoyaltyDb, program: Program, member: MemberRow, now: number): Promise<void> {
  // Pending entries come as an earn and its reversals, sharing one available_at and never summing
  // below zero, so with nothing pending nothing can be due: only the mark moves.
  if (now > member.settled_at && member.pending === 0) {
    await trx
      .updateTable('loyalty_members')
      .set({ settled_at: now })
      .where('customer_id', '=', member.customer_id)
      .execute();
    member.settled_at = now;
  } else if (now > member.settled_at) {
    const row = await trx
      .selectFrom('loyalty_ledger')
      .select(sql<number>`coalesce(sum(amount), 0)`.as('due'))
      .where('customer_id', '=', member.customer_id)
      .where('bucket', '=', 'pending')
      .where('available_at', '>', member.settled_at)
      .where('available_at', '<=', now)
      .executeTakeFirstOrThrow();
    const due = Number(row.due);
    await trx
      .updateTable('loyalty_members')
      .set((eb) => ({ balance: eb('balance', '+', due), pending: eb('pending', '-', due), settled_at: now }))
      .where('customer_id', '=', member.customer_id)
      .execute();
    member.balance += due;
    member.pending -= due;
    member.settled_at = now;
  }
  if (member.debt > 0 && member.balance > 0) await repayDebt(trx, program, member, now);
}

/** One expiry that is due: the points, when they expired, the reason and its idempotency key. */
export interface DueExpiry {
  /** What is left of the lot (under `inactivity`: the balance). */
  remaining: number;
  /** What expires of it, the balance going to the older lots first (0 once the balance is spent). */
  amount: number;
  occurredAt: number;
  reason: string;
  idempotencyKey: string;
  lot?: number;
}

/**
 * What the program says has expired before `now` (exclusive, as every as-of: an expiry at the instant
 * `now` is not due yet, it belongs to the next day), without writing it. `lot`: every earned lot (a positive
 * entry) expires `days` after it became available, less what was already taken from it. A reversal
 * takes from the refunded order's own lot first, an expiry from the lot it expired; every other debit
 * (redemptions, debits by hand, debt repayments) spends the oldest lot available at the time (FIFO).
 * `inactivity`: the whole available balance expires `days` after the last earn or redemption.
 * `member.balance` is the available balance with what is due by `now` settled, and `settledAt` the
 * instant up to which pending entries count as settled (`settleMember` sets it to `now`). Amounts never
 * sum above the balance. `expireMember` writes exactly these; `memberStatus` subtracts them on read.
 */
export async function dueExpiries(
  db: LoyaltyDb,
  program: Program,
  member: Pick<MemberRow, 'customer_id' | 'balance' | 'last_activity_at'>,
  settledAt: number,
  now: number,
): Promise<DueExpiry[]> {
  const { mode, days } = program.config.expiry;
  if (mode === 'none' || days === undefined || member.balance <= 0) return [];
  const span = days * MS_PER_DAY;
  if (mode === 'inactivity') {
    // `now` is an exclusive end (an as-of is the next midnight): what expires at `now` is not due yet.
    if (member.last_activity_at + span >= now) return [];
    return [
      {
        remaining: member.balance,
        amount: member.balance,
        occurredAt: member.last_activity_at + span,
        reason: `no activity for ${days} days`,
        idempotencyKey: `expire:inactive:${member.customer_id}:${member.last_activity_at}`,
      },
    ];
  }
  const entries = await db
    .selectFrom('loyalty_ledger')
    .select(['id', 'amount', 'kind', 'available_at', 'created_at', 'order_id', 'meta'])
    .where('customer_id', '=', member.customer_id)
    .where('bucket', '<>', 'debt')
    .where((eb) => eb.or([eb('bucket', '=', 'available'), eb('available_at', '<=', settledAt)]))
    .orderBy('id')
    .execute();
  const due: DueExpiry[] = [];
  let left = member.balance;
  for (const lot of remainingLots(entries)) {
    if (lot.remaining <= 0 || lot.availableAt + span >= now) continue;
    const amount = Math.max(0, Math.min(lot.remaining, left));
    left -= amount;
    due.push({
      remaining: lot.remaining,
      amount,
      occurredAt: lot.availableAt + span,
      reason: `points available since ${new Date(lot.availableAt).toISOString().slice(0, 10)} expired after ${days} days`,
      idempotencyKey: `expire:lot:${lot.id}`,
      lot: lot.id,
    });
  }
  return due;
}

/**
 * Expires what the program says is due at `now` (see `dueExpiries`), with the member settled to `now`.
 * Each expiry has its own idempotency key, so running this twice expires nothing more. Returns the
 * points expired.
 */
export async function expireMember(trx: LoyaltyDb, program: Program, member: MemberRow, now: number): Promise<number> {
  let expired = 0;
  for (const e of await dueExpiries(trx, program, member, member.settled_at, now)) {
    // Against the balance as it stands after the expiries posted so far (one already booked is skipped).
    const amount = Math.min(e.remaining, member.balance);
    if (amount <= 0) continue;
    const posted = await post(
      trx,
      program,
      member,
      {
        amount: -amount,
        kind: 'expire',
        reason: e.reason,
        source: 'system',
        rule: 'expiry',
        idempotencyKey: e.idempotencyKey,
        occurredAt: e.occurredAt,
        ...(e.lot !== undefined ? { meta: { lot: e.lot } } : {}),
      },
      now,
    );
    if (posted) expired += amount;
  }
  return expired;
}

/** One earned lot and what is left of it. */
export interface Lot {
  id: number;
  orderId: number | null;
  availableAt: number;
  remaining: number;
}

/**
 * Replays a member's spendable entries in the order they were written (`id`) and says what is left
 * of each positive lot: a reversal of an order takes from that order's lot first, an expiry from the
 * lot it names, the rest (and any excess) from the oldest lots that were available when the debit was
 * written, then from any lot. Lots come back oldest first.
 */
export function remainingLots(
  entries: ReadonlyArray<{
    id: number;
    amount: number;
    kind: string;
    available_at: number;
    created_at: number;
    order_id: number | null;
    meta: string;
  }>,
): Lot[] {
  const lots: Lot[] = [];
  const byAge = () => [...lots].sort((x, y) => x.availableAt - y.availableAt || x.id - y.id);
  for (const e of entries) {
    if (e.amount > 0) {
      lots.push({ id: e.id, orderId: e.order_id, availableAt: e.available_at, remaining: e.amount });
      continue;
    }
    let need = -e.amount;
    const take = (lot: Lot | undefined) => {
      if (!lot || need <= 0) return;
      const used = Math.min(need, Math.max(0, lot.remaining));
      lot.remaining -= used;
      need -= used;
    };
    if (e.kind === 'reverse' && e.order_id !== null) take(lots.find((lot) => lot.orderId === e.order_id));
    if (e.kind === 'expire') take(lots.find((lot) => lot.id === lotOf(e.meta)));
    const at = Math.max(e.created_at, e.available_at);
    for (const lot of byAge()) if (lot.availableAt <= at) take(lot);
    for (const lot of byAge()) take(lot);
  }
  return byAge();
}

function lotOf(meta: string): number | undefined {
  try {
    const value: unknown = JSON.parse(meta);
    if (typeof value === 'object' && value !== null && 'lot' in value && typeof value.lot === 'number')
      return value.lot;
  } catch {
    // meta is written by this module as JSON; an unreadable one names no lot.
  }
  return undefined;
}

/**
 * Points earned (net of reversals), or net paid spend in minor units, in the rolling window ending at
 * `asOf`: `(asOf − windowDays, asOf]`, or `(from, asOf]` when `from` is given.
 */
export async function qualifyingValue(
  trx: LoyaltyDb,
  config: ProgramConfig,
  customerId: number,
  asOf: number,
  from = asOf - config.tiers.windowDays * MS_PER_DAY,
): Promise<number> {
  if (config.tiers.basis === 'spend') {
    const row = await trx
      .selectFrom('orders')
      .select(sql<number>`coalesce(sum(total_minor - refunded_minor), 0)`.as('v'))
      .where('customer_id', '=', customerId)
      .where('currency', '=', config.currency)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '>', from)
      .where('placed_at', '<=', asOf)
      .executeTakeFirstOrThrow();
    return Number(row.v);
  }
  const row = await trx
    .selectFrom('loyalty_ledger')
    .select(sql<number>`coalesce(sum(amount), 0)`.as('v'))
    .where('customer_id', '=', customerId)
    .where('kind', 'in', ['earn', 'reverse'])
    .where('occurred_at', '>', from)
    .where('occurred_at', '<=', asOf)
    .executeTakeFirstOrThrow();
  return Number(row.v);
}

/** What a tier review at some instant decides; see `assessTier`. */
export interface TierAssessment {
  outcome: 'upgrade' | 'downgrade' | 'renewed' | 'unchanged';
  /** The tier's key after the review. */
  tier: string;
  /** When the member reached that tier (ms since the epoch). */
  since: number;
  /** When the tier is next reviewed (ms since the epoch). */
  reviewAt: number;
  /**
   * Each change of tier, oldest first, with the instant it took effect and the qualifying value it was
   * decided on (points, or minor units on a spend basis): one upgrade, or one downgrade per review that
   * lowered the tier.
   */
  changes: Array<{ from: string; to: string; at: number; reason: 'upgrade' | 'downgrade'; value: number }>;
}

/**
 * Decides a member's tier at `asOf` on the rolling window (never on the balance), without writing it.
 * A higher tier applies at once, from `asOf`. A lower one only at a review: `tier_review_at` (the end of
 * the qualifying period plus the grace period) and every period after it up to `asOf`, each on the
 * window ending at its own date, so a member read years after the last sync steps down review by review,
 * on what they earned before each, not at once on what they earned before `asOf`. A member still
 * qualifying at a review keeps the tier for another period. `reviewTier` books this decision;
 * `memberStatus` shows it before a sync books it.
 */
export async function assessTier(
  trx: LoyaltyDb,
  program: Program,
  member: Pick<MemberRow, 'customer_id' | 'tier' | 'tier_since' | 'tier_review_at'>,
  asOf: number,
): Promise<TierAssessment> {
  const { config } = program;
  const period = (config.tiers.windowDays + config.tiers.graceDays) * MS_PER_DAY;
  const rank = (key: string) => tierRank(config, key);
  const value = await qualifyingValue(trx, config, member.customer_id, asOf);
  const reached = tierFor(config, value);
  if (rank(reached.key) > rank(tierByKey(config, member.tier).key) || rank(member.tier) < 0) {
    return {
      outcome: 'upgrade',
      tier: reached.key,
      since: asOf,
      reviewAt: asOf + period,
      changes: [{ from: member.tier, to: reached.key, at: asOf, reason: 'upgrade', value }],
    };
  }
  let tier = member.tier;
  let since = member.tier_since;
  let reviewAt = member.tier_review_at;
  const changes: TierAssessment['changes'] = [];
  // Reviews due by `asOf`; at most one per period, and a member at the lowest tier has nothing to lose.
  while (reviewAt <= asOf) {
    const at = reviewAt;
    if (rank(tier) > 0) {
      const v = at === asOf ? value : await qualifyingValue(trx, config, member.customer_id, at);
      const held = tierFor(config, v);
      if (rank(held.key) < rank(tier)) {
        changes.push({ from: tier, to: held.key, at, reason: 'downgrade', value: v });
        tier = held.key;
        since = at;
      }
    } else if (asOf - at > period) {
      // Nothing to review at the lowest tier: skip to the last review due.
      reviewAt = at + Math.floor((asOf - at) / period) * period;
      continue;
    }
    reviewAt = at + period;
  }
  if (reviewAt === member.tier_review_at) return { outcome: 'unchanged', tier, since, reviewAt, changes };
  return { outcome: changes.length > 0 ? 'downgrade' : 'renewed', tier, since, reviewAt, changes };
}

/**
 * Re-assesses a member's tier at `asOf` (see `assessTier`) and books the result: the member row, and
 * for an upgrade or a downgrade a `loyalty_tier_history` row. `member` is updated in place.
 */
export async function reviewTier(
  trx: LoyaltyDb,
  program: Program,
  member: MemberRow,
  asOf: number,
): Promise<'upgrade' | 'downgrade' | 'renewed' | 'unchanged'> {
  const review = await assessTier(trx, program, member, asOf);
  if (review.outcome === 'unchanged') return 'unchanged';
  await trx
    .updateTable('loyalty_members')
    .set({ tier: review.tier, tier_since: review.since, tier_review_at: review.reviewAt })
    .where('customer_id', '=', member.customer_id)
    .execute();
  for (const change of review.changes) {
    await trx
      .insertInto('loyalty_tier_history')
      .values({
        customer_id: member.customer_id,
        from_tier: change.from,
        to_tier: change.to,
        changed_at: change.at,
        reason: change.reason,
        qualifying_value: change.value,
      })
      .execute();
  }
  member.tier = review.tier;
  member.tier_since = review.since;
  member.tier_review_at = review.reviewAt;
  return review.outcome;
}

/**
 * Re-assesses a member's tier at once after a refund or cancellation took `removed` off the qualifying
 * value (points, or minor units on a spend basis): when the value before the refund held the current
 * tier and the value after it no longer does, the member drops to the tier the value still reaches
 * (reason `refund`). A member who held the tier only through the grace period keeps it: a refund
 * undoes what the refunded order did, no more.
 */
export async function reviewAfterReversal(
  trx: LoyaltyDb,
  program: Program,
  member: MemberRow,
  at: number,
  removed: number,
): Promise<'downgrade' | 'unchanged'> {
  const { config } = program;
  if (removed <= 0) return 'unchanged';
  const after = await qualifyingValue(trx, config, member.customer_id, at);
  const current = tierRank(config, member.tier);
  const reached = tierFor(config, after);
  if (tierRank(config, tierFor(config, after + removed).key) < current || tierRank(config, reached.key) >= current) {
    return 'unchanged';
  }
  const period = (config.tiers.windowDays + config.tiers.graceDays) * MS_PER_DAY;
  await trx
    .updateTable('loyalty_members')
    .set({ tier: reached.key, tier_since: at, tier_review_at: at + period })
    .where('customer_id', '=', member.customer_id)
    .execute();
  await trx
    .insertInto('loyalty_tier_history')
    .values({
      customer_id: member.customer_id,
      from_tier: member.tier,
      to_tier: reached.key,
      changed_at: at,
      reason: 'refund',
      qualifying_value: after,
    })
    .execute();
  member.tier = reached.key;
  member.tier_since = at;
  member.tier_review_at = at + period;
  return 'downgrade';
}

/**
 * Why a rule may not credit `points` more to this member now, or undefined when it may: the times per
 * customer, the times per rolling period, the times per UTC day (`dailyCap`), the rule's total budget.
 */
export async function limitRefusal(
  trx: LoyaltyDb,
  rule: string,
  customerId: number,
  limits: RuleLimits & { dailyCap?: number },
  points: number,
  now: number,
): Promise<string | undefined> {
  const count = async (since: number | undefined) => {
    let query = trx
      .selectFrom('loyalty_ledger')
      .select(sql<number>`count(*)`.as('n'))
      .where('rule', '=', rule)
      .where('customer_id', '=', customerId)
      .where('kind', '=', 'earn');
    if (since !== undefined) query = query.where('occurred_at', '>=', since);
    return Number((await query.executeTakeFirstOrThrow()).n);
  };
  if (limits.perCustomer !== undefined && (await count(undefined)) >= limits.perCustomer) {
    return `${rule}: at most ${limits.perCustomer} per customer`;
  }
  if (limits.perPeriod && (await count(now - limits.perPeriod.days * MS_PER_DAY + 1)) >= limits.perPeriod.count) {
    return `${rule}: at most ${limits.perPeriod.count} every ${limits.perPeriod.days} days`;
  }
  if (limits.dailyCap !== undefined && (await count(Math.floor(now / MS_PER_DAY) * MS_PER_DAY)) >= limits.dailyCap) {
    return `${rule}: at most ${limits.dailyCap} a day`;
  }
  if (limits.budget !== undefined) {
    const row = await trx
      .selectFrom('loyalty_ledger')
      .select(sql<number>`coalesce(sum(amount), 0)`.as('v'))
      .where('rule', '=', rule)
      .where('kind', 'in', ['earn', 'reverse'])
      .executeTakeFirstOrThrow();
    if (Number(row.v) + points > limits.budget) return `${rule}: the budget of ${limits.budget} points is spent`;
  }
  return undefined;
}

/** The outcome of an admin adjustment. */
export interface Adjustment {
  customerId: number;
  points: number;
  balance: number;
  applied: boolean;
}

/**
 * An admin credit or debit with a mandatory reason. A debit larger than the available balance is
 * refused (a balance never goes below zero). With the same idempotency key a retry changes nothing.
 */
export async function adjust(
  db: Db,
  program: Program,
  input: { customerId: number; points: number; reason: string; now: number; actor?: string; idempotencyKey?: string },
): Promise<Result<Adjustment>> {
  const reason = input.reason.trim();
  if (reason === '')
    return { ok: false, error: { kind: 'bad_input', message: 'reason: an adjustment needs a reason' } };
  if (!Number.isSafeInteger(input.points) || input.points === 0) {
    return { ok: false, error: { kind: 'bad_input', message: 'points: a non-zero whole number is needed' } };
  }
  const key = `adjust:${input.idempotencyKey ?? randomUUID()}`;
  return writeTransaction(db, async (trx) => {
    const member = await lockMember(trx, input.customerId);
    if (!member) return notMember(input.customerId);
    const earlier = await trx
      .selectFrom('loyalty_ledger')
      .select(['customer_id', 'amount', 'kind'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (earlier) {
      if (earlier.customer_id !== input.customerId || earlier.amount !== input.points || earlier.kind !== 'adjust') {
        return reusedKey(
          input.idempotencyKey ?? key,
          `an adjustment of ${earlier.amount} points for customer ${earlier.customer_id}`,
        );
      }
      return {
        ok: true,
        value: { customerId: input.customerId, points: input.points, balance: member.balance, applied: false },
      };
    }
    await settleMember(trx, program, member, input.now);
    if (input.points < 0 && member.balance + input.points < 0) {
      return {
        ok: false,
        error: {
          kind: 'insufficient_points',
          message: `member #${input.customerId} has ${member.balance} points available, cannot take ${-input.points}`,
        },
      };
    }
    const applied = await post(
      trx,
      program,
      member,
      {
        amount: input.points,
        kind: 'adjust',
        reason,
        source: 'admin',
        rule: 'adjust',
        idempotencyKey: key,
        occurredAt: input.now,
        meta: input.actor ? { actor: input.actor } : {},
      },
      input.now,
    );
    if (!applied) return reusedKey(input.idempotencyKey ?? key, 'another ledger entry');
    return {
      ok: true,
      value: { customerId: input.customerId, points: input.points, balance: member.balance, applied },
    };
  });
}

/**
 * The refusal of an idempotency key sent again with other parameters (as Stripe answers: 409, the
 * first request's result is not returned for a different request).
 */
export function reusedKey<T>(key: string, firstUse: string): Result<T> {
  const kind: ErrorKind = 'conflict';
  return {
    ok: false,
    error: {
      kind,
      message: `idempotency key ${key} was already used for ${firstUse}; use a new key for a new request`,
    },
  };
}

/** A refusal for a customer who is not a member. */
export function notMember<T>(customerId: number): Result<T> {
  return { ok: false, error: { kind: 'not_found', message: `customer ${customerId} is not a loyalty member` } };
}

/** What `settle` did. */
export interface SettleSummary {
  members: number;
  settled: number;
  expired: number;
  upgrades: number;
  downgrades: number;
}

/**
 * The periodic step, as of `now`: pending points whose return window has passed become available,
 * due points expire, and tiers whose review date has come are re-assessed. Idempotent.
 */
export async function settle(db: Db, program: Program, { now }: { now: number }): Promise<SettleSummary> {
  return writeTransaction(db, async (trx) => {
    const summary: SettleSummary = { members: 0, settled: 0, expired: 0, upgrades: 0, downgrades: 0 };
    const ids = await trx.selectFrom('loyalty_members').select('customer_id').orderBy('customer_id').execute();
    for (const { customer_id } of ids) {
      const member = await lockMember(trx, customer_id);
      if (!member) continue;
      summary.members += 1;
      const before = member.balance;
      await settleMember(trx, program, member, now);
      summary.settled += member.balance - before;
      summary.expired += await expireMember(trx, program, member, now);
      if (member.tier_review_at <= now) {
        const change = await reviewTier(trx, program, member, now);
        if (change === 'upgrade') summary.upgrades += 1;
        if (change === 'downgrade') summary.downgrades += 1;
      }
    }
    return summary;
  });
}

/** What `auditLedger` found: empty `problems` means every balance is the sum of its ledger. */
export interface LedgerAudit {
  members: number;
  entries: number;
  problems: string[];
}

/**
 * Checks the ledger's invariants for every member (or one): balance + pending − debt = the sum of the
 * ledger, each counter equals the entries of its bucket as of `settled_at`, nothing below zero, no
 * idempotency key twice, every reward code paid for by a `redeem` debit of its cost for its customer, and
 * every store-credit balance the sum of its credit ledger and not below zero.
 */
export async function auditLedger(db: Db, { customerId }: { customerId?: number } = {}): Promise<LedgerAudit> {
  const l = db.withTables<LoyaltyTables>();
  let query = l
    .selectFrom('loyalty_members as m')
    .leftJoin('loyalty_ledger as e', 'e.customer_id', 'm.customer_id')
    .select([
      'm.customer_id',
      'm.balance',
      'm.pending',
      'm.debt',
      sql<number>`coalesce(sum(e.amount), 0)`.as('total'),
      sql<number>`coalesce(sum(case when e.bucket <> 'debt' and (e.bucket = 'available' or e.available_at <= m.settled_at) then e.amount else 0 end), 0)`.as(
        'settled',
      ),
      sql<number>`coalesce(sum(case when e.bucket = 'debt' then e.amount else 0 end), 0)`.as('owed'),
      sql<number>`count(e.id)`.as('entries'),
    ])
    .groupBy(['m.customer_id', 'm.balance', 'm.pending', 'm.debt']);
  if (customerId !== undefined) query = query.where('m.customer_id', '=', customerId);
  const rows = await query.execute();
  const problems: string[] = [];
  let entries = 0;
  for (const r of rows) {
    const total = Number(r.total);
    const settled = Number(r.settled);
    const debt = Number(r.debt);
    entries += Number(r.entries);
    if (Number(r.balance) + Number(r.pending) - debt !== total) {
      problems.push(
        `member ${r.customer_id}: balance ${r.balance} + pending ${r.pending} − debt ${debt} ≠ ledger sum ${total}`,
      );
    }
    if (Number(r.balance) !== settled)
      problems.push(`member ${r.customer_id}: balance ${r.balance} ≠ settled entries ${settled}`);
    if (debt !== -Number(r.owed))
      problems.push(`member ${r.customer_id}: debt ${debt} ≠ debt entries ${-Number(r.owed)}`);
    if (r.balance < 0 || r.pending < 0 || debt < 0) problems.push(`member ${r.customer_id}: negative counter`);
  }
  const keys = await l
    .selectFrom('loyalty_ledger')
    .select([sql<number>`count(*)`.as('n'), sql<number>`count(distinct idempotency_key)`.as('d')])
    .executeTakeFirstOrThrow();
  if (Number(keys.n) !== Number(keys.d)) problems.push('an idempotency key appears twice in the ledger');
  let unpaid = l
    .selectFrom('loyalty_redemptions as r')
    .select(['r.code', 'r.customer_id', 'r.points'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('loyalty_ledger as e')
            .select('e.id')
            .where(sql<boolean>`e.idempotency_key = coalesce(r.ledger_key, r.idempotency_key)`)
            .whereRef('e.customer_id', '=', 'r.customer_id')
            .where('e.kind', '=', 'redeem')
            .where(sql<boolean>`e.amount = -r.points`),
        ),
      ),
    )
    .orderBy('r.id');
  if (customerId !== undefined) unpaid = unpaid.where('r.customer_id', '=', customerId);
  for (const r of await unpaid.execute()) {
    problems.push(`code ${r.code} of member ${r.customer_id}: no redeem debit of ${r.points} points in the ledger`);
  }
  let credit = l
    .selectFrom('store_credit_accounts as a')
    .select([
      'a.customer_id',
      'a.currency',
      'a.balance_minor',
      (eb) =>
        eb
          .selectFrom('store_credit_ledger as c')
          .select(sql<number>`coalesce(sum(c.amount_minor), 0)`.as('s'))
          .whereRef('c.customer_id', '=', 'a.customer_id')
          .whereRef('c.currency', '=', 'a.currency')
          .as('total'),
    ])
    .orderBy('a.customer_id');
  if (customerId !== undefined) credit = credit.where('a.customer_id', '=', customerId);
  for (const a of await credit.execute()) {
    const total = Number(a.total ?? 0);
    if (Number(a.balance_minor) !== total || total < 0) {
      problems.push(
        `store credit of member ${a.customer_id} in ${a.currency}: balance ${a.balance_minor} ≠ credit ledger sum ${total}`,
      );
    }
  }
  return { members: rows.length, entries, problems };
}
