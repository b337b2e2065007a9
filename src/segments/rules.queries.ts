import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { countrySpellings, isoCountry } from '../shared/countries.js';
import type { Db } from '../store/index.js';
import { mainCurrency } from './customers.queries.js';
import { type FeedbackRule, labelOf, type NumberOp, type Rule, revenueMinor, type TextField } from './rules.js';
import { salesAsOf } from './sales-as-of.queries.js';

const DAY = 86_400_000;

const SQL_OP: Record<NumberOp, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** The comparison operator; `op` was checked by `parseRule`, so only the six known spellings pass. */
function op(o: NumberOp): RawBuilder<unknown> {
  return sql.raw(SQL_OP[o]);
}

/** `[asOf − days, asOf)`, or everything before `asOf` without `days`: the one window of every figure. */
function window(column: string, asOf: number, days: number | undefined): RawBuilder<SqlBool> {
  const ref = sql.ref(column);
  return days === undefined
    ? sql<SqlBool>`${ref} < ${asOf}`
    : sql<SqlBool>`${ref} < ${asOf} and ${ref} >= ${asOf - Math.round(days * DAY)}`;
}

/** The text a customer field is compared by: e-mails and countries lower-cased and trimmed. */
function folded(field: TextField): boolean {
  return field === 'email' || field === 'country';
}

/** The stored spellings a rule's value matches: a country under all its names, other folded text lower-cased. */
function spellings(field: TextField, values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    const code = field === 'country' ? isoCountry(v) : null;
    if (code) for (const s of countrySpellings(code)) out.add(s);
    else out.add(folded(field) ? v.trim().toLowerCase() : v);
  }
  return [...out];
}

/** `eq`/`in` on a text field: never NULL, false for a missing value. */
function textMatch(field: TextField, values: readonly string[]): RawBuilder<SqlBool> {
  const column = sql.ref(`c.${field}`);
  const value = folded(field) ? sql`lower(trim(${column}))` : column;
  return sql<SqlBool>`(${column} is not null and ${value} in (${sql.join(spellings(field, values))}))`;
}

/**
 * Compiles a rule to a boolean SQL expression over `customers as c`, the same on SQLite and
 * PostgreSQL. Every value is a bound parameter and every column comes from the rule language's fixed
 * list. Each leaf is never NULL (a missing field is `x is not null and …`), so `not` is plain
 * negation and `neq` is exactly `not eq` (a missing value is "not equal").
 */
