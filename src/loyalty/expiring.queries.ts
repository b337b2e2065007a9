import { MS_PER_DAY } from '../shared/dates.js';
import type { Db } from '../store/index.js';
import { remainingLots } from './ledger.queries.js';
import type { LoyaltyTables } from './loyalty-tables.js';
import type { Program } from './program.js';

/** Points a member will lose to expiry soon if nothing changes. */
export interface ExpiringPoints {
  customerId: number;
  /** Points that expire in the window (at most the member's balance). */
  points: number;
  /** When the first of them expires (epoch ms). */
  expiresAt: number;
}

/**
 * The members whose available points expire in the window `[now, now + withinDays days)`, as the
 * settle pass (`expireMember`) would expire them if nothing else happened: with `inactivity` expiry, the
 * whole balance at `last_activity_at + days`; with `lot` expiry, what is left of each lot available by
 * `now` (the same replay, `remainingLots`) whose `available_at + days` falls in the window, at most the
 * balance. Ordered by customer id; empty when the program does not expire points. For the
 * `points_expiring` flow trigger ("use them before they go") and the member's own page.
 */
export async function expiringPoints(
  db: Db,
  program: Program,
  now: number,
  withinDays: number,
): Promise<ExpiringPoints[]> {
  const { mode, days } = program.config.expiry;
  if (mode === 'none' || days === undefined) return [];
  const span = days * MS_PER_DAY;
  const end = now + withinDays * MS_PER_DAY;
  const ldb = db.withTables<LoyaltyTables>();
  if (mode === 'inactivity') {
    const members = await ldb
      .selectFrom('loyalty_members')
      .select(['customer_id', 'balance', 'last_activity_at'])
      .where('balance', '>', 0)
      .where('last_activity_at', '>=', now - span)
      .where('last_activity_at', '<', end - span)
      .orderBy('customer_id')
      .execute();
    return members.map((m) => ({
      customerId: m.customer_id,
      points: m.balance,
      expiresAt: m.last_activity_at + span,
    }));
  }
  const entries = await ldb
    .selectFrom('loyalty_ledger as l')
    .innerJoin('loyalty_members as m', 'm.customer_id', 'l.customer_id')
    .select([
      'l.id',
      'l.customer_id',
      'l.amount',
      'l.kind',
      'l.available_at',
      'l.created_at',
      'l.order_id',
      'l.meta',
      'm.balance',
    ])
    .where('m.balance', '>', 0)
    .where('l.bucket', '<>', 'debt')
    .where((eb) => eb.or([eb('l.bucket', '=', 'available'), eb('l.available_at', '<=', now)]))
    .orderBy('l.customer_id')
    .orderBy('l.id')
    .execute();
  const found: ExpiringPoints[] = [];
  let start = 0;
  while (start < entries.length) {
    const customerId = entries[start]!.customer_id;
    let stop = start;
    while (stop < entries.length && entries[stop]!.customer_id === customerId) stop++;
    const member = entries.slice(start, stop);
    let points = 0;
    let expiresAt = Number.POSITIVE_INFINITY;
    for (const lot of remainingLots(member)) {
      const at = lot.availableAt + span;
      if (lot.remaining <= 0 || at < now || at >= end) continue;
      points += lot.remaining;
      expiresAt = Math.min(expiresAt, at);
    }
    points = Math.min(points, member[0]!.balance);
    if (points > 0) found.push({ customerId, points, expiresAt });
    start = stop;
  }
  return found;
}
