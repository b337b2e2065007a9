import { sql } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import { type Db, REVENUE_STATUSES, storeIdOf } from '../store/index.js';
import { type CreditLiability, creditLiability } from './credit.queries.js';
import type { LoyaltyTables } from './loyalty-tables.js';
import { type Program, tierAllowsReward, tierRank } from './program.js';
import { unbookedAt } from './unbooked.queries.js';

/** The program's health in numbers, as of a date. */
export interface ProgramReport {
  asOf: number;
  programVersion: number;
  currency: string;
  /** Members enrolled by `asOf`. */
  members: number;
  /** Members who earned or redeemed in the last `activeDays` days before `asOf`. */
  activeMembers: number;
  activeDays: number;
  /**
   * Points by kind, from ledger entries that occurred by `asOf`. `issued` is gross (earned and credited
   * by hand, before reversals; the same as `issuedGross`); `issuedNet` takes off what refunds and
   * cancellations reversed (including what members owe as debt).
   */
  points: {
    issued: number;
    issuedGross: number;
    issuedNet: number;
    redeemed: number;
    /** Booked by `asOf` plus `expiredUnbooked`: what the program's rules expired by then. */
    expired: number;
    /**
     * Of `expired`, what no sync has booked yet (the as-of is past the last sync; `unbookedAt`). Zero
     * once a sync as of that day or later runs; every other figure stays the same.
     */
    expiredUnbooked: number;
    reversed: number;
    /** Net of credits and debits by hand; the credits are also in `issued`. */
    adjusted: number;
    /** Debits by hand (positive): with `issuedNet − redeemed − expired`, what is outstanding. */
    debitedByHand: number;
  };
  /**
   * What members hold and owe at `asOf`, summed from the ledger up to then (the same answer whenever
   * the report runs): `available` leaves out what expired by `asOf` though no sync booked it yet
   * (`points.expiredUnbooked`); liability is what the available and pending points are worth; `debt` is the
   * points members owe after refunds of points they had spent, not netted against the liability.
   */
  outstanding: {
    available: number;
    pending: number;
    liabilityMinor: number;
    debt: number;
    membersInDebt: number;
    debtValueMinor: number;
  };
  /** Redeemed ÷ gross issued (`redemptionRateGross`); null when nothing was issued. */
  redemptionRate: number | null;
  redemptionRateGross: number | null;
  /** Redeemed ÷ issued net of reversals; null when nothing net was issued. */
  redemptionRateNet: number | null;
  /**
   * Members per tier at `asOf`, from the tier history and the reviews due by `asOf` that no sync has
   * booked yet (`unbookedAt`), as the sync will book them.
   */
  tiers: Array<{ key: string; name: string; members: number }>;
  tierMovement: Array<{ from: string | null; to: string; reason: string; members: number }>;
  /**
   * Tier changes in the `movementDays` before `asOf`: upgrades, and downgrades at review (booked or due)
   * or after a refund.
   */
  movementDays: number;
  upgrades: number;
  downgrades: number;
  /**
   * Share of buyers with two or more paid orders in the program currency, members against non-members,
   * both counted over customers whose first order is on or after the first enrolment (so the groups
   * started buying in the same era). An order cancelled or fully refunded after `asOf` still counts, as
   * it did then.
   */
  repeatPurchase: {
    members: { customers: number; repeaters: number; rate: number | null };
    nonMembers: { customers: number; repeaters: number; rate: number | null };
  };
  /**
   * Store credit outstanding per currency (money owed to members, beside the points' liability), and
   * what was issued, spent, restored, expired and adjusted, from credit entries written by `asOf`.
   */
  credit: CreditLiability[];
}

/**
 * Members, activity, points by kind, liability, debt, redemption rates, tiers and the members' repeat
 * rate as of `asOf`, read from the append-only ledger and tier history up to `asOf` (entries by
 * `occurred_at`; an entry is pending at `asOf` while its `available_at` is later), never from the
 * members' current counters. Read past the last sync, it counts the expiries and tier reviews due by
 * `asOf` as the sync will book them (`unbookedAt`), so the answer is the same before and after it.
 */
