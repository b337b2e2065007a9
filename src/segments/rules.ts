import { ComebackError } from '../errors.js';
import { currencyExponent, normaliseCurrency } from '../shared/money.js';

/**
 * The rule language of custom segments, as JSON:
 *
 * - `{"all": [rule…]}`, `{"any": [rule…]}`, `{"not": rule}`: combinations (an empty `all` is everyone,
 *   an empty `any` no one);
 * - `{"field": "country", "op": "in", "value": ["United Kingdom", "France"]}`: a customer field. Text
 *   fields take `eq`, `neq`, `in`, `exists`; `first_seen_at` takes the number comparisons with an
 *   epoch-ms number or a date. A missing value matches nothing but `exists: false`;
 * - `{"orders": "count" | "revenue", "withinDays": 90, "op": "gte", "value": 3}`: sales in the last
 *   `withinDays` days before `asOf` (all time when absent); `revenue` is net, in major units of
 *   `currency` (default: the store's main currency);
 * - `{"events": "Product Viewed", "type": "track", "withinDays": 30, "op": "gte", "value": 1}`: events
 *   of that name (and type, when given) in the window, recorded under the customer's id;
 * - `{"score": "p_alive" | "expected_purchases" | "clv", "model": "bgnbd", "op": "lt", "value": 0.3}`:
 *   the customer's latest model score in `customer_scores` (of that model, when given); a customer
 *   without one matches nothing;
 * - `{"rfm": ["Champions", "Loyal"]}`, `{"persona": "repeat_buyer"}`, `{"lifecycle": "at_risk"}`:
 *   the customer's current label of that kind (as the last segments refresh stored it);
 * - `{"loyaltyTier": "gold"}`: the customer's tier in the loyalty program.
 */
export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | FieldRule
  | OrdersRule
  | EventsRule
  | ScoreRule
  | LabelRule;

export type TextField = 'email' | 'phone' | 'first_name' | 'last_name' | 'country' | 'city' | 'source' | 'birthday';
export type NumberField = 'first_seen_at';
export type NumberOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';

export type FieldRule =
  | { field: TextField; op: 'eq' | 'neq'; value: string }
  | { field: TextField; op: 'in'; value: string[] }
  | { field: TextField | NumberField; op: 'exists'; value: boolean }
  | { field: NumberField; op: NumberOp; value: number };

export interface OrdersRule {
  orders: 'count' | 'revenue';
  withinDays?: number;
  currency?: string;
  op: NumberOp;
  value: number;
}

export interface EventsRule {
  events: string;
  type?: string;
  withinDays?: number;
  op: NumberOp;
  value: number;
}

export type ScoreName = 'p_alive' | 'expected_purchases' | 'clv';

export interface ScoreRule {
  score: ScoreName;
  model?: string;
  op: NumberOp;
  value: number;
}

/** The label kinds a rule can test, and the `customer_segments.kind` each is stored under. */
export const LABEL_KINDS = {
  rfm: 'rfm',
  persona: 'persona',
  lifecycle: 'lifecycle',
  loyaltyTier: 'loyalty_tier',
} as const;
export type LabelKey = keyof typeof LABEL_KINDS;

export type LabelRule = { [K in LabelKey]: { [P in K]: string | string[] } }[LabelKey];

