import { randomUUID } from 'node:crypto';
import { ComebackError, type Result } from '../errors.js';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { randomCode } from './codes.js';
import { lockCreditAccount, postCredit } from './credit.queries.js';
import {
  expireMember,
  lockMember,
  notMember,
  post,
  reusedKey,
  settleMember,
  writeTransaction,
} from './ledger.queries.js';
import type { LoyaltyTables } from './loyalty-tables.js';
import { type Program, type RewardConfig, tierAllowsReward } from './program.js';

/** An issued reward: the code the store must honour and what it is worth. */
export interface Redemption {
  code: string;
  customerId: number;
  reward: RewardConfig;
  points: number;
  balance: number;
  minOrderMinor: number;
  currency: string;
  issuedAt: number;
  expiresAt: number;
  /** True when this call issued it; false when an earlier call with the same idempotency key did. */
  created: boolean;
  /**
   * For a `store_credit` reward: the member's personal credit code (`code` is the same), the credit
   * issued and the credit balance after it, in minor units of `currency`; absent for other rewards.
   */
  credit?: { code: string; amountMinor: number; balanceMinor: number };
}

/**
 * Redeems a reward in one step: debits its cost and issues a unique single-use code with the reward's
 * minimum order and expiry. The debit is a conditional update under the member's lock, so hundreds
 * of concurrent redemptions (threads or processes) can never overdraw the balance, and a code is only
 * issued when its debit was posted. The idempotency key belongs to the redemption operation and to
 * one (customer, reward): the same key again returns the first code (`created: false`); with another
 * customer or reward it is refused as a `conflict` (409, as Stripe answers). The debit's ledger key is
 * `redeem:CUSTOMER:KEY`, so it can never meet an order's or an action's entry. Refusals (not a member,
 * unknown reward, tier too low, too few points, a reused key) are values, not throws.
 */
