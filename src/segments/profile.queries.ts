import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import { profileRecommendations } from '../recommend/index.js';
import { GrowingColumns, idRanges } from '../shared/columns.js';
import { toMajor } from '../shared/money.js';
import type { Db } from '../store/index.js';
import { computeLifecycle, type LifecycleStage } from './lifecycle.js';
import { computePersonas, PERSONAS, type Persona } from './personas.js';
import { computeRfm, type RfmScore } from './rfm.js';
import { salesAsOf } from './sales-as-of.queries.js';
import { customerSegmentsOf } from './segments.queries.js';
import type { CustomerScores, ScoresByCustomer } from './tables.js';

/**
 * Finds a customer by the ways people name one: the internal id (`42`), an e-mail
 * (`ann@example.com`) or a source and external id (`online-retail:12347`). Throws `not_found`.
 */
export async function resolveCustomerId(db: Db, ref: string): Promise<number> {
  const text = ref.trim();
  let row: { id: number } | undefined;
  if (/^\d+$/.test(text)) {
    row = await db.selectFrom('customers').select('id').where('id', '=', Number(text)).executeTakeFirst();
  } else if (text.includes('@')) {
    row = await db.selectFrom('customers').select('id').where('email', '=', text.toLowerCase()).executeTakeFirst();
  } else if (text.includes(':')) {
    const at = text.indexOf(':');
    row = await db
      .selectFrom('customer_identities')
      .select('customer_id as id')
      .where('source', '=', text.slice(0, at))
      .where('external_id', '=', text.slice(at + 1))
      .executeTakeFirst();
  }
  if (!row)
    throw new ComebackError(
      'not_found',
      `no customer ${JSON.stringify(ref)} (give an id, an e-mail or source:external-id)`,
    );
  return Number(row.id);
}

/**
 * Scores by customer held in sorted columns (40 bytes a customer, not an object and a map entry
 * each): `get` finds a customer by binary search and hands out a fresh `CustomerScores`.
 */
class ScoreColumns implements ReadonlyMap<number, CustomerScores> {
  constructor(private readonly c: Record<'id' | 'pAlive' | 'expected' | 'clv' | 'next', Float64Array>) {}

  get size(): number {
    return this.c.id.length;
  }

  #index(id: number): number {
    let lo = 0;
    let hi = this.c.id.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.c.id[mid]!;
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  #score(i: number): CustomerScores {
    const nullable = (v: number) => (Number.isNaN(v) ? null : v);
    return {
      pAlive: this.c.pAlive[i]!,
      expectedPurchases: nullable(this.c.expected[i]!),
      clv: nullable(this.c.clv[i]!),
      nextOrderAt: nullable(this.c.next[i]!),
    };
  }

  get(id: number): CustomerScores | undefined {
    const i = this.#index(id);
    return i < 0 ? undefined : this.#score(i);
  }

  has(id: number): boolean {
    return this.#index(id) >= 0;
  }

  *entries(): MapIterator<[number, CustomerScores]> {
    for (let i = 0; i < this.size; i++) yield [this.c.id[i]!, this.#score(i)];
  }

  *keys(): MapIterator<number> {
    for (let i = 0; i < this.size; i++) yield this.c.id[i]!;
  }

  *values(): MapIterator<CustomerScores> {
    for (let i = 0; i < this.size; i++) yield this.#score(i);
  }

  [Symbol.iterator](): MapIterator<[number, CustomerScores]> {
    return this.entries();
  }

  forEach(fn: (value: CustomerScores, key: number, map: ReadonlyMap<number, CustomerScores>) => void): void {
    for (const [key, value] of this) fn(value, key, this);
  }
}

/**
 * The latest scores per customer from `customer_scores` (of one model, when given; the scores of the
 * latest run win, by `as_of` then by fit), only those computed at or before `asOf` when given (a past
 * as-of never reads scores computed later), of `customerIds` only when given, or undefined when there
 * are none. A latest score without P(alive) (the fit could not tell who has left) leaves the customer
 * out, so that lifecycle falls back to the recency rule. Lifecycle and profile take what this returns
 * as their `scores`. The whole store is read 50,000 customer ids at a time into columns (`ScoreColumns`),
 * so memory is 40 bytes a scored customer whatever the number of runs stored.
 */