const TEXT_FIELDS: readonly TextField[] = [
  'email',
  'phone',
  'first_name',
  'last_name',
  'country',
  'city',
  'source',
  'birthday',
];
const NUMBER_OPS: readonly NumberOp[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const SCORES: readonly ScoreName[] = ['p_alive', 'expected_purchases', 'clv'];

function bad(path: string, message: string): ComebackError {
  return new ComebackError('bad_input', message, { location: { field: path } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(path, 'must be a finite number');
  return value;
}

function numberOp(value: unknown, path: string): NumberOp {
  if (typeof value !== 'string' || !NUMBER_OPS.includes(value as NumberOp)) {
    throw bad(path, `must be one of ${NUMBER_OPS.join(', ')}`);
  }
  return value as NumberOp;
}

function withinDays(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  const days = finite(value, path);
  if (days <= 0) throw bad(path, 'must be a positive number of days');
  return days;
}

function onlyKeys(rule: Record<string, unknown>, keys: string[], path: string): void {
  for (const key of Object.keys(rule)) if (!keys.includes(key)) throw bad(`${path}.${key}`, 'unknown key');
}

/** Checks a rule parsed from JSON and returns it typed; errors name the path of the bad part. */
export function parseRule(input: unknown, path = 'rules'): Rule {
  if (!isObject(input)) throw bad(path, 'a rule must be a JSON object');
  if ('all' in input || 'any' in input) {
    const key = 'all' in input ? 'all' : 'any';
    onlyKeys(input, [key], path);
    const list = input[key];
    if (!Array.isArray(list)) throw bad(`${path}.${key}`, 'must be an array of rules');
    const rules = list.map((r, i) => parseRule(r, `${path}.${key}[${i}]`));
    return key === 'all' ? { all: rules } : { any: rules };
  }
  if ('not' in input) {
    onlyKeys(input, ['not'], path);
    return { not: parseRule(input.not, `${path}.not`) };
  }
  if ('field' in input) {
    onlyKeys(input, ['field', 'op', 'value'], path);
    const field = input.field;
    const op = input.op;
    if (op === 'exists') {
      if (field !== 'first_seen_at' && !TEXT_FIELDS.includes(field as TextField))
        throw bad(`${path}.field`, 'unknown field');
      if (typeof input.value !== 'boolean') throw bad(`${path}.value`, 'must be true or false');
      return { field: field as TextField, op, value: input.value };
    }
    if (field === 'first_seen_at') {
      const value = typeof input.value === 'string' ? Date.parse(input.value) : input.value;
      return { field, op: numberOp(op, `${path}.op`), value: finite(value, `${path}.value`) };
    }
    if (!TEXT_FIELDS.includes(field as TextField)) {
      throw bad(`${path}.field`, `unknown field; use one of ${[...TEXT_FIELDS, 'first_seen_at'].join(', ')}`);
    }
    const text = field as TextField;
    if (op === 'in') {
      const list = input.value;
      if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
        throw bad(`${path}.value`, 'must be a non-empty array of strings');
      }
      return { field: text, op, value: list as string[] };
    }
    if (op !== 'eq' && op !== 'neq') throw bad(`${path}.op`, 'text fields take eq, neq, in or exists');
    if (typeof input.value !== 'string') throw bad(`${path}.value`, 'must be a string');
    return { field: text, op, value: input.value };
  }
  if ('orders' in input) {
    onlyKeys(input, ['orders', 'withinDays', 'currency', 'op', 'value'], path);
    if (input.orders !== 'count' && input.orders !== 'revenue') throw bad(`${path}.orders`, 'must be count or revenue');
    let currency: string | undefined;
    if (input.currency !== undefined) {
      currency = typeof input.currency === 'string' ? normaliseCurrency(input.currency) : undefined;
      if (!currency) throw bad(`${path}.currency`, 'must be an ISO 4217 code');
    }
    return {
      orders: input.orders,
      ...(input.withinDays !== undefined ? { withinDays: withinDays(input.withinDays, `${path}.withinDays`) } : {}),
      ...(currency ? { currency } : {}),
      op: numberOp(input.op, `${path}.op`),
      value: finite(input.value, `${path}.value`),
    };
  }
  if ('events' in input) {
    onlyKeys(input, ['events', 'type', 'withinDays', 'op', 'value'], path);
    if (typeof input.events !== 'string' || input.events === '') throw bad(`${path}.events`, 'must be an event name');
    if (input.type !== undefined && typeof input.type !== 'string') throw bad(`${path}.type`, 'must be a string');
    return {
      events: input.events,
      ...(typeof input.type === 'string' ? { type: input.type } : {}),
      ...(input.withinDays !== undefined ? { withinDays: withinDays(input.withinDays, `${path}.withinDays`) } : {}),
      op: numberOp(input.op, `${path}.op`),
      value: finite(input.value, `${path}.value`),
    };
  }
  if ('score' in input) {
    onlyKeys(input, ['score', 'model', 'op', 'value'], path);
    if (!SCORES.includes(input.score as ScoreName)) throw bad(`${path}.score`, `must be one of ${SCORES.join(', ')}`);
    if (input.model !== undefined && typeof input.model !== 'string') throw bad(`${path}.model`, 'must be a string');
    return {
      score: input.score as ScoreName,
      ...(typeof input.model === 'string' ? { model: input.model } : {}),
      op: numberOp(input.op, `${path}.op`),
      value: finite(input.value, `${path}.value`),
    };
  }
  for (const key of Object.keys(LABEL_KINDS) as LabelKey[]) {
    if (key in input) {
      onlyKeys(input, [key], path);
      const raw = input[key];
      const list = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
        throw bad(`${path}.${key}`, 'must be a name or a non-empty array of names');
      }
      return { [key]: list as string[] } as LabelRule;
    }
  }
  throw bad(path, 'expected one of all, any, not, field, orders, events, score, rfm, persona, lifecycle, loyaltyTier');
}

/** The kind and the values of a label rule, or undefined for another rule. */
export function labelOf(rule: Rule): { kind: string; values: string[] } | undefined {
  for (const key of Object.keys(LABEL_KINDS) as LabelKey[]) {
    if (key in rule) {
      const raw = (rule as Record<LabelKey, string | string[]>)[key];
      return { kind: LABEL_KINDS[key], values: typeof raw === 'string' ? [raw] : raw };
    }
  }
  return undefined;
}

/** A rule's revenue value in minor units of the currency. */
export function revenueMinor(value: number, currency: string): number {
  return Math.round(value * 10 ** currencyExponent(currency));
}

/** `a op b` on numbers. */
export function compare(a: number, op: NumberOp, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'neq':
      return a !== b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
  }
}