export async function redeem(
  db: Db,
  program: Program,
  input: { customerId: number; rewardKey: string; now: number; idempotencyKey?: string },
): Promise<Result<Redemption>> {
  const { config } = program;
  const key = input.idempotencyKey ?? randomUUID();
  const ledgerKey = `redeem:${input.customerId}:${key}`;
  return writeTransaction(db, async (trx) => {
    // The member's lock first: a retry racing its first attempt then sees the first attempt's code.
    const member = await lockMember(trx, input.customerId);
    const earlier = await trx
      .selectFrom('loyalty_redemptions')
      .selectAll()
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (earlier && (earlier.customer_id !== input.customerId || earlier.reward_key !== input.rewardKey)) {
      return reusedKey(key, `reward ${earlier.reward_key} for customer ${earlier.customer_id}`);
    }
    const reward = config.rewards.find((r) => r.key === input.rewardKey);
    if (!reward) return { ok: false, error: { kind: 'not_found', message: `reward: no reward ${input.rewardKey}` } };
    if (!member) return notMember(input.customerId);
    if (earlier) {
      const earlierReward = JSON.parse(earlier.reward) as RewardConfig;
      const credit =
        earlierReward.type === 'store_credit'
          ? await lockCreditAccount(trx, input.customerId, config.currency, input.now)
          : undefined;
      return {
        ok: true,
        value: {
          code: credit ? credit.code : earlier.code,
          customerId: earlier.customer_id,
          reward: earlierReward,
          points: earlier.points,
          balance: member.balance,
          minOrderMinor: earlier.min_order_minor,
          currency: config.currency,
          issuedAt: earlier.issued_at,
          expiresAt: earlier.expires_at,
          created: false,
          ...(credit
            ? {
                credit: {
                  code: credit.code,
                  amountMinor: earlierReward.amountMinor ?? 0,
                  balanceMinor: credit.balance_minor,
                },
              }
            : {}),
        },
      };
    }
    if (!tierAllowsReward(config, reward, member.tier)) {
      return { ok: false, error: { kind: 'forbidden', message: `reward ${reward.key} needs tier ${reward.minTier}` } };
    }
    // Points are spendable once settled and until they expire: what expired by now is booked first, as
    // `loyalty sync` would, so a redemption never spends expired points.
    await settleMember(trx, program, member, input.now);
    await expireMember(trx, program, member, input.now);
    if (member.balance < reward.cost) {
      return {
        ok: false,
        error: {
          kind: 'insufficient_points',
          message: `reward ${reward.key} costs ${reward.cost} points; member #${input.customerId} has ${member.balance}`,
        },
      };
    }
    const debited = await post(
      trx,
      program,
      member,
      {
        amount: -reward.cost,
        kind: 'redeem',
        reason: `redeemed ${reward.name}`,
        source: 'rule',
        rule: `reward:${reward.key}`,
        idempotencyKey: ledgerKey,
        occurredAt: input.now,
        meta: { reward: reward.key },
      },
      input.now,
    );
    // No debit, no code: the key is already in the ledger for another entry.
    if (!debited) return reusedKey(key, 'another ledger entry');
    const expiresAt = input.now + reward.validDays * MS_PER_DAY;
    const minOrderMinor = reward.minOrderMinor ?? 0;
    // Store credit goes to the member's credit account in the same transaction as the points debit;
    // the redemption row below is then a receipt (used at once), the code to spend is the account's.
    let credit: Redemption['credit'];
    if (reward.type === 'store_credit') {
      const account = await lockCreditAccount(trx, input.customerId, config.currency, input.now);
      const amountMinor = reward.amountMinor!;
      const issued = await postCredit(
        trx,
        account,
        {
          amountMinor,
          kind: 'issued',
          reason: `redeemed ${reward.name}`,
          reference: `reward:${reward.key}`,
          idempotencyKey: `credit:${ledgerKey}`,
          occurredAt: input.now,
          expiresAt,
        },
        input.now,
      );
      // The points are already debited: throw so that the transaction rolls the debit back.
      if (!issued)
        throw new ComebackError('conflict', `idempotency key ${key} was already used for another store-credit entry`);
      credit = { code: account.code, amountMinor, balanceMinor: account.balance_minor };
    }
    let code = randomCode(10, 'CB-');
    for (let attempt = 0; ; attempt += 1) {
      const inserted = await trx
        .insertInto('loyalty_redemptions')
        .values({
          code,
          customer_id: input.customerId,
          reward_key: reward.key,
          reward: JSON.stringify(reward),
          points: reward.cost,
          idempotency_key: key,
          min_order_minor: minOrderMinor,
          issued_at: input.now,
          expires_at: expiresAt,
          used_at: credit ? input.now : null,
          used_order_id: null,
          program_version: program.version,
          ledger_key: ledgerKey,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) break;
      const raced = await trx
        .selectFrom('loyalty_redemptions')
        .select(['customer_id', 'reward_key'])
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      // Another customer's request with the same key committed meanwhile: undo the debit.
      if (raced)
        throw new ComebackError(
          'conflict',
          `idempotency key ${key} was already used for reward ${raced.reward_key} for customer ${raced.customer_id}`,
        );
      if (attempt > 5) throw new Error('could not draw a unique redemption code');
      code = randomCode(10, 'CB-');
    }
    return {
      ok: true,
      value: {
        code: credit ? credit.code : code,
        customerId: input.customerId,
        reward,
        points: reward.cost,
        balance: member.balance,
        minOrderMinor,
        currency: config.currency,
        issuedAt: input.now,
        expiresAt,
        created: true,
        ...(credit ? { credit } : {}),
      },
    };
  });
}

/**
 * Marks codes used that appear in an order's `discount_codes` (matched without regard to case),
 * placed by any customer after the code was issued and before it expired. Each code is used once:
 * the earliest such order wins. Returns how many codes were marked.
 */
export async function markCodesUsed(db: Db): Promise<number> {
  const l = db.withTables<LoyaltyTables>();
  const open = await l
    .selectFrom('loyalty_redemptions')
    .select(['id', 'code', 'issued_at', 'expires_at'])
    .where('used_at', 'is', null)
    .execute();
  if (open.length === 0) return 0;
  const byCode = new Map(open.map((r) => [r.code.toUpperCase(), r]));
  const since = Math.min(...open.map((r) => r.issued_at));
  const orders = await l
    .selectFrom('orders')
    .select(['id', 'placed_at', 'discount_codes'])
    .where('placed_at', '>=', since)
    .where('discount_codes', '<>', '[]')
    .orderBy('placed_at')
    .orderBy('id')
    .execute();
  let marked = 0;
  for (const order of orders) {
    let codes: unknown;
    try {
      codes = JSON.parse(order.discount_codes);
    } catch {
      continue;
    }
    if (!Array.isArray(codes)) continue;
    for (const text of codes) {
      if (typeof text !== 'string') continue;
      const redemption = byCode.get(text.trim().toUpperCase());
      if (!redemption || order.placed_at < redemption.issued_at || order.placed_at > redemption.expires_at) continue;
      const updated = await l
        .updateTable('loyalty_redemptions')
        .set({ used_at: order.placed_at, used_order_id: order.id })
        .where('id', '=', redemption.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      byCode.delete(text.trim().toUpperCase());
      marked += Number(updated.numUpdatedRows);
    }
  }
  return marked;
}
