import { findProgram, type MemberSummary, memberSummaries, type Program } from '../loyalty/index.js';
import { latestBuild, type Method, recommendationsBlock } from '../recommend/index.js';
import { formatMoney, readAmount } from '../shared/money.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import type { FlowTrigger, ProductsBlock } from './flow.js';
import type { MessageContext } from './render.js';
import { campaignDb } from './tables.js';

/**
 * The data blocks of a message context, read from the store as of the send: what the trigger carried
 * (`trigger`), recommendations (`products`), the newest catalogue items (`new_arrivals`) and the
 * member's loyalty status (`loyalty`). One `ContextLoader` serves a whole advance pass: what is the
 * same for everybody (the program, the build, the new arrivals) is read once, loyalty once for every
 * customer of the pass; only the recommendations and the trigger's own rows are read per message.
 */

/** Items a list block carries when the step does not say (`ProductsBlock.n`). */
export const DEFAULT_BLOCK_ITEMS = 4;
const DAY = 86_400_000;

/** One line of the trigger: an item left in the cart, viewed, ordered, due again. */
export type TriggerItem = {
  product_id: number | null;
  sku: string | null;
  title: string;
  url: string | null;
  image: string | null;
  /** The unit price, formatted in its currency with the currency's ISO 4217 exponent. */
  price: string | null;
  quantity: number;
};

/** `trigger` in a template: every key is present, null (or empty) when the trigger does not carry it. */
export type TriggerBlock = {
  /** The flow's trigger type: `event`, `order`, `points_expiring`, `replenishment_due` … */
  type: string;
  /** The event's name (`Checkout Started`), for event triggers. */
  event: string | null;
  /** The occurrence's day, `YYYY-MM-DD` (UTC). */
  date: string | null;
  /** The cart's or viewed items, the order's lines, the product due again; at most N. */
  items: TriggerItem[];
  /** How many items there were before the list was cut to N. */
  item_count: number;
  order: { name: string; date: string; total: string; currency: string; lines: TriggerItem[] } | null;
  points: number | null;
  expires_on: string | null;
  from_tier: string | null;
  to_tier: string | null;
  segment: string | null;
  product: TriggerItem | null;
  due_on: string | null;
  cycle_days: number | null;
  last_bought_on: string | null;
  /** Where to buy the product again: its storefront page (the store's address when it has none). */
  buy_again_url: string | null;
};

/** What the blocks of one message are built from. */
export interface ContextRequest {
  customerId: number;
  trigger: FlowTrigger | undefined;
  /** The journey's occurrence key (`event:<message id>`, `order:<id>` …) and its stored data. */
  occurrence: string | null;
  triggerData: string | null;
  products: ProductsBlock | undefined;
  /** Which blocks the template reads (all of them for a webhook). */
  wants: ReadonlySet<'trigger' | 'products' | 'new_arrivals' | 'loyalty'>;
}

export type ContextBlocks = Pick<
  MessageContext,
  'trigger' | 'products' | 'new_arrivals' | 'loyalty' | 'recommendations'
>;

/** The blocks a template source reads, by name (`products`, `trigger.items`, `loyalty.balance` …). */
export function blocksRead(...sources: ReadonlyArray<string | null | undefined>): ContextRequest['wants'] {
  const all = sources.filter((s): s is string => !!s).join('\n');
  const wants = new Set<'trigger' | 'products' | 'new_arrivals' | 'loyalty'>();
  for (const block of ['trigger', 'products', 'new_arrivals', 'loyalty'] as const) {
    if (new RegExp(`\\b${block}\\b`).test(all)) wants.add(block);
  }
  return wants;
}

/** An empty set of blocks: what a template that reads none of them is given. */
export function emptyBlocks(): ContextBlocks {
  return {
    trigger: emptyTrigger('none'),
    products: [],
    new_arrivals: [],
    loyalty: { member: false, balance: null, balance_value: null, tier: null, rewards_within_reach: [] },
    recommendations: { method: null, build_id: null, note: null },
  };
}

function emptyTrigger(type: string): TriggerBlock {
  return {
    type,
    event: null,
    date: null,
    items: [],
    item_count: 0,
    order: null,
    points: null,
    expires_on: null,
    from_tier: null,
    to_tier: null,
    segment: null,
    product: null,
    due_on: null,
    cycle_days: null,
    last_bought_on: null,
    buy_again_url: null,
  };
}