/** What the in-memory evaluator knows of one customer. */
export interface RuleSubject {
  customer: Record<TextField, string | null> & { id: number; first_seen_at: number };
  sales: ReadonlyArray<{ placedAt: number; netMinor: number; currency: string }>;
  events: ReadonlyArray<{ type: string; event: string | null; occurredAt: number }>;
  labels: ReadonlyMap<string, string>;
  scores: ReadonlyArray<{
    model: string;
    asOf: number;
    p_alive: number | null;
    expected_purchases: number | null;
    clv: number | null;
  }>;
}

const DAY = 86_400_000;

function inWindow(at: number, asOf: number, days: number | undefined): boolean {
  return at <= asOf && (days === undefined || at > asOf - Math.round(days * DAY));
}

/**
 * Evaluates a rule for one customer in memory, with the same meaning as the SQL it compiles to; the
 * tests hold the two against each other.
 */
export function evaluateRule(rule: Rule, subject: RuleSubject, ctx: { asOf: number; currency: string }): boolean {
  if ('all' in rule) return rule.all.every((r) => evaluateRule(r, subject, ctx));
  if ('any' in rule) return rule.any.some((r) => evaluateRule(r, subject, ctx));
  if ('not' in rule) return !evaluateRule(rule.not, subject, ctx);
  if ('field' in rule) {
    const value = subject.customer[rule.field];
    if (rule.op === 'exists') return (value !== null) === rule.value;
    if (value === null) return false;
    if (rule.op === 'in') return rule.value.includes(String(value));
    if (rule.field === 'first_seen_at') return compare(Number(value), rule.op, rule.value);
    return rule.op === 'eq' ? value === rule.value : value !== rule.value;
  }
  if ('orders' in rule) {
    const currency = rule.currency ?? ctx.currency;
    const sales = subject.sales.filter((s) => inWindow(s.placedAt, ctx.asOf, rule.withinDays));
    if (rule.orders === 'count') return compare(sales.length, rule.op, rule.value);
    const total = sales.filter((s) => s.currency === currency).reduce((sum, s) => sum + s.netMinor, 0);
    return compare(total, rule.op, revenueMinor(rule.value, currency));
  }
  if ('events' in rule) {
    const n = subject.events.filter(
      (e) =>
        e.event === rule.events &&
        (rule.type === undefined || e.type === rule.type) &&
        inWindow(e.occurredAt, ctx.asOf, rule.withinDays),
    ).length;
    return compare(n, rule.op, rule.value);
  }
  if ('score' in rule) {
    const rows = subject.scores.filter((s) => rule.model === undefined || s.model === rule.model);
    if (rows.length === 0) return false;
    const latest = Math.max(...rows.map((s) => s.asOf));
    return rows.some(
      (s) => s.asOf === latest && s[rule.score] !== null && compare(s[rule.score]!, rule.op, rule.value),
    );
  }
  const label = labelOf(rule);
  if (!label) return false;
  const value = subject.labels.get(label.kind);
  return value !== undefined && label.values.includes(value);
}
