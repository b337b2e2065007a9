import type { Generated, Kysely } from 'kysely';
import type { Database } from '../store/index.js';

/**
 * The tables of migrations 002_loyalty, 012_loyalty_debt and 031_store_credit (type aliases, as `withTables` needs). They live beside the loyalty code rather than in the shared
 * schema; query functions take the shared `Db` and widen it with `withTables`.
 */
export type LoyaltyTables = {
  loyalty_programs: LoyaltyProgramTable;
  loyalty_members: LoyaltyMemberTable;
  loyalty_ledger: LoyaltyLedgerTable;
  loyalty_orders: LoyaltyOrderTable;
  loyalty_redemptions: LoyaltyRedemptionTable;
  loyalty_tier_history: LoyaltyTierHistoryTable;
  loyalty_referrals: LoyaltyReferralTable;
  store_credit_accounts: StoreCreditAccountTable;
  store_credit_ledger: StoreCreditLedgerTable;
};

/** A Kysely instance (or transaction) that knows the loyalty tables. */
export type LoyaltyDb = Kysely<Database & LoyaltyTables>;

export type LoyaltyProgramTable = {
  version: number;
  name: string;
  currency: string;
  /** The validated configuration as JSON. */
  config: string;
  created_at: number;
};

export type LoyaltyMemberTable = {
  customer_id: number;
  enrolled_at: number;
  /** Available points: entries in the available bucket plus pending ones settled up to `settled_at`. */
  balance: number;
  /** Points in the pending bucket not yet settled. */
  pending: number;
  /** Pending entries with `available_at <= settled_at` are in `balance`. */
  settled_at: number;
  /** Points a refund could not take back because they were spent: repaid first from later earnings. */
  debt: number;
  /** Earned net of reversals, all time. */
  lifetime_earned: number;
  /** Earned before reversals, all time: a bound on what any window can hold. */
  gross_earned: number;
  tier: string;
  tier_since: number;
  /** When a tier below the current one may take effect (the end of the period plus grace). */
  tier_review_at: number;
  referral_code: string;
  last_activity_at: number;
};

/** `repay` moves available points into the debt bucket (a pair of entries that sum to zero). */
export type EntryKind = 'earn' | 'redeem' | 'expire' | 'adjust' | 'reverse' | 'repay';
export type EntrySource = 'order' | 'rule' | 'admin' | 'system';
/** `debt`: a negative entry is owed by the member (a reversal short of balance), a positive one repays it. */
export type Bucket = 'available' | 'pending' | 'debt';

export type LoyaltyLedgerTable = {
  id: Generated<number>;
  customer_id: number;
  amount: number;
  kind: EntryKind;
  reason: string;
  source: EntrySource;
  /** What the entry counts against for limits: `order`, `signup`, `share`, `custom:NAME`, `referral` … */
  rule: string;
  idempotency_key: string;
  bucket: Bucket;
  available_at: number;
  /** When the thing happened (the order was placed, the review written); `created_at` is when it was written. */
  occurred_at: number;
  created_at: number;
  program_version: number;
  order_id: number | null;
  /** JSON object: the multiplier, shortfall, reward … the entry was computed with. */
  meta: string;
};

export type LoyaltyOrderTable = {
  order_id: number;
  customer_id: number;
  earned: number;
  reversed: number;
  /** Points a reversal could not take back because the member had already spent them. */
  shortfall: number;
  refunded_seen: number;
  status_seen: string;
  earn_available_at: number;
  processed_at: number;
};

export type LoyaltyRedemptionTable = {
  id: Generated<number>;
  code: string;
  customer_id: number;
  reward_key: string;
  /** JSON of the reward configuration at the time of redemption. */
  reward: string;
  points: number;
  idempotency_key: string;
  min_order_minor: number;
  issued_at: number;
  expires_at: number;
  used_at: number | null;
  used_order_id: number | null;
  program_version: number;
  /** The idempotency key of the ledger debit that paid for the code (null on rows older than 012: the key itself). */
  ledger_key: string | null;
};

export type LoyaltyTierHistoryTable = {
  id: Generated<number>;
  customer_id: number;
  from_tier: string | null;
  to_tier: string;
  changed_at: number;
  reason: string;
  qualifying_value: number;
};

export type LoyaltyReferralTable = {
  referee_id: number;
  referrer_id: number;
  status: 'pending' | 'rewarded' | 'rejected';
  reason: string | null;
  created_at: number;
  rewarded_at: number | null;
  order_id: number | null;
};

/** A member's store credit in one currency: the row spends lock; `balance_minor` is the ledger's sum. */
export type StoreCreditAccountTable = {
  customer_id: number;
  currency: string;
  balance_minor: number;
  /** The member's personal checkout code (unique, unguessable); an order carrying it spends the credit. */
  code: string;
  created_at: number;
};

/** `issued` by a reward, `spent` by an order, `restored` by its refund, `expired`, `adjusted` by staff. */
export type CreditKind = 'issued' | 'spent' | 'restored' | 'expired' | 'adjusted';

export type StoreCreditLedgerTable = {
  id: Generated<number>;
  customer_id: number;
  currency: string;
  /** Signed minor units of `currency`: positive credits, negative debits. */
  amount_minor: number;
  kind: CreditKind;
  reason: string;
  /** What the entry refers to: `reward:KEY`, `order:ID`, a staff note's reference … */
  reference: string | null;
  idempotency_key: string;
  order_id: number | null;
  /** For `issued` rows of a reward with validDays: when what is left of it expires. */
  expires_at: number | null;
  occurred_at: number;
  created_at: number;
  /** Who wrote an adjustment (`cli`, an API key's name); null for the system. */
  actor: string | null;
};