/** Reads the context blocks for the messages of one pass; `prefetch` the pass's customers first. */
export class ContextLoader {
  private program: Promise<Program | undefined> | undefined;
  private build: Promise<number | undefined> | undefined;
  private arrivals = new Map<number, Promise<MessageContext['new_arrivals']>>();
  private members = new Map<number, MemberSummary>();
  private fetched = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly now: number,
    private readonly options: { locale: string; storeUrl: string | null },
  ) {}

  /** Reads the loyalty status of these customers in one go (later `load`s of them read no more). */
  async prefetch(customerIds: readonly number[], db: Db = this.db): Promise<void> {
    const program = await this.loyaltyProgram(db);
    const missing = [...new Set(customerIds)].filter((id) => !this.fetched.has(id));
    for (const id of missing) this.fetched.add(id);
    if (!program || missing.length === 0) return;
    for (const [id, summary] of await memberSummaries(db, program, missing, this.now)) {
      this.members.set(id, summary);
    }
  }

  /** The blocks of one message; per-message rows are read through `db` (the caller's transaction). */
  async load(request: ContextRequest, db: Db = this.db): Promise<ContextBlocks> {
    const blocks = emptyBlocks();
    const n = request.products?.n ?? DEFAULT_BLOCK_ITEMS;
    if (request.wants.has('trigger')) {
      blocks.trigger = await this.triggerBlock(db, request, n);
    } else if (request.trigger) blocks.trigger.type = request.trigger.type;
    if (request.wants.has('loyalty')) {
      await this.prefetch([request.customerId], db);
      const m = this.members.get(request.customerId);
      if (m) {
        blocks.loyalty = {
          member: true,
          balance: m.available,
          balance_value: this.money(m.availableValueMinor, m.currency),
          tier: m.tier.name,
          rewards_within_reach: m.rewardsWithinReach
            .slice(0, n)
            .map((r) => ({ key: r.key, name: r.name, cost: r.cost, points_needed: r.pointsNeeded })),
        };
      }
    }
    if (request.wants.has('new_arrivals')) blocks.new_arrivals = await this.newArrivals(db, n);
    if (request.wants.has('products')) {
      const method: Method = request.products?.method ?? 'personal';
      const buildId = await this.buildId(db);
      if (buildId === undefined) {
        blocks.recommendations = {
          method,
          build_id: null,
          note: 'no recommendation build yet (comeback recommend --build): no products are shown',
        };
      } else {
        const r = await recommendationsBlock(db, request.customerId, {
          method,
          n,
          asOf: this.now,
          buildId,
          locale: this.options.locale,
        });
        blocks.products = r.items.map((i) => ({
          product_id: i.product_id,
          title: i.title,
          url: i.url,
          image: i.image_url,
          price: i.price,
          reason: i.reason,
        }));
        blocks.recommendations = { method, build_id: r.build_id, note: r.note };
      }
    }
    return blocks;
  }

  private loyaltyProgram(db: Db): Promise<Program | undefined> {
    this.program ??= findProgram(db);
    return this.program;
  }

  private buildId(db: Db): Promise<number | undefined> {
    this.build ??= latestBuild(db, this.now).then((b) => b?.id);
    return this.build;
  }

  private money(minor: number | null, currency: string | null): string | null {
    return minor === null || currency === null ? null : formatMoney(minor, currency, this.options.locale);
  }

  /**
   * The catalogue's newest items as of now: active, in stock (or untracked), ordered by when the
   * catalogue first priced them (the first `product_prices` row: a catalogue import or webhook saw
   * it), newest first. Products met only on orders have no such row and never count as arrivals.
   */
  private newArrivals(db: Db, n: number): Promise<MessageContext['new_arrivals']> {
    let found = this.arrivals.get(n);
    if (!found) {
      found = (async () => {
        const rows = await db
          .selectFrom('product_prices as pp')
          .innerJoin('products as p', 'p.id', 'pp.product_id')
          .select((eb) => [
            'p.id',
            'p.sku',
            'p.title',
            'p.url',
            'p.image_url',
            'p.price_minor',
            'p.currency',
            eb.fn.min('pp.observed_at').as('arrived_at'),
          ])
          .where('p.status', '=', 'active')
          .where((eb) => eb.or([eb('p.inventory_quantity', 'is', null), eb('p.inventory_quantity', '>', 0)]))
          .where('pp.observed_at', '<=', this.now)
          .groupBy(['p.id', 'p.sku', 'p.title', 'p.url', 'p.image_url', 'p.price_minor', 'p.currency'])
          .orderBy('arrived_at', 'desc')
          .orderBy('p.id', 'desc')
          .limit(n)
          .execute();
        return rows.map((r) => ({
          product_id: Number(r.id),
          title: r.title ?? r.sku,
          url: r.url,
          image: r.image_url,
          price: this.money(r.price_minor === null ? null : Number(r.price_minor), r.currency),
          arrived_on: new Date(Number(r.arrived_at)).toISOString().slice(0, 10),
        }));
      })();
      this.arrivals.set(n, found);
    }
    return found;
  }

  /** What the trigger carried: read from the occurrence's rows (the event, the order) and its stored data. */
  private async triggerBlock(db: Db, request: ContextRequest, n: number): Promise<TriggerBlock> {
    const block = emptyTrigger(request.trigger?.type ?? 'none');
    const occurrence = request.occurrence ?? '';
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = request.triggerData ? JSON.parse(request.triggerData) : {};
      if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
    } catch {}
    const cdb = campaignDb(db);
    if (occurrence.startsWith('event:')) {
      const event = await cdb
        .selectFrom('events')
        .select(['event', 'type', 'properties', 'occurred_at'])
        .where('message_id', '=', occurrence.slice('event:'.length))
        .executeTakeFirst();
      if (event) {
        block.event = event.event;
        block.date = day(Number(event.occurred_at));
        const props = parseObject(event.properties);
        if (event.type === 'segment_entered') {
          const kind = typeof props.kind === 'string' ? props.kind : null;
          block.segment = kind ? `${kind}:${event.event}` : event.event;
        }
        let raw: Record<string, unknown>[] = [];
        if (Array.isArray(props.products)) raw = props.products.filter(isObject);
        else if (productLike(props)) raw = [props];
        else if (event.type !== 'segment_entered') {
          // A checkout without its lines: the items the customer added in the day before it, since their last order.
          raw = await this.addedBefore(db, request.customerId, Number(event.occurred_at));
        }
        const currency = typeof props.currency === 'string' ? props.currency : null;
        const items = await this.resolveItems(db, raw, currency);
        block.item_count = items.length;
        block.items = items.slice(0, n);
      }
    } else if (occurrence.startsWith('order:')) {
      const order = await this.orderBlock(db, Number(occurrence.slice('order:'.length)));
      if (order) {
        block.date = order.date;
        block.item_count = order.lines.length;
        block.order = { ...order, lines: order.lines.slice(0, n) };
        block.items = block.order.lines;
      }
    }
    if (typeof data.points === 'number') block.points = data.points;
    if (typeof data.expires_on === 'string') block.expires_on = data.expires_on;
    if (typeof data.from_tier === 'string') block.from_tier = data.from_tier;
    if (typeof data.to_tier === 'string') block.to_tier = data.to_tier;
    if (typeof data.due_on === 'string') block.due_on = block.date = data.due_on;
    if (typeof data.cycle_days === 'number') block.cycle_days = data.cycle_days;
    if (typeof data.last_bought_at === 'number') block.last_bought_on = day(data.last_bought_at);
    if (typeof data.sku === 'string') {
      const [product] = await this.resolveItems(db, [{ sku: data.sku }], null);
      if (product) {
        block.product = product;
        block.items = [product];
        block.item_count = 1;
        block.buy_again_url = product.url ?? this.options.storeUrl;
      }
    }
    if (block.date === null && typeof data.at === 'number') block.date = day(data.at);
    return block;
  }

  /** `Product Added` events of the customer in the day up to `at`, after their last order. */
  private async addedBefore(db: Db, customerId: number, at: number): Promise<Record<string, unknown>[]> {
    const cdb = campaignDb(db);
    const last = await cdb
      .selectFrom('orders')
      .select((eb) => eb.fn.max('placed_at').as('at'))
      .where('customer_id', '=', customerId)
      .where('status', 'in', REVENUE_STATUSES)
      .where('placed_at', '<=', at)
      .executeTakeFirst();
    const since = Math.max(at - DAY, last?.at == null ? Number.NEGATIVE_INFINITY : Number(last.at) + 1);
    const rows = await cdb
      .selectFrom('events')
      .select(['properties'])
      .where('customer_id', '=', customerId)
      .where('event', '=', 'Product Added')
      .where('occurred_at', '>=', since)
      .where('occurred_at', '<=', at)
      .orderBy('occurred_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => parseObject(r.properties)).filter(productLike);
  }

  /**
   * Segment e-commerce product objects (`sku`, else `product_id`, read as the catalogue's SKU as the
   * recommendations read events; `name`, `price` in major units, `quantity`, `url`, `image_url`) as
   * trigger items, completed from the catalogue by SKU (the event's own price,
   * the one the customer saw, wins over the catalogue's). Items that name no product are left out.
   */
  private async resolveItems(
    db: Db,
    raw: readonly Record<string, unknown>[],
    eventCurrency: string | null,
  ): Promise<TriggerItem[]> {
    const keys = raw.map((p) => {
      const v = [p.sku, p.product_id].find((x) => typeof x === 'string' || typeof x === 'number');
      return v === undefined ? undefined : String(v);
    });
    const skus = [...new Set(keys.filter((k): k is string => k !== undefined))];
    const found =
      skus.length === 0
        ? []
        : await db
            .selectFrom('products')
            .select(['id', 'sku', 'title', 'url', 'image_url', 'price_minor', 'currency'])
            .where('sku', 'in', skus)
            .execute();
    const bySku = new Map(found.map((p) => [p.sku, p]));
    const items: TriggerItem[] = [];
    raw.forEach((p, i) => {
      const key = keys[i];
      const product = key === undefined ? undefined : bySku.get(key);
      const title = typeof p.name === 'string' && p.name ? p.name : (product?.title ?? product?.sku ?? key);
      if (title === undefined) return;
      const currency =
        (typeof p.currency === 'string' ? p.currency : null) ?? eventCurrency ?? product?.currency ?? null;
      let priceMinor: number | null = null;
      if ((typeof p.price === 'number' || typeof p.price === 'string') && currency) {
        const read = readAmount(String(p.price), currency, 'point');
        if (read.ok) priceMinor = read.minor;
      } else if (product?.price_minor != null && (product.currency === currency || currency === null)) {
        priceMinor = Number(product.price_minor);
      }
      const quantity =
        typeof p.quantity === 'number' && Number.isInteger(p.quantity) && p.quantity > 0 ? p.quantity : 1;
      items.push({
        product_id: product ? Number(product.id) : null,
        sku: product?.sku ?? key ?? null,
        title,
        url: (typeof p.url === 'string' ? p.url : null) ?? product?.url ?? null,
        image: (typeof p.image_url === 'string' ? p.image_url : null) ?? product?.image_url ?? null,
        price: this.money(priceMinor, currency ?? product?.currency ?? null),
        quantity,
      });
    });
    return items;
  }

  /** An order as a template shows it: its name, local date, total and product lines. */
  private async orderBlock(db: Db, orderId: number): Promise<NonNullable<TriggerBlock['order']> | undefined> {
    const order = await db
      .selectFrom('orders')
      .select(['id', 'name', 'external_id', 'placed_date', 'currency', 'total_minor'])
      .where('id', '=', orderId)
      .executeTakeFirst();
    if (!order) return undefined;
    const lines = await db
      .selectFrom('order_lines as l')
      .leftJoin('products as p', 'p.id', 'l.product_id')
      .select([
        'l.product_id',
        'l.sku',
        'l.title',
        'l.quantity',
        'l.unit_price_minor',
        'p.title as product_title',
        'p.url',
        'p.image_url',
      ])
      .where('l.order_id', '=', orderId)
      .where('l.kind', '=', 'product')
      .orderBy('l.line_no')
      .execute();
    return {
      name: order.name ?? order.external_id,
      date: order.placed_date,
      total: this.money(Number(order.total_minor), order.currency)!,
      currency: order.currency,
      lines: lines.map((l) => ({
        product_id: l.product_id === null ? null : Number(l.product_id),
        sku: l.sku,
        title: l.title ?? l.product_title ?? l.sku ?? 'item',
        url: l.url,
        image: l.image_url,
        price: this.money(Number(l.unit_price_minor), order.currency),
        quantity: Number(l.quantity),
      })),
    };
  }
}

/** The blocks a CLI preview or a test renders, for one customer as of `now` (no journey: `trigger` is empty). */
export async function previewBlocks(
  db: Db,
  customerId: number,
  now: number,
  options: { locale: string; storeUrl: string | null; products?: ProductsBlock },
): Promise<ContextBlocks> {
  return new ContextLoader(db, now, options).load({
    customerId,
    trigger: undefined,
    occurrence: null,
    triggerData: null,
    products: options.products,
    wants: new Set(['products', 'new_arrivals', 'loyalty']),
  });
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const productLike = (p: Record<string, unknown>) =>
  typeof p.sku === 'string' || typeof p.product_id === 'string' || typeof p.product_id === 'number';

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