export function compileRule(rule: Rule, ctx: RuleContext): RawBuilder<SqlBool> {
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
    if (rule.field === 'first_seen_at') return sql<SqlBool>`(${column} ${op(rule.op)} ${rule.value})`;
    if (rule.op === 'in') return textMatch(rule.field, rule.value);
    const eq = textMatch(rule.field, [rule.value]);
    return rule.op === 'eq' ? eq : sql<SqlBool>`(not ${eq})`;
  }
  if ('orders' in rule) {
    const sales = sql`s.customer_id = c.id and ${window('s.placed_at', ctx.asOf, rule.withinDays)}`;
    const from = sql`${salesAsOf(ctx.asOf)} s`;
    if (rule.orders === 'count') {
      const currency = rule.currency === undefined ? sql`` : sql` and s.currency = ${rule.currency}`;
      return sql<SqlBool>`((select count(*) from ${from} where ${sales}${currency}) ${op(rule.op)} ${rule.value})`;
    }
    const currency = rule.currency ?? ctx.currency;
    return sql<SqlBool>`((select coalesce(sum(s.net), 0) from ${from}
      where ${sales} and s.currency = ${currency}) ${op(rule.op)} ${revenueMinor(rule.value, currency)})`;
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
      and s.as_of = (select max(s2.as_of) from customer_scores s2 where s2.customer_id = c.id${model} and s2.as_of <= ${ctx.asOf})
      and ${sql.ref(`s.${rule.score}`)} is not null and ${sql.ref(`s.${rule.score}`)} ${op(rule.op)} ${rule.value})`;
  }
  if ('feedback' in rule) return feedbackMatch(rule, ctx);
  const label = labelOf(rule);
  if (!label) throw new ComebackError('bad_input', 'unknown rule');
  if (label.kind === 'loyalty_tier') {
    return sql<SqlBool>`exists (select 1 from loyalty_members lm where lm.customer_id = c.id and lm.tier in (${sql.join(label.values)}))`;
  }
  return sql<SqlBool>`exists (select 1 from customer_segments g where g.customer_id = c.id and g.kind = ${label.kind}
    and g.value in (${sql.join(label.values)}))`;
}

/**
 * A feedback field as of `asOf`, from the answers and reviews before it: the latest NPS answer's
 * group (9–10 promoter, 7–8 passive, 0–6 detractor), the latest CSAT score and exit reason, the count
 * of reviews. A customer without the value matches `eq`, `in` and the comparisons never, `neq` always.
 */
function feedbackMatch(rule: FeedbackRule, ctx: RuleContext): RawBuilder<SqlBool> {
  const latest = (kind: string, column: string) =>
    sql`(select ${sql.ref(`r.${column}`)} from survey_responses r where r.customer_id = c.id and r.kind = ${kind}
      and r.answered_at < ${ctx.asOf} order by r.answered_at desc, r.id desc limit 1)`;
  const value =
    rule.feedback === 'nps_group'
      ? sql`(select case when x.score >= 9 then 'promoter' when x.score >= 7 then 'passive' else 'detractor' end
          from (select r.score from survey_responses r where r.customer_id = c.id and r.kind = 'nps' and r.score is not null
          and r.answered_at < ${ctx.asOf} order by r.answered_at desc, r.id desc limit 1) x)`
      : rule.feedback === 'exit_reason'
        ? latest('exit', 'reason')
        : rule.feedback === 'last_csat'
          ? latest('csat', 'score')
          : sql`(select count(*) from product_reviews pr where pr.customer_id = c.id and pr.created_at < ${ctx.asOf})`;
  if (rule.op === 'exists') return rule.value ? sql<SqlBool>`(${value} is not null)` : sql<SqlBool>`(${value} is null)`;
  if (rule.op === 'in') return sql<SqlBool>`(coalesce(${value} in (${sql.join(rule.value)}), false))`;
  if (typeof rule.value === 'string') {
    const eq = sql<SqlBool>`(coalesce(${value} = ${rule.value}, false))`;
    return rule.op === 'eq' ? eq : sql<SqlBool>`(not ${eq})`;
  }
  return sql<SqlBool>`(coalesce(${value} ${op(rule.op as NumberOp)} ${rule.value}, false))`;
}

/** What a rule compiles with: the as-of instant (exclusive) and the main currency, for `revenue` without one. */
export interface RuleContext {
  asOf: number;
  currency: string;
}

/** The context a rule compiles in: `asOf` and the main currency (for `revenue` without a currency). */
export async function ruleContext(db: Db, asOf: number): Promise<RuleContext> {
  return { asOf, currency: (await mainCurrency(db, asOf)) ?? 'USD' };
}

/**
 * The ids of the customers a rule selects as of `asOf` (exclusive), among the customers first seen
 * before it (and only among `customerIds` when given), ascending.
 */
export async function selectByRule(
  db: Db,
  rule: Rule,
  { asOf, customerIds, context }: { asOf: number; customerIds?: readonly number[]; context?: RuleContext },
): Promise<number[]> {
  const ctx = context ?? (await ruleContext(db, asOf));
  let query = db
    .selectFrom('customers as c')
    .select('c.id')
    .where('c.first_seen_at', '<', asOf)
    .where(compileRule(rule, ctx))
    .orderBy('c.id');
  if (customerIds) query = query.where('c.id', 'in', customerIds.length > 0 ? [...customerIds] : [-1]);
  const rows = await query.execute();
  return rows.map((r) => Number(r.id));
}