export async function loadLatestScores(
  db: Db,
  { model, asOf, customerIds }: { model?: string; asOf?: number; customerIds?: readonly number[] } = {},
): Promise<ScoresByCustomer | undefined> {
  const page = (from: number, to: number) => {
    let query = db
      .selectFrom('customer_scores')
      .select(['customer_id', 'p_alive', 'expected_purchases', 'clv', 'next_order_at'])
      .orderBy('customer_id')
      .orderBy('as_of')
      .orderBy('fit_id');
    if (customerIds) query = query.where('customer_id', 'in', customerIds.length > 0 ? [...customerIds] : [-1]);
    else query = query.where('customer_id', '>=', from).where('customer_id', '<', to);
    if (model) query = query.where('model', '=', model);
    if (asOf !== undefined) query = query.where('as_of', '<=', asOf);
    return query.execute();
  };
  const columns = new GrowingColumns(['id', 'pAlive', 'expected', 'clv', 'next'] as const);
  const number = (v: number | null) => (v === null ? Number.NaN : Number(v));
  const append = (rows: Awaited<ReturnType<typeof page>>) => {
    // Ordered by customer, then run: a customer's last row is the latest score.
    rows.forEach((row, k) => {
      const id = Number(row.customer_id);
      if (Number(rows[k + 1]?.customer_id) === id || row.p_alive === null) return;
      const i = columns.add();
      const c = columns.data;
      c.id[i] = id;
      c.pAlive[i] = Number(row.p_alive);
      c.expected[i] = number(row.expected_purchases);
      c.clv[i] = number(row.clv);
      c.next[i] = number(row.next_order_at);
    });
  };
  if (customerIds) append(await page(0, 0));
  else {
    const bounds = await db
      .selectFrom('customer_scores')
      .select((eb) => [eb.fn.min('customer_id').as('lo'), eb.fn.max('customer_id').as('hi')])
      .executeTakeFirst();
    for (const [from, to] of idRanges(bounds?.lo, bounds?.hi, SCORE_PAGE)) append(await page(from, to));
  }
  return columns.length > 0 ? new ScoreColumns(columns.trimmed()) : undefined;
}

/** Customer ids per page of `loadLatestScores`' whole-store read. */
const SCORE_PAGE = 50_000;

/**
 * Why the latest stored scores (of one model, when given; at or before `asOf`) carry no P(alive):
 * their `p_alive_note`, or undefined when no scores are stored or the latest ones have P(alive).
 */
export async function latestScoresWithoutPAlive(
  db: Db,
  { model, asOf }: { model?: string; asOf?: number } = {},
): Promise<string | undefined> {
  let query = db
    .selectFrom('customer_scores')
    .select(['p_alive', 'p_alive_note'])
    .orderBy('as_of', 'desc')
    .orderBy('fit_id', 'desc')
    .limit(1);
  if (model) query = query.where('model', '=', model);
  if (asOf !== undefined) query = query.where('as_of', '<=', asOf);
  const row = await query.executeTakeFirst();
  if (!row || row.p_alive !== null) return undefined;
  return row.p_alive_note ?? 'the fit cannot tell who has left';
}

/** One entry of a customer's timeline. */
export type TimelineEntry =
  | {
      at: number;
      kind: 'order';
      orderId: number;
      externalId: string;
      /** The store's name of the order (Shopify `#1001`), or null. */
      name: string | null;
      status: string;
      /** Gross: the order's total as placed, refunds not taken off. */
      totalMinor: number;
      /** Refunded so far; net = totalMinor − refundedMinor. */
      refundedMinor: number;
      currency: string;
      /** Minutes east of UTC of the clock the order was placed by. */
      placedOffset: number;
    }
  | { at: number; kind: 'refund'; orderId: number | null; amountMinor: number; currency: string; reason: string | null }
  | { at: number; kind: 'event'; type: string; event: string | null; properties: Record<string, unknown> };