export async function programReport(
  db: Db,
  program: Program,
  { asOf, activeDays = 90, movementDays = 365 }: { asOf: number; activeDays?: number; movementDays?: number },
): Promise<ProgramReport> {
  const l = db.withTables<LoyaltyTables>();
  const { config } = program;
  const m = await l
    .selectFrom('loyalty_members')
    .select([sql<number>`count(*)`.as('members'), sql<number>`min(enrolled_at)`.as('first_enrolment')])
    .where('enrolled_at', '<=', asOf)
    .executeTakeFirstOrThrow();
  const activeRow = await l
    .selectFrom('loyalty_ledger')
    .select(sql<number>`count(distinct customer_id)`.as('n'))
    .where((eb) => eb.or([eb.and([eb('kind', '=', 'earn'), eb('amount', '>', 0)]), eb('kind', '=', 'redeem')]))
    .where('occurred_at', '>', asOf - activeDays * MS_PER_DAY)
    .where('occurred_at', '<=', asOf)
    .executeTakeFirstOrThrow();
  const kinds = await l
    .selectFrom('loyalty_ledger')
    .select([
      'kind',
      sql<number>`coalesce(sum(case when amount > 0 then amount else 0 end), 0)`.as('plus'),
      sql<number>`coalesce(sum(case when amount < 0 then -amount else 0 end), 0)`.as('minus'),
    ])
    .where('occurred_at', '<=', asOf)
    .groupBy('kind')
    .execute();
  const kind = (k: string) => kinds.find((row) => row.kind === k);
  const held = await l
    .selectFrom('loyalty_ledger')
    .select([
      sql<number>`coalesce(sum(case when bucket <> 'debt' and available_at > ${asOf} and (bucket = 'pending' or amount > 0) then amount else 0 end), 0)`.as(
        'pending',
      ),
      sql<number>`coalesce(sum(case when bucket <> 'debt' and not (available_at > ${asOf} and (bucket = 'pending' or amount > 0)) then amount else 0 end), 0)`.as(
        'available',
      ),
      sql<number>`coalesce(sum(case when bucket = 'debt' then amount else 0 end), 0)`.as('owed'),
    ])
    .where('occurred_at', '<=', asOf)
    .executeTakeFirstOrThrow();
  const debtors = await l
    .selectFrom(
      l
        .selectFrom('loyalty_ledger')
        .select(['customer_id', sql<number>`sum(amount)`.as('owed')])
        .where('bucket', '=', 'debt')
        .where('occurred_at', '<=', asOf)
        .groupBy('customer_id')
        .as('d'),
    )
    .select(sql<number>`count(*)`.as('n'))
    .where('d.owed', '<', 0)
    .executeTakeFirstOrThrow();
  const issuedGross = Number(kind('earn')?.plus ?? 0) + Number(kind('adjust')?.plus ?? 0);
  const reversed = Number(kind('reverse')?.minus ?? 0);
  const issuedNet = issuedGross - reversed;
  const redeemed = Number(kind('redeem')?.minus ?? 0);
  const history = await l
    .selectFrom('loyalty_tier_history')
    .select(['customer_id', 'to_tier'])
    .where('changed_at', '<=', asOf)
    .orderBy('customer_id')
    .orderBy('changed_at')
    .orderBy('id')
    .execute();
  const tierOf = new Map<number, string>();
  for (const h of history) tierOf.set(Number(h.customer_id), h.to_tier);
  // Past the last sync: expiries and tier reviews due by `asOf` that the ledger does not hold yet.
  const unbooked = await unbookedAt(db, program, asOf);
  const expiredUnbooked = [...unbooked.expired.values()].reduce((sum, points) => sum + points, 0);
  const dueChanges = [...unbooked.tierChanges.values()].flat();
  for (const [customerId, changes] of unbooked.tierChanges) tierOf.set(customerId, changes.at(-1)!.to);
  const perTier = new Map<string, number>();
  for (const tier of tierOf.values()) perTier.set(tier, (perTier.get(tier) ?? 0) + 1);
  const movement = await l
    .selectFrom('loyalty_tier_history')
    .select(['from_tier', 'to_tier', 'reason', sql<number>`count(*)`.as('n')])
    .where('changed_at', '>', asOf - movementDays * MS_PER_DAY)
    .where('changed_at', '<=', asOf)
    .where('reason', '<>', 'enrolled')
    .groupBy(['from_tier', 'to_tier', 'reason'])
    .orderBy('reason')
    .orderBy('from_tier')
    .orderBy('to_tier')
    .execute();
  const tierMovement = movement.map((r) => ({
    from: r.from_tier,
    to: r.to_tier,
    reason: r.reason,
    members: Number(r.n),
  }));
  for (const change of dueChanges) {
    if (change.at <= asOf - movementDays * MS_PER_DAY) continue;
    const same = tierMovement.find((t) => t.from === change.from && t.to === change.to && t.reason === change.reason);
    if (same) same.members += 1;
    else tierMovement.push({ from: change.from, to: change.to, reason: change.reason, members: 1 });
  }
  const key = (t: { from: string | null; to: string; reason: string }) =>
    `${t.reason}\u0000${t.from ?? ''}\u0000${t.to}`;
  if (dueChanges.length > 0) tierMovement.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rank = (key: string | null) => (key === null ? -1 : tierRank(config, key));
  const upgrades = tierMovement.filter((t) => rank(t.to) > rank(t.from)).reduce((n, t) => n + t.members, 0);
  const downgrades = tierMovement.filter((t) => rank(t.to) < rank(t.from)).reduce((n, t) => n + t.members, 0);
  const since = m.first_enrolment === null ? asOf : Number(m.first_enrolment);
  const repeat = await sql<{ member: number; customers: number; repeaters: number }>`
    select t.member, count(*) as customers, sum(case when t.n >= 2 then 1 else 0 end) as repeaters
    from (
      select o.customer_id, count(*) as n, min(o.placed_at) as first_at,
             max(case when lm.customer_id is null then 0 else 1 end) as member
      from orders o
      left join loyalty_members lm on lm.customer_id = o.customer_id and lm.enrolled_at <= ${asOf}
      where o.customer_id is not null and o.currency = ${config.currency}
        and o.placed_at <= ${asOf}
        and (o.status in (${sql.join(REVENUE_STATUSES)})
          or (o.status = 'cancelled' and o.cancelled_at > ${asOf})
          or (o.status = 'refunded'
              and (select max(r.refunded_at) from refunds r where r.order_id = o.id) > ${asOf}))
      group by o.customer_id
    ) t
    where t.first_at >= ${since}
    group by t.member`.execute(l);
  const group = (member: number) => {
    const row = repeat.rows.find((r) => Number(r.member) === member);
    const customers = Number(row?.customers ?? 0);
    const repeaters = Number(row?.repeaters ?? 0);
    return { customers, repeaters, rate: customers === 0 ? null : repeaters / customers };
  };
  const available = Number(held.available) - expiredUnbooked;
  const pending = Number(held.pending);
  const debt = 0 - Number(held.owed);
  const rateGross = issuedGross === 0 ? null : redeemed / issuedGross;
  return {
    asOf,
    programVersion: program.version,
    currency: config.currency,
    members: Number(m.members),
    activeMembers: Number(activeRow.n),
    activeDays,
    points: {
      issued: issuedGross,
      issuedGross,
      issuedNet,
      redeemed,
      expired: Number(kind('expire')?.minus ?? 0) + expiredUnbooked,
      expiredUnbooked,
      reversed,
      adjusted: Number(kind('adjust')?.plus ?? 0) - Number(kind('adjust')?.minus ?? 0),
      debitedByHand: Number(kind('adjust')?.minus ?? 0),
    },
    outstanding: {
      available,
      pending,
      liabilityMinor: Math.round((available + pending) * config.pointValueMinor),
      debt,
      membersInDebt: Number(debtors.n),
      debtValueMinor: Math.round(debt * config.pointValueMinor),
    },
    redemptionRate: rateGross,
    redemptionRateGross: rateGross,
    redemptionRateNet: issuedNet <= 0 ? null : redeemed / issuedNet,
    tiers: config.tiers.levels.map((level) => ({
      key: level.key,
      name: level.name,
      members: perTier.get(level.key) ?? 0,
    })),
    tierMovement,
    movementDays,
    upgrades,
    downgrades,
    repeatPurchase: { members: group(1), nonMembers: group(0) },
    credit: await creditLiability(db, { asOf }),
  };
}

