import { sql } from 'kysely';
import { ComebackError, type Result } from '../errors.js';
import { dayInZone, MS_PER_DAY } from '../shared/dates.js';
import { type Db, REVENUE_STATUSES, storeIdOf } from '../store/index.js';
import { randomCode } from './codes.js';
import { creditStatus } from './credit.queries.js';
import {
  assessTier,
  dueExpiries,
  limitRefusal,
  lockMember,
  type MemberRow,
  notMember,
  post,
  qualifyingValue,
  reusedKey,
  reviewTier,
  settleMember,
  writeTransaction,
} from './ledger.queries.js';
import type { LoyaltyDb, LoyaltyTables } from './loyalty-tables.js';
import {
  type Action,
  actionRule,
  type Program,
  type RewardConfig,
  staleWriteRefusal,
  tierAllowsReward,
  tierByKey,
  tierRank,
} from './program.js';

/** The outcome of an enrolment. */
export interface Enrolment {
  customerId: number;
  referralCode: string;
  alreadyMember: boolean;
  signupPoints: number;
  referral: { status: 'pending' | 'rejected'; reason: string | null } | undefined;
}

/**
 * Creates the member row inside a write transaction: lowest tier, zero balance, a fresh referral code.
 * Returns the existing row when the customer is already a member.
 */
export async function enrolLocked(
  trx: LoyaltyDb,
  program: Program,
  customerId: number,
  at: number,
  now: number,
): Promise<{ member: MemberRow; created: boolean }> {
  const existing = await lockMember(trx, customerId);
  if (existing) return { member: existing, created: false };
  const { config } = program;
  const base = config.tiers.levels[0]!.key;
  const member: MemberRow = {
    customer_id: customerId,
    enrolled_at: at,
    balance: 0,
    pending: 0,
    debt: 0,
    settled_at: now,
    lifetime_earned: 0,
    gross_earned: 0,
    tier: base,
    tier_since: at,
    tier_review_at: at + (config.tiers.windowDays + config.tiers.graceDays) * MS_PER_DAY,
    referral_code: randomCode(8),
    last_activity_at: at,
  };
  for (let attempt = 0; ; attempt += 1) {
    const inserted = await trx
      .insertInto('loyalty_members')
      .values(member)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) break;
    const raced = await lockMember(trx, customerId);
    if (raced) return { member: raced, created: false };
    if (attempt > 5) throw new Error('could not draw a unique referral code');
    member.referral_code = randomCode(8);
  }
  await trx
    .insertInto('loyalty_tier_history')
    .values({
      customer_id: customerId,
      from_tier: null,
      to_tier: base,
      changed_at: at,
      reason: 'enrolled',
      qualifying_value: 0,
    })
    .execute();
  return { member, created: true };
}

/**
 * Enrols a customer (idempotent), credits the sign-up rule when the program has one, and records a
 * referral when a code is given. A referral from the same customer, or from one sharing the e-mail,
 * phone or postal address, is recorded as rejected with the reason; the enrolment itself still happens.
 */
export async function enrolMember(
  db: Db,
  program: Program,
  input: { customerId: number; now: number; referralCode?: string },
): Promise<Result<Enrolment>> {
  return writeTransaction(db, async (trx) => {
    const customer = await trx
      .selectFrom('customers')
      .select(['id', 'email', 'phone', 'address'])
      .where('id', '=', input.customerId)
      .executeTakeFirst();
    if (!customer) return { ok: false, error: { kind: 'not_found', message: `no customer ${input.customerId}` } };
    const { member, created } = await enrolLocked(trx, program, input.customerId, input.now, input.now);
    let referral: Enrolment['referral'];
    if (created && input.referralCode) {
      referral = await recordReferral(trx, customer, input.referralCode.trim().toUpperCase(), input.now);
    }
    let signupPoints = 0;
    const signup = program.config.actions.signup;
    if (signup && signup.points > 0) {
      const posted = await post(
        trx,
        program,
        member,
        {
          amount: signup.points,
          kind: 'earn',
          reason: 'signed up',
          source: 'rule',
          rule: 'signup',
          idempotencyKey: `rule:signup:${input.customerId}`,
          occurredAt: input.now,
        },
        input.now,
      );
      if (posted) signupPoints = signup.points;
    }
    return {
      ok: true,
      value: {
        customerId: input.customerId,
        referralCode: member.referral_code,
        alreadyMember: !created,
        signupPoints,
        referral,
      },
    };
  });
}

