import { randomUUID } from 'node:crypto';
import { PostgresAdapter, type Selectable, sql } from 'kysely';
import { ComebackError, type Result } from '../errors.js';
import { MS_PER_DAY } from '../shared/dates.js';
import { type Db, dialectOf, REVENUE_STATUSES } from '../store/index.js';
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
  const l = db.withTables<LoyaltyTables>();
  if (db.isTransaction) return fn(l);
  if (dialectOf(db) === 'postgres') return l.transaction().execute(fn);
  return l.connection().execute(async (conn) => {
    await beginImmediate(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/**
 * `BEGIN IMMEDIATE`, which waits up to the busy timeout for the write lock; SQLite's busy handler is
 * not fair, so under heavy contention from several processes a waiter can time out, and it tries again.
 */
async function beginImmediate(conn: LoyaltyDb, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (error) {
      const busy = error instanceof Error && 'code' in error && error.code === 'SQLITE_BUSY';
      if (!busy || attempt >= attempts) throw error;
    }
  }
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
  orderId?: number | null;
  meta?: Record<string, unknown>;
}

/**
 * Appends one entry unless its idempotency key is already in the ledger (then returns false and
 * changes nothing), and moves the member's counters with it. The member row must be locked (see
 * `writeTransaction`) and settled up to `now`; `member` is updated in place. A debit that would take the
 * available balance below zero throws `insufficient_points` and the transaction rolls back.
 */
export async function post(
  trx: LoyaltyDb,
  program: Program,
  member: MemberRow,
  entry: NewEntry,
  now: number,
): Promise<boolean> {
  const availableAt = entry.availableAt ?? now;
  const bucket: Bucket = availableAt > Math.max(now, member.settled_at) ? 'pending' : 'available';
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
  const earned = entry.kind === 'earn' || entry.kind === 'reverse' ? entry.amount : 0;
  const gross = entry.kind === 'earn' && entry.amount > 0 ? entry.amount : 0;
  const active = (entry.kind === 'earn' && entry.amount > 0) || entry.kind === 'redeem';
  const lastActivity = active ? Math.max(member.last_activity_at, entry.occurredAt) : member.last_activity_at;
  const updated = await trx
    .updateTable('loyalty_members')
    .set((eb) => ({
      balance: eb('balance', '+', toBalance),
      pending: eb('pending', '+', toPending),
      lifetime_earned: eb('lifetime_earned', '+', earned),
      gross_earned: eb('gross_earned', '+', gross),
      last_activity_at: lastActivity,
    }))
    .where('customer_id', '=', member.customer_id)
    .where('balance', '>=', -toBalance)
    .where('pending', '>=', -toPending)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) {
    throw new ComebackError(
      'insufficient_points',
      `member ${member.customer_id}: ${entry.kind} of ${entry.amount} would overdraw the balance of ${member.balance}`,
    );
  }
  member.balance += toBalance;
  member.pending += toPending;
  member.lifetime_earned += earned;
  member.gross_earned += gross;
  member.last_activity_at = lastActivity;
  return true;
}

/**
 * Moves the member's pending points that became available by `now` into the balance. Pending entries
 * are never rewritten: the member's `settled_at` mark says which of them the balance already holds.
 */
export async function settleMember(trx: LoyaltyDb, member: MemberRow, now: number): Promise<void> {
  // Pending entries come as an earn and its reversals, sharing one available_at and never summing
  // below zero, so with nothing pending nothing can be due and the mark may stay where it is.
  if (now <= member.settled_at || member.pending === 0) return;
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

/**
 * Expires what the program says is due at `now`. `lot`: every earned lot (a positive entry) expires
 * `days` after it became available, less what was already spent from it, spending oldest lots first
 * (FIFO). `inactivity`: the whole available balance expires `days` after the last earn or redemption.
 * Each expiry has its own idempotency key, so running this twice expires nothing more.
 */
export async function expireMember(trx: LoyaltyDb, program: Program, member: MemberRow, now: number): Promise<number> {
  const { mode, days } = program.config.expiry;
  if (mode === 'none' || days === undefined || member.balance <= 0) return 0;
  const span = days * MS_PER_DAY;
  if (mode === 'inactivity') {
    if (member.last_activity_at + span > now) return 0;
    const amount = member.balance;
    const posted = await post(
      trx,
      program,
      member,
      {
        amount: -amount,
        kind: 'expire',
        reason: `no activity for ${days} days`,
        source: 'system',
        rule: 'expiry',
        idempotencyKey: `expire:inactive:${member.customer_id}:${member.last_activity_at}`,
        occurredAt: member.last_activity_at + span,
      },
      now,
    );
    return posted ? amount : 0;
  }
  const entries = await trx
    .selectFrom('loyalty_ledger')
    .select(['id', 'amount', 'kind', 'bucket', 'available_at', 'order_id'])
    .where('customer_id', '=', member.customer_id)
    .where((eb) => eb.or([eb('bucket', '=', 'available'), eb('available_at', '<=', member.settled_at)]))
    .orderBy('available_at')
    .orderBy('id')
    .execute();
  // A pending reversal settles together with the earn it reverses, so it shrinks that lot rather than
  // spending the oldest one.
  const lots: Array<{ id: number; amount: number; availableAt: number; orderId: number | null }> = [];
  let spent = 0;
  for (const e of entries) {
    if (e.amount > 0) lots.push({ id: e.id, amount: e.amount, availableAt: e.available_at, orderId: e.order_id });
    else if (e.kind === 'reverse' && e.bucket === 'pending') {
      const lot = lots.find((x) => x.orderId === e.order_id && x.availableAt === e.available_at);
      if (lot) lot.amount += e.amount;
      else spent -= e.amount;
    } else spent -= e.amount;
  }
  let expired = 0;
  for (const lot of lots) {
    const used = Math.min(spent, Math.max(0, lot.amount));
    spent -= used;
    const remaining = lot.amount - used;
    if (remaining <= 0 || lot.availableAt + span > now) continue;
    const amount = Math.min(remaining, member.balance);
    if (amount <= 0) continue;
    const posted = await post(
      trx,
      program,
      member,
      {
        amount: -amount,
        kind: 'expire',
        reason: `points earned ${new Date(lot.availableAt).toISOString().slice(0, 10)} expired after ${days} days`,
        source: 'system',
        rule: 'expiry',
        idempotencyKey: `expire:lot:${lot.id}`,
        occurredAt: lot.availableAt + span,
        meta: { lot: lot.id },
      },
      now,
    );
    if (posted) expired += amount;
  }
  return expired;
}

/** Points earned (net of reversals), or net paid spend in minor units, in the rolling window ending at `asOf`. */
export async function qualifyingValue(
  trx: LoyaltyDb,
  config: ProgramConfig,
  customerId: number,
  asOf: number,
): Promise<number> {
  const from = asOf - config.tiers.windowDays * MS_PER_DAY;
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

/**
 * Re-assesses a member's tier at `asOf` on the rolling window (never on the balance): a higher tier
 * applies at once; a lower one only once `tier_review_at` (the end of the qualifying period plus the
 * grace period) has passed, and a member still qualifying then keeps the tier for another period.
 */
export async function reviewTier(
  trx: LoyaltyDb,
  program: Program,
  member: MemberRow,
  asOf: number,
): Promise<'upgrade' | 'downgrade' | 'renewed' | 'unchanged'> {
  const { config } = program;
  const value = await qualifyingValue(trx, config, member.customer_id, asOf);
  const reached = tierFor(config, value);
  const current = tierByKey(config, member.tier);
  const period = (config.tiers.windowDays + config.tiers.graceDays) * MS_PER_DAY;
  const upgrade = tierRank(config, reached.key) > tierRank(config, current.key) || tierRank(config, member.tier) < 0;
  if (!upgrade && asOf < member.tier_review_at) return 'unchanged';
  if (!upgrade && reached.key === current.key) {
    await trx
      .updateTable('loyalty_members')
      .set({ tier_review_at: asOf + period })
      .where('customer_id', '=', member.customer_id)
      .execute();
    member.tier_review_at = asOf + period;
    return 'renewed';
  }
  if (!upgrade && tierRank(config, reached.key) >= tierRank(config, current.key)) return 'unchanged';
  const reason = upgrade ? 'upgrade' : 'downgrade';
  await trx
    .updateTable('loyalty_members')
    .set({ tier: reached.key, tier_since: asOf, tier_review_at: asOf + period })
    .where('customer_id', '=', member.customer_id)
    .execute();
  await trx
    .insertInto('loyalty_tier_history')
    .values({
      customer_id: member.customer_id,
      from_tier: member.tier,
      to_tier: reached.key,
      changed_at: asOf,
      reason,
      qualifying_value: value,
    })
    .execute();
  member.tier = reached.key;
  member.tier_since = asOf;
  member.tier_review_at = asOf + period;
  return reason;
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
  return writeTransaction(db, async (trx) => {
    const member = await lockMember(trx, input.customerId);
    if (!member) return notMember(input.customerId);
    await settleMember(trx, member, input.now);
    if (input.points < 0 && member.balance + input.points < 0) {
      return {
        ok: false,
        error: {
          kind: 'insufficient_points',
          message: `member ${input.customerId} has ${member.balance} points available, cannot take ${-input.points}`,
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
        idempotencyKey: input.idempotencyKey ?? `adjust:${input.customerId}:${input.now}:${randomSuffix()}`,
        occurredAt: input.now,
        meta: input.actor ? { actor: input.actor } : {},
      },
      input.now,
    );
    return {
      ok: true,
      value: { customerId: input.customerId, points: input.points, balance: member.balance, applied },
    };
  });
}

/** A refusal for a customer who is not a member. */
export function notMember<T>(customerId: number): Result<T> {
  return { ok: false, error: { kind: 'not_found', message: `customer ${customerId} is not a loyalty member` } };
}

function randomSuffix(): string {
  return randomUUID();
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
      await settleMember(trx, member, now);
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
 * Checks the ledger's invariants for every member (or one): balance + pending = the sum of the ledger,
 * each counter equals the entries of its bucket as of `settled_at`, nothing below zero, and no
 * idempotency key twice.
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
      sql<number>`coalesce(sum(e.amount), 0)`.as('total'),
      sql<number>`coalesce(sum(case when e.bucket = 'available' or e.available_at <= m.settled_at then e.amount else 0 end), 0)`.as(
        'settled',
      ),
      sql<number>`count(e.id)`.as('entries'),
    ])
    .groupBy(['m.customer_id', 'm.balance', 'm.pending']);
  if (customerId !== undefined) query = query.where('m.customer_id', '=', customerId);
  const rows = await query.execute();
  const problems: string[] = [];
  let entries = 0;
  for (const r of rows) {
    const total = Number(r.total);
    const settled = Number(r.settled);
    entries += Number(r.entries);
    if (r.balance + r.pending !== total) {
      problems.push(`member ${r.customer_id}: balance ${r.balance} + pending ${r.pending} ≠ ledger sum ${total}`);
    }
    if (r.balance !== settled)
      problems.push(`member ${r.customer_id}: balance ${r.balance} ≠ settled entries ${settled}`);
    if (r.balance < 0 || r.pending < 0) problems.push(`member ${r.customer_id}: negative counter`);
  }
  const keys = await l
    .selectFrom('loyalty_ledger')
    .select([sql<number>`count(*)`.as('n'), sql<number>`count(distinct idempotency_key)`.as('d')])
    .executeTakeFirstOrThrow();
  if (Number(keys.n) !== Number(keys.d)) problems.push('an idempotency key appears twice in the ledger');
  return { members: rows.length, entries, problems };
}
