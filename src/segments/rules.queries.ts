import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import { mainCurrency } from './customers.queries.js';
import { labelOf, type NumberOp, type Rule, revenueMinor } from './rules.js';

const DAY = 86_400_000;

const SQL_OP: Record<NumberOp, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The comparison operator; `op` was checked by `parseRule`, so only the six known spellings pass. */
function op(o: NumberOp): RawBuilder<unknown> {
  return sql.raw(SQL_OP[o]);
}

function window(column: string, asOf: number, days: number | undefined): RawBuilder<SqlBool> {
  const ref = sql.ref(column);
  return days === undefined
    ? sql<SqlBool>`${ref} <= ${asOf}`
    : sql<SqlBool>`${ref} <= ${asOf} and ${ref} > ${asOf - Math.round(days * DAY)}`;
}

/**
 * Compiles a rule to a boolean SQL expression over `customers as c`, the same on SQLite and
 * PostgreSQL. Every value is a bound parameter and every column comes from the rule language's fixed
 * list. Each leaf is never NULL (a missing field is `x is not null and …`), so that `not` means the
 * same as in memory.
 */
export function compileRule(rule: Rule, ctx: { asOf: number; currency: string }): RawBuilder<SqlBool> {
  if ('all' in rule) {
    if (rule.all.length === 0) return sql<SqlBool>`(1 = 1)`;
    return sql<SqlBool>`(${sql.join(
      rule.all.map((r) => compileRule(r, ctx)),
      sql` and `,
    )})`;
  }
  if ('any' in rule) {
    if (rule.any.length === 0) return sql<SqlBool>`(1 = 0)`;
    return sql<SqlBool>`(${sql.join(
      rule.any.map((r) => compileRule(r, ctx)),
      sql` or `,
    )})`;
  }
  if ('not' in rule) return sql<SqlBool>`(not ${compileRule(rule.not, ctx)})`;
  if ('field' in rule) {
    const column = sql.ref(`c.${rule.field}`);
    if (rule.op === 'exists')
      return rule.value ? sql<SqlBool>`(${column} is not null)` : sql<SqlBool>`(${column} is null)`;
    if (rule.op === 'in') return sql<SqlBool>`(${column} is not null and ${column} in (${sql.join(rule.value)}))`;
    return sql<SqlBool>`(${column} is not null and ${column} ${op(rule.op)} ${rule.value})`;
  }
  if ('orders' in rule) {
    const sales = sql`o.customer_id = c.id and o.status in (${sql.join(REVENUE_STATUSES)}) and ${window('o.placed_at', ctx.asOf, rule.withinDays)}`;
    if (rule.orders === 'count') {
      return sql<SqlBool>`((select count(*) from orders o where ${sales}) ${op(rule.op)} ${rule.value})`;
    }
    const currency = rule.currency ?? ctx.currency;
    return sql<SqlBool>`((select coalesce(sum(o.total_minor - o.refunded_minor), 0) from orders o
      where ${sales} and o.currency = ${currency}) ${op(rule.op)} ${revenueMinor(rule.value, currency)})`;
  }
  if ('events' in rule) {
    const type = rule.type === undefined ? sql`` : sql` and e.type = ${rule.type}`;
    return sql<SqlBool>`((select count(*) from events e where e.customer_id = c.id and e.event = ${rule.events}${type}
      and ${window('e.occurred_at', ctx.asOf, rule.withinDays)}) ${op(rule.op)} ${rule.value})`;
  }
  if ('score' in rule) {
    const model = rule.model === undefined ? sql`` : sql` and s2.model = ${rule.model}`;
    const sameModel = rule.model === undefined ? sql`` : sql` and s.model = ${rule.model}`;
    return sql<SqlBool>`exists (select 1 from customer_scores s where s.customer_id = c.id${sameModel}
      and s.as_of = (select max(s2.as_of) from customer_scores s2 where s2.customer_id = c.id${model})
      and ${sql.ref(`s.${rule.score}`)} is not null and ${sql.ref(`s.${rule.score}`)} ${op(rule.op)} ${rule.value})`;
  }
  const label = labelOf(rule);
  if (!label) throw new ComebackError('bad_input', 'unknown rule');
  if (label.kind === 'loyalty_tier') {
    return sql<SqlBool>`exists (select 1 from loyalty_members lm where lm.customer_id = c.id and lm.tier in (${sql.join(label.values)}))`;
  }
  return sql<SqlBool>`exists (select 1 from customer_segments g where g.customer_id = c.id and g.kind = ${label.kind}
    and g.value in (${sql.join(label.values)}))`;
}

/** The context a rule compiles in: `asOf` and the main currency (for `revenue` without a currency). */
export async function ruleContext(db: Db, asOf: number): Promise<{ asOf: number; currency: string }> {
  return { asOf, currency: (await mainCurrency(db, asOf)) ?? 'USD' };
}

/** The ids of the customers a rule selects as of `asOf` (only among `customerIds` when given), ascending. */
export async function selectByRule(
  db: Db,
  rule: Rule,
  {
    asOf,
    customerIds,
    context,
  }: { asOf: number; customerIds?: readonly number[]; context?: { asOf: number; currency: string } },
): Promise<number[]> {
  const ctx = context ?? (await ruleContext(db, asOf));
  let query = db.selectFrom('customers as c').select('c.id').where(compileRule(rule, ctx)).orderBy('c.id');
  if (customerIds) query = query.where('c.id', 'in', customerIds.length > 0 ? [...customerIds] : [-1]);
  const rows = await query.execute();
  return rows.map((r) => Number(r.id));
}