async function recordReferral(
  trx: LoyaltyDb,
  referee: { id: number; email: string | null; phone: string | null; address: string | null },
  code: string,
  now: number,
): Promise<Enrolment['referral']> {
  const referrer = await trx
    .selectFrom('loyalty_members as m')
    .innerJoin('customers as c', 'c.id', 'm.customer_id')
    .select(['c.id', 'c.email', 'c.phone', 'c.address'])
    .where('m.referral_code', '=', code)
    .executeTakeFirst();
  if (!referrer) return { status: 'rejected', reason: `no member has referral code ${code}` };
  const same = (a: string | null, b: string | null) => a !== null && b !== null && a.trim() !== '' && a === b;
  let reason: string | null = null;
  if (referrer.id === referee.id) reason = 'self-referral: same customer';
  else if (same(referrer.email, referee.email)) reason = 'self-referral: same e-mail';
  else if (same(referrer.phone, referee.phone)) reason = 'self-referral: same phone';
  else if (same(referrer.address, referee.address)) reason = 'self-referral: same address';
  if (reason === null) {
    const earlier = await trx
      .selectFrom('orders')
      .select('id')
      .where('customer_id', '=', referee.id)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '<', now)
      .limit(1)
      .executeTakeFirst();
    if (earlier) reason = 'not a new customer: has bought before';
  }
  const status = reason === null ? 'pending' : 'rejected';
  await trx
    .insertInto('loyalty_referrals')
    .values({
      referee_id: referee.id,
      referrer_id: referrer.id,
      status,
      reason,
      created_at: now,
      rewarded_at: null,
      order_id: null,
    })
    .onConflict((oc) => oc.column('referee_id').doNothing())
    .execute();
  return { status, reason };
}

/**
 * Credits both sides of a pending referral once the referee's first paid order (placed after the
 * referral) is seen; the referrer's side counts against the referral rule's limits.
 */