/** A customer's whole story, as `comeback customer` and the API show it. */
export interface CustomerProfile {
  asOf: number;
  customer: {
    id: number;
    source: string;
    email: string | null;
    phone: string | null;
    firstName: string | null;
    lastName: string | null;
    birthday: string | null;
    country: string | null;
    city: string | null;
    firstSeenAt: number;
  };
  identities: Array<{ source: string; externalId: string }>;
  consents: Array<{ channel: string; granted: boolean; updatedAt: number; source: string }>;
  /** Anonymous (pre-login) ids identified as this customer. */
  anonymousIds: string[];
  /** Net revenue of the customer's sales per currency up to `asOf` (never added across currencies). */
  revenue: Array<{ currency: string; orders: number; revenueMinor: number; revenue: number }>;
  orders: Array<{
    id: number;
    externalId: string;
    /** The store's name of the order (Shopify `#1001`), or null. */
    name: string | null;
    source: string;
    placedAt: number;
    /** Minutes east of UTC of the clock the order was placed by. */
    placedOffset: number;
    placedDate: string;
    status: string;
    currency: string;
    totalMinor: number;
    refundedMinor: number;
    lines: Array<{
      lineNo: number;
      sku: string | null;
      title: string | null;
      quantity: number;
      totalMinor: number;
      kind: string;
    }>;
  }>;
  timeline: TimelineEntry[];
  rfm:
    | (Pick<RfmScore, 'recencyDays' | 'frequency' | 'monetaryMinor' | 'r' | 'f' | 'm' | 'group' | 'reason'> & {
        currency: string;
      })
    | null;
  persona: { persona: Persona; label: string; reason: string; play: string } | null;
  lifecycle: { stage: LifecycleStage; reason: string } | null;
  /**
   * The latest stored model scores; `pAlive` (and the next order) null when the fit could not tell who
   * has left, `predictionNote` then says why.
   */
  /** The latest stored scores; `clv` in major units of `currency` (the currency the fit's spends were in). */
  scores:
    | (Omit<CustomerScores, 'pAlive'> & {
        pAlive: number | null;
        nextOrderDate: string | null;
        currency: string | null;
      })
    | null;
  /**
   * Why the latest model scores carry no P(alive) for this customer (the fit could not tell who has
   * left, so the lifecycle stage comes from days since the last order); null when they do or none exist.
   */
  predictionNote: string | null;
  /** The loyalty membership (points in the program's own unit), when the customer is enrolled. */
  loyalty: { tier: string; balance: number; pending: number; lifetimeEarned: number } | null;
  /** Stored labels (with since and reason) and saved segments the customer belongs to. */
  labels: Array<{ kind: string; value: string; since: number; reason: string }>;
  segments: string[];
  /** Recommended products with their reasons (recommend/), null before the first recommendation build. */
  recommendations?: Awaited<ReturnType<typeof profileRecommendations>>;
}

