import { randomUUID } from 'node:crypto';
import { PostgresAdapter, type Selectable, sql } from 'kysely';
import { ComebackError, type Result } from '../errors.js';
import { formatMoney, type Money } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { randomCode } from './codes.js';
import { notMember, reusedKey, writeTransaction } from './ledger.queries.js';
import type { CreditKind, LoyaltyDb, LoyaltyTables, StoreCreditAccountTable } from './loyalty-tables.js';

/** A member's store-credit account row as read inside a write transaction. */
export type CreditAccountRow = Selectable<StoreCreditAccountTable>;

/** The prefix of personal credit codes, so staff can tell them from single-use reward codes (`CB-`). */
export const CREDIT_CODE_PREFIX = 'CR-';

/**
 * Reads the member's credit account in `currency`, opening it (balance 0, a new personal code) when
 * there is none, and locks it against concurrent writers on PostgreSQL (SELECT … FOR UPDATE; on
 * SQLite the caller's `writeTransaction` already holds the write lock). The code is 12 characters of
 * the unambiguous alphabet (about 59 bits), drawn again on the rare clash with another account's.
 */
export async function lockCreditAccount(
  trx: LoyaltyDb,
  customerId: number,
  currency: string,
  now: number,
): Promise<CreditAccountRow> {
  for (let attempt = 0; ; attempt += 1) {
    const existing = await selectAccount(trx, customerId, currency);
    if (existing) return existing;
    if (attempt > 5) throw new Error('could not draw a unique store-credit code');
    await trx
      .insertInto('store_credit_accounts')
      .values({
        customer_id: customerId,
        currency,
        balance_minor: 0,
        code: randomCode(12, CREDIT_CODE_PREFIX),
        created_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

async function selectAccount(trx: LoyaltyDb, customerId: number, currency: string) {
  const query = trx
    .selectFrom('store_credit_accounts')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('currency', '=', currency);
  return (trx.getExecutor().adapter instanceof PostgresAdapter ? query.forUpdate() : query).executeTakeFirst();
}

/** One credit ledger row to append. */
interface NewCreditEntry {
  amountMinor: number;
  kind: CreditKind;
  reason: string;
  reference: string | null;
  idempotencyKey: string;
  occurredAt: number;
  orderId?: number | null;
  expiresAt?: number | null;
  actor?: string | null;
}

/**
 * Appends one credit entry unless its idempotency key is already in the ledger (then returns false
 * and changes nothing) and moves the locked account's balance with it. The balance update is
 * conditional (`balance_minor >= -amount`), so a debit that would take it below zero throws and the
 * transaction rolls back; the table's CHECK constraint says the same a second time.
 */
export async function postCredit(
  trx: LoyaltyDb,
  account: CreditAccountRow,
  entry: NewCreditEntry,
  now: number,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('store_credit_ledger')
    .values({
      customer_id: account.customer_id,
      currency: account.currency,
      amount_minor: entry.amountMinor,
      kind: entry.kind,
      reason: entry.reason,
      reference: entry.reference,
      idempotency_key: entry.idempotencyKey,
      order_id: entry.orderId ?? null,
      expires_at: entry.expiresAt ?? null,
      occurred_at: entry.occurredAt,
      created_at: now,
      actor: entry.actor ?? null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  const updated = await trx
    .updateTable('store_credit_accounts')
    .set((eb) => ({ balance_minor: eb('balance_minor', '+', entry.amountMinor) }))
    .where('customer_id', '=', account.customer_id)
    .where('currency', '=', account.currency)
    .where('balance_minor', '>=', -entry.amountMinor)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) {
    throw new ComebackError(
      'conflict',
      `store credit of customer ${account.customer_id}: ${entry.kind} of ${entry.amountMinor} ${account.currency} minor units would overdraw the balance of ${account.balance_minor}`,
    );
  }
  account.balance_minor += entry.amountMinor;
  return true;
}

/** Σ of the issues whose expiry date has passed by `at` (minor units), for a grouped credit-ledger query. */
const lapsedIssues = (at: number) =>
  sql<number>`coalesce(sum(case when kind = 'issued' and expires_at is not null and expires_at <= ${at} then amount_minor else 0 end), 0)`;
/** Σ of the debits the expiry rule sets against issues: spends net of restores, staff debits, expiries. */
const netDebits = sql<number>`coalesce(sum(case when amount_minor < 0 or kind = 'restored' then -amount_minor else 0 end), 0)`;
/** The id of the latest issue lapsed by `at`: an expiry's key, so that a rerun expires nothing more. */
const lastLapsedIssue = (at: number) =>
  sql<number | null>`max(case when kind = 'issued' and expires_at is not null and expires_at <= ${at} then id end)`;

/**
 * Minor units of an account's credit lapsed and not yet set against a debit: debits take from the
 * soonest-expiring issue first, so max(0, Σ lapsed issues − Σ net debits), at most the balance. Sums may
 * come from PostgreSQL as strings.
 */
function lapsedUnspent(lapsed: number | string, debits: number | string, balance: number): number {
  return Math.max(0, Math.min(Number(lapsed) - Number(debits), balance));
}

/**
 * Books on the locked account the expiry of its credit lapsed by `at` and not yet set against a debit
 * (`lapsedUnspent`), dated when the latest issue it covers lapsed, keyed by the latest lapsed issue as
 * `expireCredit` keys it. Returns the minor units expired: 0 when nothing is due or the expiry was
 * booked before.
 */
async function expireLapsed(trx: LoyaltyDb, account: CreditAccountRow, at: number, now: number): Promise<number> {
  const due = await lapsedDue(trx, account, at);
  if (due.minor <= 0 || due.lapsedAt === null) return 0;
  const posted = await postCredit(
    trx,
    account,
    {
      amountMinor: -due.minor,
      kind: 'expired',
      reason: 'store credit past its expiry date',
      reference: null,
      idempotencyKey: `credit:expire:${account.customer_id}:${account.currency}:${due.lastIssue}`,
      // When the latest of the issues it covers lapsed, not when a sync or a spend came to book it.
      occurredAt: due.lapsedAt,
    },
    now,
  );
  return posted ? due.minor : 0;
}

/** What `expireLapsed` would expire on the account as of `at` (0 when nothing), read without writing. */
async function lapsedDue(
  trx: LoyaltyDb,
  account: CreditAccountRow,
  at: number,
): Promise<{ minor: number; lastIssue: number | null; lapsedAt: number | null }> {
  const due = await trx
    .selectFrom('store_credit_ledger')
    .select([
      lapsedIssues(at).as('lapsed'),
      netDebits.as('debits'),
      lastLapsedIssue(at).as('last_issue'),
      sql<
        number | null
      >`max(case when kind = 'issued' and expires_at is not null and expires_at <= ${at} then expires_at end)`.as(
        'lapsed_at',
      ),
    ])
    .where('customer_id', '=', account.customer_id)
    .where('currency', '=', account.currency)
    .executeTakeFirstOrThrow();
  const lastIssue = due.last_issue === null ? null : Number(due.last_issue);
  const minor = lastIssue === null ? 0 : lapsedUnspent(due.lapsed, due.debits, account.balance_minor);
  return { minor, lastIssue, lapsedAt: due.lapsed_at === null ? null : Number(due.lapsed_at) };
}

/** The outcome of a spend of store credit. */
export interface CreditSpend {
  customerId: number;
  currency: string;
  /** What the order (or caller) asked to take, in minor units. */
  requestedMinor: number;
  /** What was taken: the request bounded by the balance. */
  spentMinor: number;
  /** `requestedMinor − spentMinor`: an over-use the store gave away beyond the member's credit. */
  shortMinor: number;
  balanceMinor: number;
  /** False when an earlier call with the same idempotency key spent it. */
  created: boolean;
}

/**
 * Spends up to `amountMinor` of the member's credit in `currency`, bounded by the balance (it never
 * goes below zero: the rest is reported as `shortMinor`, and the entry's reason says what was asked).
 * Credit lapsed by the spend's date (`occurredAt`, else `now`) is expired first (`expireLapsed`), so an
 * order placed after a reward's credit lapsed cannot spend it.
 * Under the account's lock (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so concurrent spends
 * never overdraw. With the same idempotency key a retry spends nothing more and answers the first
 * spend (`created: false`). A member without an account has a balance of 0.
 */
export async function spendCredit(
  db: Db,
  input: {
    customerId: number;
    currency: string;
    amountMinor: number;
    reason: string;
    reference: string | null;
    idempotencyKey: string;
    now: number;
    occurredAt?: number;
    orderId?: number | null;
  },
): Promise<Result<CreditSpend>> {
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) {
    return { ok: false, error: { kind: 'bad_input', message: 'amountMinor: a positive whole number of minor units' } };
  }
  return writeTransaction(db, async (trx) => {
    const account = await lockCreditAccount(trx, input.customerId, input.currency, input.now);
    const earlier = await trx
      .selectFrom('store_credit_ledger')
      .select(['customer_id', 'currency', 'amount_minor', 'kind', 'reason'])
      .where('idempotency_key', '=', input.idempotencyKey)
      .executeTakeFirst();
    if (earlier) {
      if (earlier.customer_id !== input.customerId || earlier.kind !== 'spent' || earlier.currency !== input.currency)
        return reusedKey(input.idempotencyKey, `a ${earlier.kind} entry of customer ${earlier.customer_id}`);
      const spentMinor = -earlier.amount_minor;
      return {
        ok: true,
        value: {
          customerId: input.customerId,
          currency: input.currency,
          requestedMinor: input.amountMinor,
          spentMinor,
          shortMinor: input.amountMinor - spentMinor,
          balanceMinor: account.balance_minor,
          created: false,
        },
      };
    }
    await expireLapsed(trx, account, input.occurredAt ?? input.now, input.now);
    const spentMinor = Math.min(input.amountMinor, account.balance_minor);
    const short = input.amountMinor - spentMinor;
    await postCredit(
      trx,
      account,
      {
        amountMinor: -spentMinor,
        kind: 'spent',
        reason:
          short > 0
            ? `${input.reason}: asked ${formatMoney(input.amountMinor, input.currency)}, ${formatMoney(spentMinor, input.currency)} was available`
            : input.reason,
        reference: input.reference,
        idempotencyKey: input.idempotencyKey,
        occurredAt: input.occurredAt ?? input.now,
        orderId: input.orderId ?? null,
      },
      input.now,
    );
    return {
      ok: true,
      value: {
        customerId: input.customerId,
        currency: input.currency,
        requestedMinor: input.amountMinor,
        spentMinor,
        shortMinor: short,
        balanceMinor: account.balance_minor,
        created: true,
      },
    };
  });
}

/** The outcome of a staff adjustment of store credit. */
export interface CreditAdjustment {
  customerId: number;
  currency: string;
  amountMinor: number;
  balanceMinor: number;
  applied: boolean;
}

/**
 * A staff credit or debit of store credit with a mandatory reason, written to the credit ledger as
 * `adjusted` with its actor. Only members have credit; a debit beyond the balance is refused
 * (`bad_input` naming `amountMinor`), never taken below zero. With the same key a retry changes nothing;
 * the key with another customer, currency or amount is a `conflict`.
 */
export async function adjustCredit(
  db: Db,
  input: {
    customerId: number;
    currency: string;
    amountMinor: number;
    reason: string;
    now: number;
    actor?: string;
    idempotencyKey?: string;
  },
): Promise<Result<CreditAdjustment>> {
  const reason = input.reason.trim();
  if (reason === '')
    return { ok: false, error: { kind: 'bad_input', message: 'reason: an adjustment needs a reason' } };
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor === 0) {
    return {
      ok: false,
      error: { kind: 'bad_input', message: 'amountMinor: a non-zero whole number of minor units is needed' },
    };
  }
  const key = `credit:adjust:${input.idempotencyKey ?? randomUUID()}`;
  return writeTransaction(db, async (trx) => {
    const member = await trx
      .selectFrom('loyalty_members')
      .select('customer_id')
      .where('customer_id', '=', input.customerId)
      .executeTakeFirst();
    if (!member) return notMember(input.customerId);
    const account = await lockCreditAccount(trx, input.customerId, input.currency, input.now);
    const earlier = await trx
      .selectFrom('store_credit_ledger')
      .select(['customer_id', 'currency', 'amount_minor', 'kind'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (earlier) {
      if (
        earlier.customer_id !== input.customerId ||
        earlier.currency !== input.currency ||
        earlier.amount_minor !== input.amountMinor
      ) {
        return reusedKey(
          input.idempotencyKey ?? key,
          `an adjustment of ${earlier.amount_minor} ${earlier.currency} for customer ${earlier.customer_id}`,
        );
      }
      return {
        ok: true,
        value: { ...pick(input), balanceMinor: account.balance_minor, applied: false },
      };
    }
    // A debit takes only credit still valid on its date: what lapsed by then is not there to take.
    const lapsed = input.amountMinor < 0 ? (await lapsedDue(trx, account, input.now)).minor : 0;
    if (account.balance_minor - lapsed + input.amountMinor < 0) {
      const gone = lapsed > 0 ? ` (${formatMoney(lapsed, input.currency)} more lapsed by then)` : '';
      return {
        ok: false,
        error: {
          kind: 'bad_input',
          message: `amountMinor: customer #${input.customerId} has ${formatMoney(account.balance_minor - lapsed, input.currency)} of store credit${gone}, cannot take ${formatMoney(-input.amountMinor, input.currency)}`,
        },
      };
    }
    if (lapsed > 0) await expireLapsed(trx, account, input.now, input.now);
    await postCredit(
      trx,
      account,
      {
        amountMinor: input.amountMinor,
        kind: 'adjusted',
        reason,
        reference: null,
        idempotencyKey: key,
        occurredAt: input.now,
        actor: input.actor ?? null,
      },
      input.now,
    );
    return { ok: true, value: { ...pick(input), balanceMinor: account.balance_minor, applied: true } };
  });
}

const pick = (input: { customerId: number; currency: string; amountMinor: number }) => ({
  customerId: input.customerId,
  currency: input.currency,
  amountMinor: input.amountMinor,
});

/** One row of a member's credit history. */
export interface CreditEntry {
  id: number;
  currency: string;
  amountMinor: number;
  kind: CreditKind;
  reason: string;
  reference: string | null;
  orderId: number | null;
  expiresAt: number | null;
  occurredAt: number;
  createdAt: number;
  actor: string | null;
}

/** A member's store credit: one balance and personal code per currency, and the newest entries first. */
export interface CreditStatus {
  customerId: number;
  /**
   * Per currency: `balanceMinor`, what can be spent as of the as-of (minor units), with credit past
   * its expiry date taken off; `dueExpiryMinor`, that lapsed credit, which no `loyalty sync` has booked
   * yet (0 when booked or none), so that the history adds up.
   */
  accounts: Array<{ currency: string; balanceMinor: number; dueExpiryMinor: number; code: string }>;
  entries: CreditEntry[];
}

/**
 * A member's store credit as of `asOf`: the balance per currency is the sum of the ledger's entries
 * written up to then (equal to the account row when `asOf` is after the last write) less the credit
 * that has lapsed by `asOf` and no sync has expired yet (computed on read as `expireCredit` would book
 * it: max(0, Σ lapsed issues − Σ net debits), at most the balance), and the newest `entries` entries
 * written up to then.
 */
export async function creditStatus(
  db: Db,
  customerId: number,
  { asOf, entries = 50 }: { asOf: number; entries?: number },
): Promise<CreditStatus> {
  const l = db.withTables<LoyaltyTables>();
  const accounts = await l
    .selectFrom('store_credit_accounts')
    .select(['currency', 'code'])
    .where('customer_id', '=', customerId)
    .orderBy('currency')
    .execute();
  // Per currency, from the entries written up to `asOf`: the balance, the issues lapsed by then, and
  // the debits (spends net of restores, staff debits, earlier expiries) that `expireCredit` sets against them.
  const sums = await l
    .selectFrom('store_credit_ledger')
    .select([
      'currency',
      sql<number>`coalesce(sum(amount_minor), 0)`.as('balance'),
      lapsedIssues(asOf).as('lapsed'),
      netDebits.as('debits'),
    ])
    .where('customer_id', '=', customerId)
    .where('created_at', '<=', asOf)
    .groupBy('currency')
    .execute();
  const sumsOf = new Map(sums.map((row) => [row.currency, row]));
  const rows = await l
    .selectFrom('store_credit_ledger')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('created_at', '<=', asOf)
    .orderBy('id', 'desc')
    .limit(entries)
    .execute();
  return {
    customerId,
    accounts: accounts.map((a) => {
      const sum = sumsOf.get(a.currency);
      const balance = Number(sum?.balance ?? 0);
      const due = lapsedUnspent(sum?.lapsed ?? 0, sum?.debits ?? 0, balance);
      return { currency: a.currency, balanceMinor: balance - due, dueExpiryMinor: due, code: a.code };
    }),
    entries: rows.map((r) => ({
      id: Number(r.id),
      currency: r.currency,
      amountMinor: Number(r.amount_minor),
      kind: r.kind,
      reason: r.reason,
      reference: r.reference,
      orderId: r.order_id === null ? null : Number(r.order_id),
      expiresAt: r.expires_at === null ? null : Number(r.expires_at),
      occurredAt: Number(r.occurred_at),
      createdAt: Number(r.created_at),
      actor: r.actor,
    })),
  };
}

/** Store credit outstanding in one currency: what the store owes its members, in money. */
export interface CreditLiability {
  currency: string;
  /** The sum of the balances as booked (what a sync reconciles against). */
  outstandingMinor: number;
  /**
   * Of it, credit past its expiry date by `asOf` that no sync has booked yet (per account, as
   * `creditStatus` reads it: max(0, Σ lapsed issues − Σ net debits), at most the balance): not spendable.
   */
  lapsedMinor: number;
  /** Money the members can still spend: `outstandingMinor − lapsedMinor`. */
  spendableMinor: number;
  /** Accounts with credit their members can spend (above zero once lapsed credit is taken off). */
  accounts: number;
  issuedMinor: number;
  spentMinor: number;
  restoredMinor: number;
  expiredMinor: number;
  adjustedMinor: number;
}

/** Store credit per currency as of `asOf`, from the ledger: issued, spent, restored, expired, adjusted, outstanding. */
export async function creditLiability(db: Db, { asOf }: { asOf: number }): Promise<CreditLiability[]> {
  const l = db.withTables<LoyaltyTables>();
  const sumOf = (kind: CreditKind) =>
    sql<number>`coalesce(sum(case when kind = ${kind} then amount_minor else 0 end), 0)`.as(kind);
  const totals = await l
    .selectFrom('store_credit_ledger')
    .select([
      'currency',
      sql<number>`coalesce(sum(amount_minor), 0)`.as('outstanding'),
      sumOf('issued'),
      sumOf('spent'),
      sumOf('restored'),
      sumOf('expired'),
      sumOf('adjusted'),
    ])
    .where('created_at', '<=', asOf)
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  // Per account: its balance and the credit lapsed by `asOf` that no sync has booked.
  const perAccount = await l
    .selectFrom('store_credit_ledger')
    .select([
      'currency',
      sql<number>`sum(amount_minor)`.as('b'),
      lapsedIssues(asOf).as('lapsed'),
      netDebits.as('debits'),
    ])
    .where('created_at', '<=', asOf)
    .groupBy(['customer_id', 'currency'])
    .execute();
  const count = new Map<string, number>();
  const lapsed = new Map<string, number>();
  for (const a of perAccount) {
    const balance = Number(a.b);
    const due = lapsedUnspent(a.lapsed, a.debits, balance);
    // Members who can spend something: credit lapsed though not yet booked does not count.
    if (balance - due > 0) count.set(a.currency, (count.get(a.currency) ?? 0) + 1);
    lapsed.set(a.currency, (lapsed.get(a.currency) ?? 0) + due);
  }
  return totals.map((t) => ({
    currency: t.currency,
    outstandingMinor: Number(t.outstanding),
    lapsedMinor: lapsed.get(t.currency) ?? 0,
    spendableMinor: Number(t.outstanding) - (lapsed.get(t.currency) ?? 0),
    accounts: count.get(t.currency) ?? 0,
    issuedMinor: Number(t.issued),
    spentMinor: -Number(t.spent),
    restoredMinor: Number(t.restored),
    expiredMinor: -Number(t.expired),
    adjustedMinor: Number(t.adjusted),
  }));
}

/** One order that used a credit code for more than the member had. */
export interface CreditOverUse {
  orderId: number;
  customerId: number;
  code: string;
  currency: string;
  requestedMinor: number;
  spentMinor: number;
}

/** What `applyCreditCodes` did. */
export interface CreditSyncSummary {
  /** Orders that spent credit this run. */
  spends: number;
  /** Orders whose refund or cancellation gave credit back this run. */
  restores: number;
  spent: Money[];
  restored: Money[];
  /** Orders whose discount exceeded the credit: only what was available was taken. */
  overUses: CreditOverUse[];
  /** Orders that carried a credit code in another currency than the credit's: nothing was taken. */
  otherCurrency: number;
}

const REFUNDED = new Set(['refunded', 'cancelled']);

/**
 * Spends store credit for the orders that carry a member's credit code among their discount codes
 * (matched without regard to case, as `markCodesUsed` matches reward codes), placed before `now` (the sync's as-of) and no earlier than
 * the account was opened and in its currency: the order's discount (`discount_minor`, the whole
 * discount of the order) is taken from the code owner's credit, bounded by the balance (an over-use
 * is booked as what was available and reported). The spend's key is `credit:order:ID:spend`, so a
 * re-import or a second run never takes it twice. An order refunded in full or cancelled after it
 * spent gives the spent credit back once (`credit:order:ID:restore`); an order first seen refunded or
 * cancelled spends nothing. Pending orders wait until paid. Only the first credit code of an order counts.
 */
export async function applyCreditCodes(db: Db, { now }: { now: number }): Promise<CreditSyncSummary> {
  const summary: CreditSyncSummary = {
    spends: 0,
    restores: 0,
    spent: [],
    restored: [],
    overUses: [],
    otherCurrency: 0,
  };
  const l = db.withTables<LoyaltyTables>();
  const accounts = await l.selectFrom('store_credit_accounts').selectAll().execute();
  if (accounts.length === 0) return summary;
  const byCode = new Map(accounts.map((a) => [a.code.toUpperCase(), a]));
  const since = Math.min(...accounts.map((a) => Number(a.created_at)));
  const orders = await l
    .selectFrom('orders')
    .select(['id', 'placed_at', 'currency', 'discount_minor', 'status', 'discount_codes'])
    .where('placed_at', '>=', since)
    // A sync as of a past day sees only the orders before it, as every loyalty write does.
    .where('placed_at', '<', now)
    .where('discount_codes', '<>', '[]')
    .where('status', '<>', 'pending')
    .orderBy('placed_at')
    .orderBy('id')
    .execute();
  const booked = new Map<number, { spent: number; restored: boolean }>();
  for (const row of await l
    .selectFrom('store_credit_ledger')
    .select(['order_id', 'kind', 'amount_minor'])
    .where('order_id', 'is not', null)
    .where('kind', 'in', ['spent', 'restored'])
    .execute()) {
    const entry = booked.get(Number(row.order_id)) ?? { spent: 0, restored: false };
    if (row.kind === 'spent') entry.spent += -Number(row.amount_minor);
    else entry.restored = true;
    booked.set(Number(row.order_id), entry);
  }
  const add = (list: Money[], currency: string, minor: number) => {
    const i = list.findIndex((m) => m.currency === currency);
    if (i < 0) list.push({ currency, minor });
    else list[i] = { currency, minor: list[i]!.minor + minor };
  };
  for (const order of orders) {
    const code = creditCodeOf(order.discount_codes, byCode);
    if (!code) continue;
    const account = byCode.get(code)!;
    const orderId = Number(order.id);
    const done = booked.get(orderId);
    if (done === undefined) {
      if (REFUNDED.has(order.status) || order.placed_at < account.created_at || order.discount_minor <= 0) continue;
      if (order.currency !== account.currency) {
        summary.otherCurrency += 1;
        continue;
      }
      const spend = await spendCredit(db, {
        customerId: Number(account.customer_id),
        currency: account.currency,
        amountMinor: Number(order.discount_minor),
        reason: `order ${orderId} used code ${account.code}`,
        reference: `order:${orderId}`,
        idempotencyKey: `credit:order:${orderId}:spend`,
        now,
        occurredAt: Number(order.placed_at),
        orderId,
      });
      if (!spend.ok) throw new ComebackError(spend.error.kind, spend.error.message);
      if (spend.value.created) {
        summary.spends += 1;
        add(summary.spent, account.currency, spend.value.spentMinor);
        if (spend.value.shortMinor > 0) {
          summary.overUses.push({
            orderId,
            customerId: Number(account.customer_id),
            code: account.code,
            currency: account.currency,
            requestedMinor: spend.value.requestedMinor,
            spentMinor: spend.value.spentMinor,
          });
        }
      }
      continue;
    }
    if (!REFUNDED.has(order.status) || done.restored || done.spent <= 0) continue;
    const restored = await writeTransaction(db, async (trx) => {
      const locked = await lockCreditAccount(trx, Number(account.customer_id), account.currency, now);
      return postCredit(
        trx,
        locked,
        {
          amountMinor: done.spent,
          kind: 'restored',
          reason: `order ${orderId} ${order.status}: the credit it spent is given back`,
          reference: `order:${orderId}`,
          idempotencyKey: `credit:order:${orderId}:restore`,
          occurredAt: now,
          orderId,
        },
        now,
      );
    });
    if (restored) {
      summary.restores += 1;
      add(summary.restored, account.currency, done.spent);
    }
  }
  return summary;
}

/** The first of an order's discount codes (a JSON array) that is a credit code, upper-cased. */
function creditCodeOf(codesJson: string, byCode: ReadonlyMap<string, unknown>): string | undefined {
  let codes: unknown;
  try {
    codes = JSON.parse(codesJson);
  } catch {
    return undefined;
  }
  if (!Array.isArray(codes)) return undefined;
  for (const text of codes) {
    if (typeof text !== 'string') continue;
    const code = text.trim().toUpperCase();
    if (byCode.has(code)) return code;
  }
  return undefined;
}

/**
 * Expires, as of `now`, the credit of issued entries whose `expires_at` has passed, less what was
 * spent from them: debits (spends net of restores, staff debits, earlier expiries) take from the
 * soonest-expiring issue first, so the amount due is max(0, Σ expired issues − Σ net debits) per
 * account. Each expiry is keyed by the account and the latest issue it covers, so a rerun expires
 * nothing more, and dated when that issue lapsed (its `expires_at`), not at `now`. Returns what expired
 * per currency.
 */
export async function expireCredit(db: Db, { now }: { now: number }): Promise<Money[]> {
  const l = db.withTables<LoyaltyTables>();
  // The accounts with something due, found in one grouped read; each is then expired under its lock.
  const due = await l
    .selectFrom('store_credit_ledger')
    .select(['customer_id', 'currency'])
    .groupBy(['customer_id', 'currency'])
    .having(sql<boolean>`${lapsedIssues(now)} > ${netDebits}`)
    .execute();
  const expired: Money[] = [];
  for (const row of due) {
    const taken = await writeTransaction(db, async (trx) =>
      expireLapsed(trx, await lockCreditAccount(trx, Number(row.customer_id), row.currency, now), now, now),
    );
    if (taken > 0) expired.push({ currency: row.currency, minor: taken });
  }
  return expired;
}

/** What `loyalty sync` did to store credit, and the outstanding credit before and after it per currency. */
export interface CreditSync extends CreditSyncSummary {
  expired: Money[];
  /**
   * Per currency: `afterMinor = beforeMinor − spent + restored − expired + otherMinor`, where `otherMinor`
   * is what other writers changed meanwhile (a redemption or an adjustment during the sync); normally 0.
   */
  outstanding: Array<{ currency: string; beforeMinor: number; afterMinor: number; otherMinor: number }>;
}

/**
 * The store-credit part of a sync: orders carrying a credit code spend it (refunds and cancellations give
 * it back), then credit past its expiry lapses. Both are keyed, so a second run changes nothing. The
 * outstanding credit is read before and after, so the output reconciles: what the run did accounts for
 * the change, and anything else is shown as changed by others meanwhile.
 */
export async function syncCredit(db: Db, { now }: { now: number }): Promise<CreditSync> {
  const outstanding = async () =>
    new Map((await creditLiability(db, { asOf: now })).map((c) => [c.currency, c.outstandingMinor]));
  const before = await outstanding();
  const applied = await applyCreditCodes(db, { now });
  const expired = await expireCredit(db, { now });
  const after = await outstanding();
  const sumIn = (list: Money[], currency: string) =>
    list.filter((m) => m.currency === currency).reduce((s, m) => s + m.minor, 0);
  const outstandingRows = [...new Set([...before.keys(), ...after.keys()])].sort().map((currency) => {
    const beforeMinor = before.get(currency) ?? 0;
    const afterMinor = after.get(currency) ?? 0;
    const ours = -sumIn(applied.spent, currency) + sumIn(applied.restored, currency) - sumIn(expired, currency);
    return { currency, beforeMinor, afterMinor, otherMinor: afterMinor - beforeMinor - ours };
  });
  return { ...applied, expired, outstanding: outstandingRows };
}