export async function rewardReferral(
  trx: LoyaltyDb,
  program: Program,
  referee: MemberRow,
  order: { id: number; placed_at: number },
  now: number,
): Promise<number> {
  const rule = program.config.referral;
  if (!rule) return 0;
  const referral = await trx
    .selectFrom('loyalty_referrals')
    .selectAll()
    .where('referee_id', '=', referee.customer_id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (!referral || referral.created_at > order.placed_at) return 0;
  const referrer = await lockMember(trx, referral.referrer_id);
  let credited = 0;
  const base = {
    kind: 'earn' as const,
    source: 'rule' as const,
    rule: 'referral',
    occurredAt: order.placed_at,
    orderId: order.id,
  };
  if (rule.refereePoints > 0) {
    const ok = await post(
      trx,
      program,
      referee,
      {
        ...base,
        amount: rule.refereePoints,
        reason: `referred by customer ${referral.referrer_id}`,
        idempotencyKey: `referral:${referee.customer_id}:referee`,
      },
      now,
    );
    if (ok) credited += rule.refereePoints;
  }
  if (referrer && rule.referrerPoints > 0) {
    const refusal = await limitRefusal(
      trx,
      'referral',
      referrer.customer_id,
      rule.limits ?? {},
      rule.referrerPoints,
      now,
    );
    if (refusal === undefined) {
      await settleMember(trx, program, referrer, now);
      const ok = await post(
        trx,
        program,
        referrer,
        {
          ...base,
          amount: rule.referrerPoints,
          reason: `referred customer ${referee.customer_id}`,
          idempotencyKey: `referral:${referee.customer_id}:referrer`,
        },
        now,
      );
      if (ok) credited += rule.referrerPoints;
    }
  }
  await trx
    .updateTable('loyalty_referrals')
    .set({ status: 'rewarded', rewarded_at: order.placed_at, order_id: order.id })
    .where('referee_id', '=', referee.customer_id)
    .execute();
  return credited;
}

/** The outcome of an action credit. */
export interface ActionCredit {
  customerId: number;
  action: Action;
  points: number;
  balance: number;
  /** False when the idempotency key had been used already (a retry): nothing was credited. */
  applied: boolean;
}

/**
 * Credits an action (sign-up, birthday, review, social share, custom contest action) under the rule's
 * limits. The default idempotency keys make retries safe: sign-up once ever, birthday once a year,
 * a review or share once per `reference` (e.g. the review id or shared URL).
 */
export async function earnForAction(
  db: Db,
  program: Program,
  input: { customerId: number; action: Action; now: number; reference?: string; idempotencyKey?: string },
): Promise<Result<ActionCredit>> {
  const rule = actionRule(program.config, input.action);
  if (!rule) {
    return {
      ok: false,
      error: { kind: 'not_found', message: `action ${input.action}: the program does not reward it` },
    };
  }
  const ruleKey = input.action;
  const ref = input.reference ?? String(input.now);
  // A key the caller gives is scoped to this operation, so it can never collide with an order's or a
  // redemption's entry; reused for another customer or another action it is refused (409).
  const key =
    input.idempotencyKey !== undefined
      ? `action:${input.idempotencyKey}`
      : input.action === 'signup'
        ? `rule:signup:${input.customerId}`
        : input.action === 'birthday'
          ? `rule:birthday:${input.customerId}:${new Date(input.now).getUTCFullYear()}`
          : `rule:${input.action}:${input.customerId}:${ref}`;
  return writeTransaction(db, async (trx) => {
    const member = await lockMember(trx, input.customerId);
    if (!member) return notMember(input.customerId);
    const done = await trx
      .selectFrom('loyalty_ledger')
      .select(['customer_id', 'rule', 'kind', 'meta'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (done) {
      const sameReference = (JSON.parse(done.meta) as { reference?: string }).reference === input.reference;
      if (done.customer_id !== input.customerId || done.rule !== ruleKey || done.kind !== 'earn' || !sameReference) {
        return reusedKey(input.idempotencyKey ?? key, `${done.rule} for customer ${done.customer_id}`);
      }
      return {
        ok: true,
        value: {
          customerId: input.customerId,
          action: input.action,
          points: 0,
          balance: member.balance,
          applied: false,
        },
      };
    }
    await settleMember(trx, program, member, input.now);
    const dailyCap = input.action === 'share' ? program.config.actions.share?.dailyCap : undefined;
    const refusal = await limitRefusal(
      trx,
      ruleKey,
      input.customerId,
      { ...rule.limits, dailyCap },
      rule.points,
      input.now,
    );
    if (refusal) return { ok: false, error: { kind: 'conflict', message: refusal } };
    const applied = await post(
      trx,
      program,
      member,
      {
        amount: rule.points,
        kind: 'earn',
        reason: input.action.replace(':', ' '),
        source: 'rule',
        rule: ruleKey,
        idempotencyKey: key,
        occurredAt: input.now,
        meta: input.reference ? { reference: input.reference } : {},
      },
      input.now,
    );
    // Points earned count towards the tier, and an upgrade applies at once.
    if (applied) await reviewTier(trx, program, member, input.now);
    return {
      ok: true,
      value: {
        customerId: input.customerId,
        action: input.action,
        points: applied ? rule.points : 0,
        balance: member.balance,
        applied,
      },
    };
  });
}

/** One ledger entry as shown to people and the API. */
export interface LedgerEntry {
  id: number;
  amount: number;
  kind: string;
  reason: string;
  source: string;
  rule: string;
  bucket: string;
  availableAt: number;
  occurredAt: number;
  createdAt: number;
  programVersion: number;
  /** Comeback's id of the order the entry is about, null when none. */
  orderId: number | null;
  /** The store's own number of that order (`orders.external_id`), what the customer knows it by. */
  orderNumber: string | null;
}

/** Everything a member's page shows, computed as of `asOf` without writing anything. */
export interface MemberStatus {
  customerId: number;
  /** The store's own id of the customer (`storeIdOf`); null for one known only by e-mail. */
  storeId: string | null;
  enrolledAt: number;
  /** Spendable now: the balance plus pending points whose return window has passed by `asOf`. */
  available: number;
  /** Points still inside their return window as of `asOf` (not spendable yet). */
  pending: number;
  /**
   * When the pending points become available: points per `availableAt` (epoch ms, the end of the
   * return window), earliest first; empty when nothing is pending.
   */
  pendingSettles: Array<{ points: number; availableAt: number }>;
  /** What the available points are worth, in minor units of the program currency. */
  availableValueMinor: number;
  currency: string;
  lifetimeEarned: number;
  /**
   * Points a refund could not take back because the member had spent them; later earnings repay it
   * before they can be spent.
   */
  debt: number;
  tier: { key: string; name: string; multiplier: number; perks: string[]; since: number; reviewAt: number };
  /**
   * The tier above, with `qualifying`: what counts towards it now, the program's basis (points earned net
   * of reversals, or net paid spend in minor units) over the window ending at `asOf` (`qualifyingValue`).
   */
  nextTier: { key: string; name: string; threshold: number; qualifying: number } | undefined;
  /**
   * What keeping the tier takes, for a tier above the lowest: at the review on `reviewAt` (epoch ms) the
   * tier needs `threshold` over the window ending then; `counted` is what already counts towards it (the
   * part of that window up to `asOf`), `missing` what is still to earn or spend by then (0: kept). Points,
   * or minor units on a spend basis. Null at the lowest tier.
   */
  tierKeep: { reviewAt: number; threshold: number; counted: number; missing: number } | null;
  referralCode: string;
  lastActivityAt: number;
  rewardsWithinReach: Array<{ key: string; name: string; cost: number }>;
  entries: LedgerEntry[];
  /** How many ledger entries the member has in all (`entries` holds the newest `entries` of them). */
  entryCount: number;
  /**
   * What the stored state already holds (epoch ms): the later of the member's settlement mark (the last
   * sync) and their latest ledger entry. Read as of an earlier instant, the balance, pending points and
   * history still hold what was booked after it (the ledger is not unwound): callers refuse or say so.
   */
  bookedThrough: number;
  /**
   * Expiries due by `asOf` that no sync or redemption has booked yet, newest first: points (positive),
   * the instant they expired (epoch ms) and why. `available` already has them taken off; a history
   * shows them so that the balance adds up.
   */
  dueExpiries: Array<{ points: number; occurredAt: number; reason: string }>;
  tierHistory: Array<{ from: string | null; to: string; at: number; reason: string }>;
  redemptions: Array<{
    code: string;
    reward: string;
    points: number;
    issuedAt: number;
    expiresAt: number;
    usedAt: number | null;
  }>;
  /**
   * The member's store credit in the program currency as of `asOf` (minor units; credit past its expiry
   * date is not counted) and the personal code that spends it at checkout; null when no credit account
   * was ever opened.
   */
  credit: { currency: string; balanceMinor: number; code: string } | null;
}

/** One line of a member's history: a ledger entry, or an expiry due by the as-of that no sync booked yet. */
export type HistoryLine =
  | { at: number; points: number; due: false; entry: LedgerEntry }
  | { at: number; points: number; due: true; expiry: MemberStatus['dueExpiries'][number] };

/**
 * The member's history as people read it: the ledger's newest entries (`status.entries`) and the due
 * expiries, as one list, newest first (`at` epoch ms; `points` signed, an expiry negative); at one
 * instant a due expiry comes first, since it is the latest thing to happen to the balance.
 */
export function memberHistory(status: MemberStatus): HistoryLine[] {
  return [
    ...status.dueExpiries.map((e) => ({ at: e.occurredAt, points: -e.points, due: true as const, expiry: e })),
    ...status.entries.map((e) => ({ at: e.occurredAt, points: e.amount, due: false as const, entry: e })),
  ].sort((x, y) => y.at - x.at);
}

/**
 * A member's status as of `asOf`. Pending points whose window has passed are shown as available, and
 * points that have expired by `asOf` are not (both computed on read, `dueExpiries`); `loyalty sync`
 * or the member's next redemption books them. The tier is the one a review at `asOf` gives
 * (`assessTier`): a live page read years after the last sync shows the tier the member holds now,
 * not the one stored then. As of a day before the stored tier was reached, the stored tier is shown.
 */
export async function memberStatus(
  db: Db,
  program: Program,
  customerId: number,
  { asOf, entries = 50 }: { asOf: number; entries?: number },
): Promise<MemberStatus | undefined> {
  const l = db.withTables<LoyaltyTables>();
  const found = await l
    .selectFrom('loyalty_members')
    .selectAll()
    .select(storeIdOf(sql.ref('loyalty_members.customer_id')).as('store_id'))
    .where('customer_id', '=', customerId)
    .executeTakeFirst();
  if (!found) return undefined;
  const { store_id: storeId, ...member } = found;
  const dueRow = await l
    .selectFrom('loyalty_ledger')
    .select(sql<number>`coalesce(sum(amount), 0)`.as('due'))
    .where('customer_id', '=', customerId)
    .where('bucket', '=', 'pending')
    .where('available_at', '>', member.settled_at)
    .where('available_at', '<=', asOf)
    .executeTakeFirstOrThrow();
  const due = Number(dueRow.due);
  const settles = await l
    .selectFrom('loyalty_ledger')
    .select(['available_at', sql<number>`sum(amount)`.as('points')])
    .where('customer_id', '=', customerId)
    .where('bucket', '=', 'pending')
    .where('available_at', '>', Math.max(member.settled_at, asOf))
    .groupBy('available_at')
    .orderBy('available_at')
    .execute();
  const { config } = program;
  const review =
    asOf >= member.tier_since
      ? await assessTier(l, program, member, asOf)
      : { tier: member.tier, since: member.tier_since, reviewAt: member.tier_review_at, changes: [] };
  const tier = tierByKey(config, review.tier);
  const next = config.tiers.levels[tierRank(config, tier.key) + 1];
  let tierKeep: MemberStatus['tierKeep'] = null;
  if (tierRank(config, tier.key) > 0) {
    const windowStart = review.reviewAt - config.tiers.windowDays * MS_PER_DAY;
    const counted = asOf > windowStart ? await qualifyingValue(l, config, customerId, asOf, windowStart) : 0;
    tierKeep = {
      reviewAt: review.reviewAt,
      threshold: tier.threshold,
      counted,
      missing: Math.max(0, tier.threshold - counted),
    };
  }
  const rows = await l
    .selectFrom('loyalty_ledger as e')
    .leftJoin('orders as o', 'o.id', 'e.order_id')
    .selectAll('e')
    .select('o.external_id as order_number')
    .where('e.customer_id', '=', customerId)
    .orderBy('e.id', 'desc')
    .limit(entries)
    .execute();
  const counted = await l
    .selectFrom('loyalty_ledger')
    .select([(eb) => eb.fn.countAll<number>().as('n'), sql<number | null>`max(occurred_at)`.as('latest')])
    .where('customer_id', '=', customerId)
    .executeTakeFirstOrThrow();
  const history = await l
    .selectFrom('loyalty_tier_history')
    .selectAll()
    .where('customer_id', '=', customerId)
    .orderBy('changed_at')
    .orderBy('id')
    .execute();
  const redemptions = await l
    .selectFrom('loyalty_redemptions')
    .selectAll()
    .where('customer_id', '=', customerId)
    .orderBy('id', 'desc')
    .execute();
  // Spendable as of `asOf`: credit past its expiry date is not, though only a sync books its expiry.
  const account = (await creditStatus(db, customerId, { asOf, entries: 0 })).accounts.find(
    (a) => a.currency === config.currency,
  );
  const credit = account && { currency: account.currency, balanceMinor: account.balanceMinor, code: account.code };
  // Points that settle by `asOf` repay the debt first, as `settleMember` will book them; what has
  // expired by `asOf` is not available, though `expireMember` (sync, or the next redemption) books it.
  const repaid = Math.min(member.debt, member.balance + due);
  const settled = member.balance + due - repaid;
  const expiries = (
    await dueExpiries(l, program, { ...member, balance: settled }, Math.max(member.settled_at, asOf), asOf)
  ).filter((e) => e.amount > 0);
  const expired = expiries.reduce((sum, e) => sum + e.amount, 0);
  const available = settled - expired;
  return {
    customerId,
    storeId,
    enrolledAt: member.enrolled_at,
    available,
    pending: member.pending - due,
    pendingSettles: settles
      .map((s) => ({ points: Number(s.points), availableAt: Number(s.available_at) }))
      .filter((s) => s.points > 0),
    availableValueMinor: Math.floor(available * config.pointValueMinor),
    currency: config.currency,
    lifetimeEarned: member.lifetime_earned,
    debt: member.debt - repaid,
    tier: {
      key: tier.key,
      name: tier.name,
      multiplier: tier.multiplier,
      perks: [...tier.perks],
      since: review.since,
      reviewAt: review.reviewAt,
    },
    nextTier: next
      ? {
          key: next.key,
          name: next.name,
          threshold: next.threshold,
          qualifying: await qualifyingValue(l, config, customerId, asOf),
        }
      : undefined,
    tierKeep,
    referralCode: member.referral_code,
    lastActivityAt: member.last_activity_at,
    rewardsWithinReach: config.rewards
      .filter((r) => r.cost <= available && tierAllowsReward(config, r, tier.key))
      .map((r) => ({ key: r.key, name: r.name, cost: r.cost })),
    entries: rows.map(entryRowToEntry),
    entryCount: Number(counted.n),
    bookedThrough: Math.max(member.settled_at, counted.latest === null ? 0 : Number(counted.latest)),
    dueExpiries: expiries
      .map((e) => ({ points: e.amount, occurredAt: e.occurredAt, reason: e.reason }))
      .sort((a, b) => b.occurredAt - a.occurredAt),
    // With the change a review as of `asOf` makes and no sync has booked yet, as the sync will book it.
    tierHistory: [
      ...history.map((h) => ({ from: h.from_tier, to: h.to_tier, at: h.changed_at, reason: h.reason })),
      ...review.changes.map((c) => ({ from: c.from, to: c.to, at: c.at, reason: c.reason })),
    ],
    // A store-credit redemption's row is a receipt, not a code to use: the credit shows in `credit`.
    redemptions: redemptions
      .filter((r) => (JSON.parse(r.reward) as RewardConfig).type !== 'store_credit')
      .map((r) => ({
        code: r.code,
        reward: r.reward_key,
        points: r.points,
        issuedAt: r.issued_at,
        expiresAt: r.expires_at,
        usedAt: r.used_at,
      })),
    credit: credit ?? null,
  };
}

/** Maps a ledger row to the entry shown outside the store. */
export function entryRowToEntry(row: {
  id: number;
  amount: number;
  kind: string;
  reason: string;
  source: string;
  rule: string;
  bucket: string;
  available_at: number;
  occurred_at: number;
  created_at: number;
  program_version: number;
  order_id: number | null;
  order_number?: string | null;
}): LedgerEntry {
  return {
    id: row.id,
    amount: row.amount,
    kind: row.kind,
    reason: row.reason,
    source: row.source,
    rule: row.rule,
    bucket: row.bucket,
    availableAt: row.available_at,
    occurredAt: row.occurred_at,
    createdAt: row.created_at,
    programVersion: row.program_version,
    orderId: row.order_id,
    orderNumber: row.order_number ?? null,
  };
}

/** What a message says about a member: spendable points, tier and the rewards in reach. */
export interface MemberSummary {
  customerId: number;
  /** Spendable as of `asOf`, computed as `memberStatus` computes `available`. */
  available: number;
  /** What the available points are worth, in minor units of `currency`. */
  availableValueMinor: number;
  currency: string;
  tier: { key: string; name: string };
  /**
   * The rewards the member's tier allows that they can take now (cost ≤ available), then the cheapest
   * one they cannot take yet (the next goal), cheapest first; `pointsNeeded` is 0 for the first kind.
   */
  rewardsWithinReach: Array<{ key: string; name: string; cost: number; pointsNeeded: number }>;
}

/**
 * `MemberSummary` of many customers at once as of `asOf` (two queries, whatever the count); customers
 * who are not members are absent from the map.
 */
export async function memberSummaries(
  db: Db,
  program: Program,
  customerIds: readonly number[],
  asOf: number,
): Promise<Map<number, MemberSummary>> {
  const out = new Map<number, MemberSummary>();
  const ids = [...new Set(customerIds)];
  const l = db.withTables<LoyaltyTables>();
  const { config } = program;
  for (let at = 0; at < ids.length; at += 500) {
    const chunk = ids.slice(at, at + 500);
    const members = await l
      .selectFrom('loyalty_members')
      .select(['customer_id', 'balance', 'debt', 'settled_at', 'tier'])
      .where('customer_id', 'in', chunk)
      .execute();
    if (members.length === 0) continue;
    // Pending points whose window has passed by `asOf` are spendable (as `memberStatus` counts them).
    const dueRows = await l
      .selectFrom('loyalty_ledger as e')
      .innerJoin('loyalty_members as m', 'm.customer_id', 'e.customer_id')
      .select(['e.customer_id', sql<number>`coalesce(sum(e.amount), 0)`.as('due')])
      .where('e.customer_id', 'in', chunk)
      .where('e.bucket', '=', 'pending')
      .whereRef('e.available_at', '>', 'm.settled_at')
      .where('e.available_at', '<=', asOf)
      .groupBy('e.customer_id')
      .execute();
    const due = new Map(dueRows.map((r) => [Number(r.customer_id), Number(r.due)]));
    for (const m of members) {
      const pendingDue = due.get(Number(m.customer_id)) ?? 0;
      const repaid = Math.min(m.debt, m.balance + pendingDue);
      const available = m.balance + pendingDue - repaid;
      const tier = tierByKey(config, m.tier);
      const allowed = config.rewards
        .filter((r) => tierAllowsReward(config, r, tier.key))
        .sort((a, b) => a.cost - b.cost || a.key.localeCompare(b.key));
      const now = allowed.filter((r) => r.cost <= available);
      const next = allowed.find((r) => r.cost > available);
      out.set(Number(m.customer_id), {
        customerId: Number(m.customer_id),
        available,
        availableValueMinor: Math.floor(available * config.pointValueMinor),
        currency: config.currency,
        tier: { key: tier.key, name: tier.name },
        rewardsWithinReach: [...now, ...(next ? [next] : [])].map((r) => ({
          key: r.key,
          name: r.name,
          cost: r.cost,
          pointsNeeded: Math.max(0, r.cost - available),
        })),
      });
    }
  }
  return out;
}

/**
 * The last instant a customer's loyalty ledgers hold (epoch ms, inclusive; 0 with none): the latest of
 * the member's last settlement (a sync settles up to `settled_at`, exclusive), their latest points entry
 * and their latest store-credit entry.
 * Entries made live (a review's points, a storefront redemption, a hand adjustment) are dated when they
 * happen, which may be years after the store's imported data ends.
 */
export async function ledgerThrough(db: Db, customerId: number): Promise<number> {
  const l = db.withTables<LoyaltyTables>();
  const row = await l
    .selectFrom('loyalty_members as m')
    .select((eb) => [
      eb.fn.max('m.settled_at').as('settled'),
      eb
        .selectFrom('loyalty_ledger')
        .select(sql<number | null>`max(occurred_at)`.as('x'))
        .where('customer_id', '=', customerId)
        .as('points'),
      eb
        .selectFrom('store_credit_ledger')
        .select(sql<number | null>`max(created_at)`.as('x'))
        .where('customer_id', '=', customerId)
        .as('credit'),
    ])
    .where('m.customer_id', '=', customerId)
    .executeTakeFirst();
  const at = (v: number | string | null | undefined) => (v == null ? 0 : Number(v));
  return Math.max(0, at(row?.settled) - 1, at(row?.points), at(row?.credit));
}

/**
 * The instant a read or a hand-made entry for a member happens, given the as-of the command shares
 * (`asOf`, epoch ms) and whether the user typed it (`given`). The ledger is not unwound nor written
 * back in time: entries booked after `asOf` (live reviews, redemptions, adjustments, while the store's
 * data ends earlier) are in the stored balance, so reading or writing as of the store's data would mix
 * the two (pending points matured by a 2026 entry beside expiries not yet due in 2011; a 2011 debit
 * after a 2026 credit). A default as-of moves forward to `ledgerThrough`; a typed one before it is
 * refused (`bad_input`, field `as-of`, naming the day the ledger is booked up to).
 */
export async function memberInstant(
  db: Db,
  customerId: number,
  asOf: number,
  { given, timeZone, writing = false }: { given: boolean; timeZone: string; writing?: boolean },
): Promise<number> {
  const through = await ledgerThrough(db, customerId);
  if (through <= asOf) return asOf;
  if (given) {
    throw new ComebackError(
      'bad_input',
      `${dayInZone(asOf - 1, timeZone)} is before the member's ledger, booked up to ${dayInZone(through - 1, timeZone)} (syncs, redemptions, reviews); ${writing ? 'write' : 'read'} the member as of that day or later`,
      { location: { field: 'as-of' } },
    );
  }
  return through;
}

/**
 * A member read as of `asOf` (epoch ms), or as of what their ledgers already hold when that is later
 * (`memberInstant`: the answer's `asOf`); a typed as-of before them is refused. Undefined for a
 * non-member.
 */
export async function memberAsOf(
  db: Db,
  program: Program,
  customerId: number,
  asOf: number,
  { given, timeZone, entries = 20 }: { given: boolean; timeZone: string; entries?: number },
): Promise<{ status: MemberStatus; asOf: number } | undefined> {
  const at = await memberInstant(db, customerId, asOf, { given, timeZone });
  const status = await memberStatus(db, program, customerId, { asOf: at, entries });
  return status && { status, asOf: at };
}

/**
 * The member as their own pages read them at `now` (the clock, read by the caller at the edge), when that
 * may differ from a read as of `readAsOf`: the store's data ends (`dataEnd`, epoch ms, exclusive) more
 * than `STALE_WRITE_DAYS` before `now` and the read is earlier than `now`, so points may have expired and
 * tiers been reviewed since. Undefined otherwise, or for a non-member. `today`: `{ asOf, available,
 * availableValueMinor, tier }` (points, minor units of the program's currency, the tier's key), as the
 * CLI's and the API's member answers carry it; `status`, the whole read.
 */
export async function memberToday(
  db: Db,
  program: Program,
  customerId: number,
  {
    readAsOf,
    now,
    dataEnd,
    timeZone,
  }: { readAsOf: number; now: number; dataEnd: number | undefined; timeZone: string },
): Promise<
  | { today: { asOf: number; available: number; availableValueMinor: number; tier: string }; status: MemberStatus }
  | undefined
> {
  if (readAsOf >= now || !staleWriteRefusal(now, dataEnd, false, timeZone)) return undefined;
  const live = (await memberAsOf(db, program, customerId, now, { given: false, timeZone }))?.status;
  if (!live) return undefined;
  const { available, availableValueMinor } = live;
  return { today: { asOf: now, available, availableValueMinor, tier: live.tier.key }, status: live };
}
