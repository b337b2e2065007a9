import { sql } from 'kysely';
import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { assessTier, remainingLots, type TierAssessment } from './ledger.queries.js';
import type { LoyaltyTables } from './loyalty-tables.js';
import { type Program, tierRank } from './program.js';

/** What the program's rules did by an as-of that no sync has booked yet; see `unbookedAt`. */
export interface Unbooked {
  /** Points per member (customer id) that expired before the as-of and no expiry entry by then took. */
  expired: Map<number, number>;
  /** Per member whose tier review fell due by the as-of and was not booked: the tier changes it makes. */
  tierChanges: Map<number, TierAssessment['changes']>;
}

/** Members read per query: keeps the ledger of one chunk in memory, never the whole store's. */
const CHUNK = 500;

/**
 * What happened by `asOf` (an exclusive end, as every as-of) under the program's rules that the ledger
 * up to `asOf` does not hold yet, because the sync that books it (`settle`: `expireMember`,
 * `reviewTier`) has not run as of that day. A report or list read past the last sync subtracts these,
 * as a member's own view (`memberStatus`) does, instead of counting points that have expired or a tier
 * the member no longer holds.
 *
 * - **Expiry** mirrors `dueExpiries` on the entries that occurred by `asOf`: with `lot` expiry, what is
 *   left of each lot (`remainingLots`, the same replay) whose `available_at + days` is before `asOf`;
 *   with `inactivity`, the whole balance when the last earn or redemption by `asOf` (else the
 *   enrolment) is more than `days` before it and no expiry since booked it. At most the member's
 *   available balance at `asOf`, never below zero. An expiry the sync booked is dated when it became
 *   due, so it is in the ledger by `asOf` and nothing is counted twice.
 * - **Tier reviews**: for a member above the lowest tier whose `tier_review_at` is by `asOf`, the
 *   changes `assessTier` decides (review by review, each on its own window), as the sync would book.
 *
 * `customerIds` limits the read to those members (default: every member enrolled by `asOf`). Only the
 * members that could have something due are read: for expiry, those found in SQL with a lot available
 * more than `days` before `asOf` (or, under `inactivity`, no activity in those days), their ledger read
 * 500 members at a time; for tiers, those above the lowest tier whose review date has come (one
 * `assessTier` each).
 */
export async function unbookedAt(
  db: Db,
  program: Program,
  asOf: number,
  customerIds?: readonly number[],
): Promise<Unbooked> {
  const l = db.withTables<LoyaltyTables>();
  const { config } = program;
  const unbooked: Unbooked = { expired: new Map(), tierChanges: new Map() };
  const asked = customerIds && new Set(customerIds);
  const wanted = (id: number) => asked === undefined || asked.has(id);
  // Reviews due by `asOf` that no sync booked: members above the lowest tier whose review date has come.
  const reviewed = await l
    .selectFrom('loyalty_members')
    .selectAll()
    .where('enrolled_at', '<=', asOf)
    .where('tier_review_at', '<=', asOf)
    .where('tier', '<>', config.tiers.levels[0]!.key)
    .orderBy('customer_id')
    .execute();
  for (const member of reviewed) {
    if (!wanted(Number(member.customer_id)) || tierRank(config, member.tier) <= 0) continue;
    const review = await assessTier(l, program, member, asOf);
    if (review.changes.length > 0) unbooked.tierChanges.set(Number(member.customer_id), review.changes);
  }
  const { mode, days } = config.expiry;
  if (mode === 'none' || days === undefined) return unbooked;
  const span = days * MS_PER_DAY;
  // Only members with something that could have expired by `asOf` are replayed: a lot available more
  // than `days` before it, or (inactivity) no earn or redemption in the `days` before it.
  const candidates =
    mode === 'lot'
      ? await sql<{ customer_id: number; enrolled_at: number }>`
          select distinct l.customer_id, m.enrolled_at from loyalty_ledger l
          join loyalty_members m on m.customer_id = l.customer_id
          where l.bucket <> 'debt' and l.amount > 0 and l.available_at < ${asOf - span} and l.occurred_at <= ${asOf}
            and m.enrolled_at <= ${asOf}
          order by l.customer_id`.execute(l)
      : await sql<{ customer_id: number; enrolled_at: number }>`
          select m.customer_id, m.enrolled_at from loyalty_members m
          left join (
            select customer_id, max(occurred_at) as last_active from loyalty_ledger
            where occurred_at <= ${asOf} and ((kind = 'earn' and amount > 0) or kind = 'redeem')
            group by customer_id
          ) a on a.customer_id = m.customer_id
          where m.enrolled_at <= ${asOf} and coalesce(a.last_active, m.enrolled_at) < ${asOf - span}
          order by m.customer_id`.execute(l);
  const members = candidates.rows
    .map((m) => ({ customer_id: Number(m.customer_id), enrolled_at: Number(m.enrolled_at) }))
    .filter((m) => wanted(m.customer_id));
  for (let start = 0; start < members.length; start += CHUNK) {
    const chunkMembers = members.slice(start, start + CHUNK);
    const chunk = chunkMembers.map((m) => m.customer_id);
    const entries = await l
      .selectFrom('loyalty_ledger')
      .select([
        'id',
        'customer_id',
        'amount',
        'kind',
        'bucket',
        'available_at',
        'occurred_at',
        'created_at',
        'order_id',
        'meta',
      ])
      .where('customer_id', 'in', chunk)
      .where('occurred_at', '<=', asOf)
      .where('bucket', '<>', 'debt')
      .orderBy('customer_id')
      .orderBy('id')
      .execute();
    const byMember = new Map<number, typeof entries>();
    for (const e of entries) {
      // Available at `asOf` as `programReport` counts it: not a pending entry (or an earn) not yet available.
      if (Number(e.available_at) > asOf && (e.bucket === 'pending' || Number(e.amount) > 0)) continue;
      const id = Number(e.customer_id);
      const own = byMember.get(id) ?? [];
      own.push(e);
      byMember.set(id, own);
    }
    for (const member of chunkMembers) {
      const id = member.customer_id;
      const own = (byMember.get(id) ?? []).map((e) => ({
        ...e,
        id: Number(e.id),
        amount: Number(e.amount),
        available_at: Number(e.available_at),
        occurred_at: Number(e.occurred_at),
        created_at: Number(e.created_at),
      }));
      const balance = own.reduce((sum, e) => sum + e.amount, 0);
      if (balance <= 0) continue;
      let due = 0;
      if (mode === 'inactivity') {
        const active = own.filter((e) => (e.kind === 'earn' && e.amount > 0) || e.kind === 'redeem');
        const last = active.reduce((at, e) => Math.max(at, e.occurred_at), member.enrolled_at);
        const booked = own.some((e) => e.kind === 'expire' && e.occurred_at >= last + span);
        if (last + span < asOf && !booked) due = balance;
      } else {
        for (const lot of remainingLots(own)) {
          if (lot.remaining > 0 && lot.availableAt + span < asOf) due += lot.remaining;
        }
      }
      due = Math.min(due, balance);
      if (due > 0) unbooked.expired.set(id, due);
    }
  }
  return unbooked;
}
