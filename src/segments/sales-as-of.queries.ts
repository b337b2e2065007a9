import { type RawBuilder, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { REVENUE_STATUSES } from '../store/index.js';

/**
 * What the store's sales were *as of* an instant, the one definition every segment figure reads
 * (RFM, lifecycle, personas, rule segments, migration), so that a figure as of D is the same whenever
 * it is computed:
 *
 * - an order counts when it was placed before `asOf` (the as-of instant is exclusive: `--as-of D`
 *   means the end of day D);
 * - its net amount is its total less the refunds dated before `asOf`: a refund recorded in
 *   `refunds` with `refunded_at >= asOf` is added back, so a later refund or cancellation does not
 *   reach into the past. Refunded amounts with no dated refund row (an export that gives only the
 *   refunded total) have no date and count at every as-of;
 * - it is a sale when its status is a revenue status today, or when it is `refunded` today but its
 *   net as of `asOf` is still positive, or `cancelled` at an instant at or after `asOf`
 *   with something left of it then (`cancelled_at`; an undated cancellation counts at every as-of).
 *
 * The result is a derived table of the sales with `id, customer_id, placed_at, currency, net`.
 */
export function salesAsOf(asOf: number): RawBuilder<unknown> {
  if (!Number.isSafeInteger(asOf)) throw new ComebackError('bad_input', `asOf: ${asOf} is not an instant`);
  const at = sql.lit(asOf);
  const net = sql`(o.total_minor - o.refunded_minor + coalesce(lr.late, 0))`;
  return sql`(select o.id, o.customer_id, o.placed_at, o.currency, ${net} as net
    from orders o
    left join (select order_id, sum(amount_minor) as late from refunds
      where order_id is not null and refunded_at >= ${at} group by order_id) lr on lr.order_id = o.id
    where o.placed_at < ${at} and (
      o.status in (${sql.join(REVENUE_STATUSES)})
      or (o.status = 'refunded' and ${net} > 0)
      or (o.status = 'cancelled' and o.cancelled_at is not null and o.cancelled_at >= ${at} and ${net} > 0)))`;
}
