import { ComebackError } from '../errors.js';
import { isValidTimeZone, parseTimestamp } from '../shared/dates.js';
import { currencyExponent, normaliseCurrency } from '../shared/money.js';

/**
 * The rule language of custom segments, as JSON:
 *
 * - `{"all": [rule…]}`, `{"any": [rule…]}`, `{"not": rule}`: combinations (an empty `all` is everyone,
 *   an empty `any` no one), nested at most `MAX_RULE_DEPTH` levels;
 * - `{"field": "country", "op": "in", "value": ["United Kingdom", "France"]}`: a customer field. Text
 *   fields take `eq`, `neq`, `in`, `exists`; `email` and `country` compare without regard to case and
 *   surrounding spaces, and a country matches under any of its names (`UK`, `GB`, `United Kingdom`, see
 *   `isoCountry`). `first_seen_at` takes the number comparisons with an epoch-ms number, an instant
 *   (`2024-06-20T09:00+09:00`; without an offset it is wall time in the store's time zone) or a date
 *   (`2024-06-20`, a whole day of the store's zone: `lte` includes that day, `gt` starts after it);
 * - missing values: a customer with no value for a field matches `eq` and `in` never and `neq`
 *   always, so `{"field": f, "op": "neq", "value": v}` and `{"not": {"field": f, "op": "eq", "value":
 *   v}}` select the same customers; `exists` tells missing values apart;
 * - `{"orders": "count" | "revenue", "withinDays": 30, "currency": "EUR", "op": "gte", "value": 3}`:
 *   sales in the window `[asOf − withinDays days, asOf)` (all before `asOf` when absent), as of
 *   `asOf` (refunds dated later do not count, see `salesAsOf`); `count` counts sales in `currency`
 *   when it is given and in every currency when not; `revenue` is net, in major units of `currency`
 *   (default: the store's main currency);
 * - `{"events": "Product Viewed", "type": "track", "withinDays": 30, "op": "gte", "value": 1}`: events
 *   of that name (and type, when given) in the same window, recorded under the customer's id;
 * - `{"score": "p_alive" | "expected_purchases" | "clv", "model": "bgnbd", "op": "lt", "value": 0.3}`:
 *   the customer's latest model score computed at or before `asOf` (of that model, when given); a
 *   customer without one matches nothing;
 * - `{"rfm": ["Champions", "Loyal"]}`, `{"persona": "repeat_buyer"}`, `{"lifecycle": "at_risk"}`:
 *   the customer's current label of that kind, as the last segments refresh stored it (so as of that
 *   refresh, not of `asOf`);
 * - `{"loyaltyTier": "gold"}`: the customer's tier in the loyalty program;
 * - `{"feedback": "nps_group", "op": "eq", "value": "detractor"}`: a feedback field as of `asOf` —
 *   `nps_group` (of the latest NPS answer: promoter, passive, detractor) and `exit_reason` (of the
 *   latest exit survey) take `eq`, `neq`, `in`, `exists`; `last_csat` (1–5) and `review_count` take
 *   the number comparisons (`last_csat` also `exists`).
 *
 * Only customers first seen before `asOf` are selected.
 */
export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | FieldRule
  | OrdersRule
  | EventsRule
  | ScoreRule
  | LabelRule
  | FeedbackRule;

/** The feedback fields a rule can test (surveys and reviews, see feedback/). */
export type FeedbackField = 'nps_group' | 'exit_reason' | 'last_csat' | 'review_count';

export type FeedbackRule =
  | { feedback: 'nps_group' | 'exit_reason'; op: 'eq' | 'neq'; value: string }
  | { feedback: 'nps_group' | 'exit_reason'; op: 'in'; value: string[] }
  | { feedback: FeedbackField; op: 'exists'; value: boolean }
  | { feedback: 'last_csat' | 'review_count'; op: NumberOp; value: number };

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

/** How deep `all`, `any` and `not` may nest: deeper rules are refused with the path where the limit was hit. */
export const MAX_RULE_DEPTH = 32;

/** How a rule's dates and times are read: the store's IANA time zone (default UTC). */
export interface RuleParseOptions {
  timeZone?: string;
}

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

/**
 * Checks a rule parsed from JSON and returns it typed; errors (`bad_input`) name the path of the bad
 * part. Dates and times of `first_seen_at` become instants in `timeZone`; a date compared with
 * `eq`/`neq` becomes the range of its day.
 */
export function parseRule(input: unknown, path = 'rules', options: RuleParseOptions = {}): Rule {
  const timeZone = options.timeZone ?? 'UTC';
  if (!isValidTimeZone(timeZone)) throw bad('timeZone', `${timeZone} is not an IANA time zone`);
  return parseAt(input, path, 0, timeZone);
}