function parseProperties(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Everything known of one customer up to `asOf`; throws `not_found`. */
export async function customerProfile(
  db: Db,
  customerId: number,
  { asOf, scores, timelineLimit = 500 }: { asOf: number; scores?: ScoresByCustomer; timelineLimit?: number },
): Promise<CustomerProfile> {
  const c = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
  if (!c) throw new ComebackError('not_found', `no customer with id ${customerId}`);
  const identities = await db
    .selectFrom('customer_identities')
    .select(['source', 'external_id'])
    .where('customer_id', '=', customerId)
    .orderBy('source')
    .execute();
  const consents = await db
    .selectFrom('customer_consents')
    .selectAll()
    .where('customer_id', '=', customerId)
    .orderBy('channel')
    .execute();
  const anonymous = await db
    .selectFrom('anonymous_ids')
    .select('anonymous_id')
    .where('customer_id', '=', customerId)
    .orderBy('linked_at')
    .execute();
  // Sales as they stood at asOf (exclusive): later refunds and cancellations do not reach back.
  const revenue = (
    await sql<{ currency: string; orders: number; net: number }>`
      select s.currency, count(*) as orders, coalesce(sum(s.net), 0) as net from ${salesAsOf(asOf)} s
      where s.customer_id = ${customerId} group by s.currency order by s.currency`.execute(db)
  ).rows;
  const orders = await db
    .selectFrom('orders')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('placed_at', '<=', asOf)
    .orderBy('placed_at')
    .orderBy('id')
    .execute();
  const orderIds = orders.map((o) => Number(o.id));
  const lines =
    orderIds.length === 0
      ? []
      : await db
          .selectFrom('order_lines')
          .selectAll()
          .where('order_id', 'in', orderIds)
          .orderBy('order_id')
          .orderBy('line_no')
          .execute();
  const refunds = await db
    .selectFrom('refunds')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('refunded_at', '<=', asOf)
    .execute();
  const events = await db
    .selectFrom('events')
    .select(['type', 'event', 'properties', 'occurred_at'])
    .where('customer_id', '=', customerId)
    .where('occurred_at', '<=', asOf)
    .orderBy('occurred_at', 'desc')
    .limit(timelineLimit)
    .execute();

  const timeline: TimelineEntry[] = [
    ...orders.map((o) => ({
      at: Number(o.placed_at),
      kind: 'order' as const,
      orderId: Number(o.id),
      externalId: o.external_id,
      name: o.name ?? null,
      status: o.status,
      totalMinor: Number(o.total_minor),
      refundedMinor: Number(o.refunded_minor),
      currency: o.currency,
      placedOffset: Number(o.placed_offset),
    })),
    ...refunds.map((r) => ({
      at: Number(r.refunded_at),
      kind: 'refund' as const,
      orderId: r.order_id === null ? null : Number(r.order_id),
      amountMinor: Number(r.amount_minor),
      currency: r.currency,
      reason: r.reason,
    })),
    ...events.map((e) => ({
      at: Number(e.occurred_at),
      kind: 'event' as const,
      type: e.type,
      event: e.event,
      properties: parseProperties(e.properties),
    })),
  ].sort((a, b) => a.at - b.at);

  const rfm = await computeRfm(db, { asOf });
  const mine = rfm.customers.find((r) => r.customerId === customerId);
  const [persona] = await computePersonas(db, { asOf, customerIds: [customerId] });
  const lifecycle = (await computeLifecycle(db, { asOf, scores, customerIds: [customerId] })).customers[0];
  const own = scores?.get(customerId);
  const latestScore = await db
    .selectFrom('customer_scores')
    .select(['p_alive', 'p_alive_note', 'expected_purchases', 'clv', 'currency'])
    .where('customer_id', '=', customerId)
    .orderBy('as_of', 'desc')
    .orderBy('fit_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const stored = await customerSegmentsOf(db, customerId);
  // Read without importing loyalty/: the profile needs four columns of one row, not the program's logic.
  const loyalty = (
    await sql<{ tier: string; balance: number; pending: number; lifetime_earned: number }>`
      select tier, balance, pending, lifetime_earned from loyalty_members where customer_id = ${customerId}`.execute(db)
  ).rows[0];

  return {
    asOf,
    customer: {
      id: Number(c.id),
      source: c.source,
      email: c.email,
      phone: c.phone,
      firstName: c.first_name,
      lastName: c.last_name,
      birthday: c.birthday,
      country: c.country,
      city: c.city,
      firstSeenAt: Number(c.first_seen_at),
    },
    identities: identities.map((i) => ({ source: i.source, externalId: i.external_id })),
    consents: consents.map((k) => ({
      channel: k.channel,
      granted: Number(k.granted) === 1,
      updatedAt: Number(k.updated_at),
      source: k.source,
    })),
    anonymousIds: anonymous.map((a) => a.anonymous_id),
    revenue: revenue.map((r) => ({
      currency: r.currency,
      orders: Number(r.orders),
      revenueMinor: Number(r.net),
      revenue: toMajor(Number(r.net), r.currency),
    })),
    orders: orders.map((o) => ({
      id: Number(o.id),
      externalId: o.external_id,
      name: o.name ?? null,
      source: o.source,
      placedAt: Number(o.placed_at),
      placedOffset: Number(o.placed_offset),
      placedDate: o.placed_date,
      status: o.status,
      currency: o.currency,
      totalMinor: Number(o.total_minor),
      refundedMinor: Number(o.refunded_minor),
      lines: lines
        .filter((l) => Number(l.order_id) === Number(o.id))
        .map((l) => ({
          lineNo: l.line_no,
          sku: l.sku,
          title: l.title,
          quantity: l.quantity,
          totalMinor: Number(l.total_minor),
          kind: l.kind,
        })),
    })),
    timeline,
    rfm:
      mine && rfm.currency
        ? {
            recencyDays: mine.recencyDays,
            frequency: mine.frequency,
            monetaryMinor: mine.monetaryMinor,
            r: mine.r,
            f: mine.f,
            m: mine.m,
            group: mine.group,
            reason: mine.reason,
            currency: rfm.currency,
          }
        : null,
    persona: persona
      ? { persona: persona.persona, label: PERSONAS[persona.persona].label, reason: persona.reason, play: persona.play }
      : null,
    lifecycle: lifecycle ? { stage: lifecycle.stage, reason: lifecycle.reason } : null,
    scores: own
      ? {
          ...own,
          nextOrderDate: own.nextOrderAt ? new Date(own.nextOrderAt).toISOString().slice(0, 10) : null,
          currency: latestScore?.currency ?? null,
        }
      : latestScore && latestScore.p_alive === null
        ? // Stored without P(alive) (the fit cannot tell who has left): the expected purchases and CLV stand.
          {
            pAlive: null,
            expectedPurchases: latestScore.expected_purchases === null ? null : Number(latestScore.expected_purchases),
            clv: latestScore.clv === null ? null : Number(latestScore.clv),
            nextOrderAt: null,
            nextOrderDate: null,
            currency: latestScore.currency ?? null,
          }
        : null,
    predictionNote: own ? null : (latestScore?.p_alive_note ?? null),
    loyalty: loyalty
      ? {
          tier: loyalty.tier,
          balance: Number(loyalty.balance),
          pending: Number(loyalty.pending),
          lifetimeEarned: Number(loyalty.lifetime_earned),
        }
      : null,
    labels: stored.labels,
    segments: stored.segments,
    recommendations: await profileRecommendations(db, customerId),
  };
}