/** A member worth winning back, with what they are missing. */
export interface DormantMember {
  customerId: number;
  email: string | null;
  /** The store's own id of the customer (`storeIdOf`); null for one known only by e-mail. */
  storeId: string | null;
  lastActivityAt: number;
  daysInactive: number;
  balance: number;
  balanceValueMinor: number;
  tier: string;
  rewardsWithinReach: Array<{ key: string; name: string; cost: number }>;
  /** The cheapest reward still out of reach and the points it needs. */
  nextReward: { key: string; name: string; cost: number; missing: number } | undefined;
}

/**
 * Members with no earn or redemption for `days` (the program's `dormantDays` by default) as of
 * `asOf`, largest balance first (then the most recently active): the list a win-back flow sends to. Everything is read as it stood at
 * `asOf` from the append-only ledger and tier history (as `programReport` reads them), never from the
 * members' current counters: the balance is the entries that occurred by `asOf` and were available then
 * (not pending, not debt) less what had expired by then though no sync booked it, the last activity the
 * latest earn of points or redemption by then (else the enrolment), the tier the last change by then or
 * the review due by then (`unbookedAt`). Members enrolled after `asOf` are left out.
 */
export async function dormantMembers(
  db: Db,
  program: Program,
  options: { asOf: number; days?: number; limit?: number },
): Promise<DormantMember[]> {
  return (await dormantMembersAndCount(db, program, options)).members;
}