function parseAt(input: unknown, path: string, depth: number, timeZone: string): Rule {
  if (!isObject(input)) throw bad(path, 'a rule must be a JSON object');
  if (depth > MAX_RULE_DEPTH && ('all' in input || 'any' in input || 'not' in input)) {
    throw bad(path, `rules may nest at most ${MAX_RULE_DEPTH} levels of all, any and not`);
  }
  if ('all' in input || 'any' in input) {
    const key = 'all' in input ? 'all' : 'any';
    onlyKeys(input, [key], path);
    const list = input[key];
    if (!Array.isArray(list)) throw bad(`${path}.${key}`, 'must be an array of rules');
    const rules = list.map((r, i) => parseAt(r, `${path}.${key}[${i}]`, depth + 1, timeZone));
    return key === 'all' ? { all: rules } : { any: rules };
  }
  if ('not' in input) {
    onlyKeys(input, ['not'], path);
    return { not: parseAt(input.not, `${path}.not`, depth + 1, timeZone) };
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
    if (field === 'first_seen_at') return instantRule(numberOp(op, `${path}.op`), input.value, path, timeZone);
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
  if ('feedback' in input) return feedbackRule(input, path);
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
  throw bad(
    path,
    'expected one of all, any, not, field, orders, events, score, rfm, persona, lifecycle, loyaltyTier, feedback',
  );
}

const FEEDBACK_TEXT = ['nps_group', 'exit_reason'] as const;
const FEEDBACK_NUMBER = ['last_csat', 'review_count'] as const;

function feedbackRule(input: Record<string, unknown>, path: string): FeedbackRule {
  onlyKeys(input, ['feedback', 'op', 'value'], path);
  const field = input.feedback;
  const isText = FEEDBACK_TEXT.includes(field as 'nps_group');
  if (!isText && !FEEDBACK_NUMBER.includes(field as 'last_csat')) {
    throw bad(`${path}.feedback`, `must be one of ${[...FEEDBACK_TEXT, ...FEEDBACK_NUMBER].join(', ')}`);
  }
  if (input.op === 'exists') {
    if (typeof input.value !== 'boolean') throw bad(`${path}.value`, 'must be true or false');
    return { feedback: field as FeedbackField, op: 'exists', value: input.value };
  }
  if (!isText) {
    return {
      feedback: field as 'last_csat',
      op: numberOp(input.op, `${path}.op`),
      value: finite(input.value, `${path}.value`),
    };
  }
  const text = field as 'nps_group';
  if (input.op === 'in') {
    const list = input.value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
      throw bad(`${path}.value`, 'must be a non-empty array of strings');
    }
    return { feedback: text, op: 'in', value: list as string[] };
  }
  if (input.op !== 'eq' && input.op !== 'neq') throw bad(`${path}.op`, 'text fields take eq, neq, in or exists');
  if (typeof input.value !== 'string') throw bad(`${path}.value`, 'must be a string');
  return { feedback: text, op: input.op, value: input.value };
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

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A `first_seen_at` comparison with a number, an instant or a whole day, as instants. A day `d` is the
 * half-open range `[start, end)` of its midnights in `timeZone`: `gte d` ≥ start, `gt d` ≥ end,
 * `lt d` < start, `lte d` < end, `eq d` within the range, `neq d` outside it.
 */
function instantRule(op: NumberOp, value: unknown, path: string, timeZone: string): Rule {
  if (typeof value === 'number') return { field: 'first_seen_at', op, value: finite(value, `${path}.value`) };
  if (typeof value !== 'string') throw bad(`${path}.value`, 'must be epoch milliseconds, a date or an instant');
  const day = DAY_PATTERN.exec(value.trim());
  if (!day) {
    const at = parseTimestamp(value, timeZone);
    if (!at) throw bad(`${path}.value`, `${JSON.stringify(value)} is not a date (YYYY-MM-DD) or an instant`);
    return { field: 'first_seen_at', op, value: at.epochMs };
  }
  const start = parseTimestamp(value.trim(), timeZone);
  if (!start) throw bad(`${path}.value`, `${JSON.stringify(value)} is not a calendar date`);
  const next = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + 1)).toISOString().slice(0, 10);
  const end = parseTimestamp(next, timeZone)!.epochMs;
  const at = (o: NumberOp, v: number): FieldRule => ({ field: 'first_seen_at', op: o, value: v });
  switch (op) {
    case 'gte':
      return at('gte', start.epochMs);
    case 'gt':
      return at('gte', end);
    case 'lt':
      return at('lt', start.epochMs);
    case 'lte':
      return at('lt', end);
    case 'eq':
      return { all: [at('gte', start.epochMs), at('lt', end)] };
    case 'neq':
      return { any: [at('lt', start.epochMs), at('gte', end)] };
  }
}