/**
 * `dormantMembers` with how many are dormant in all (`total`), of which `members` are the first
 * `limit`: read in the same query, so the two agree.
 */
export async function dormantMembersAndCount(
  db: Db,
  program: Program,
  { asOf, days, limit = 1000 }: { asOf: number; days?: number; limit?: number },
): Promise<{ total: number; members: DormantMember[] }> {
  const { config } = program;
  const span = (days ?? config.dormantDays) * MS_PER_DAY;
  const { rows } = await sql<{
    customer_id: number;
    email: string | null;
    store_id: string | null;
    last_activity_at: number;
    balance: number;
    tier: string;
  }>`
    select m.customer_id, c.email, ${storeIdOf(sql.ref('m.customer_id'))} as store_id,
      coalesce(a.last_active, m.enrolled_at) as last_activity_at,
      coalesce(a.balance, 0) as balance,
      coalesce((select h.to_tier from loyalty_tier_history h
        where h.customer_id = m.customer_id and h.changed_at <= ${asOf}
        order by h.changed_at desc, h.id desc limit 1), m.tier) as tier
    from loyalty_members m
    join customers c on c.id = m.customer_id
    left join (
      select l.customer_id,
        max(case when (l.kind = 'earn' and l.amount > 0) or l.kind = 'redeem' then l.occurred_at end) as last_active,
        sum(case when l.bucket <> 'debt' and not (l.available_at > ${asOf} and (l.bucket = 'pending' or l.amount > 0))
          then l.amount else 0 end) as balance
      from loyalty_ledger l
      where l.occurred_at <= ${asOf}
      group by l.customer_id
    ) a on a.customer_id = m.customer_id
    where m.enrolled_at <= ${asOf} and coalesce(a.last_active, m.enrolled_at) <= ${asOf - span}
    order by m.customer_id`.execute(db);
  const rewards = [...config.rewards].sort((a, b) => a.cost - b.cost);
  const total = rows.length;
  // Past the last sync: what expired by `asOf` and the tier reviews due by then, as the sync will book them.
  const unbooked = await unbookedAt(
    db,
    program,
    asOf,
    rows.map((r) => Number(r.customer_id)),
  );
  const dormant = rows
    .map((row) => {
      const id = Number(row.customer_id);
      // PostgreSQL returns bigint sums and maxima as strings.
      return {
        ...row,
        balance: Number(row.balance) - (unbooked.expired.get(id) ?? 0),
        last_activity_at: Number(row.last_activity_at),
        tier: unbooked.tierChanges.get(id)?.at(-1)?.to ?? row.tier,
      };
    })
    // Largest balance first; among equal balances the most recently active (likelier to come back),
    // then by id, so that the order is the same on every database.
    .sort(
      (a, b) =>
        b.balance - a.balance ||
        b.last_activity_at - a.last_activity_at ||
        Number(a.customer_id) - Number(b.customer_id),
    )
    .slice(0, limit);
  const members = dormant.map((r) => {
    // The cheapest reward out of reach that the member's tier may redeem: a Gold-only reward is no
    // Blue member's next step.
    const next = rewards.find((reward) => reward.cost > r.balance && tierAllowsReward(config, reward, r.tier));
    return {
      customerId: Number(r.customer_id),
      email: r.email,
      storeId: r.store_id,
      lastActivityAt: r.last_activity_at,
      daysInactive: Math.floor((asOf - r.last_activity_at) / MS_PER_DAY),
      balance: r.balance,
      balanceValueMinor: Math.floor(r.balance * config.pointValueMinor),
      tier: r.tier,
      rewardsWithinReach: rewards
        .filter((reward) => reward.cost <= r.balance && tierAllowsReward(config, reward, r.tier))
        .map((reward) => ({ key: reward.key, name: reward.name, cost: reward.cost })),
      nextReward: next
        ? { key: next.key, name: next.name, cost: next.cost, missing: next.cost - r.balance }
        : undefined,
    };
  });
  return { total, members };
}
