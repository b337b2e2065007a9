import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import type { ProductStatus } from '../store/schema.js';
import type { ParseContext } from './formats/format.js';

/** One sellable item (a variant) of a catalogue export or webhook, keyed by SKU. */
export interface ProductInput {
  sku: string;
  /** The product's title, with the variant's option values when it has several (`Tee - Blue / M`). */
  title: string;
  /** The product the variant belongs to (Shopify handle, WooCommerce parent). */
  handle?: string;
  category?: string;
  productType?: string;
  vendor?: string;
  tags: string[];
  status: ProductStatus;
  imageUrl?: string;
  /** The storefront path or URL of the product. */
  url?: string;
  priceMinor: number;
  compareAtMinor?: number;
  currency: string;
  /** Undefined when the store does not track inventory for the item. */
  inventoryQuantity?: number;
}

/** What a catalogue write changed. */
export interface CatalogueStats {
  /** Items read. */
  products: number;
  created: number;
  /** Existing items whose catalogue fields changed. */
  changed: number;
  /** Price-history rows added (a new price or compare-at price). */
  prices: number;
}

const CHUNK = 400;

/**
 * Upserts catalogue items by SKU; an item whose fields are unchanged is not written, and a price row
 * is added only when the price, compare-at price or currency differs from the latest one, so writing
 * the same export twice changes nothing. Products first met on orders gain the catalogue fields.
 */
export class ProductWriter {
  readonly stats: CatalogueStats = { products: 0, created: 0, changed: 0, prices: 0 };

  constructor(
    private readonly db: Db,
    private readonly source: string,
    private readonly now: number,
  ) {}

  async write(items: readonly ProductInput[]): Promise<void> {
    const bySku = new Map<string, ProductInput>();
    for (const item of items) bySku.set(item.sku, item);
    const skus = [...bySku.keys()];
    this.stats.products += skus.length;
    for (let start = 0; start < skus.length; start += CHUNK) {
      const chunk = skus.slice(start, start + CHUNK);
      const existing = await this.db.selectFrom('products').selectAll().where('sku', 'in', chunk).execute();
      const known = new Map(existing.map((row) => [row.sku, row]));
      const ids = new Map<string, number>();
      for (const sku of chunk) {
        const item = bySku.get(sku)!;
        const fields = {
          title: item.title,
          category: item.category ?? null,
          price_minor: item.priceMinor,
          currency: item.currency,
          handle: item.handle ?? null,
          image_url: item.imageUrl ?? null,
          url: item.url ?? null,
          vendor: item.vendor ?? null,
          product_type: item.productType ?? null,
          tags: JSON.stringify(item.tags),
          status: item.status,
          inventory_quantity: item.inventoryQuantity ?? null,
          compare_at_minor: item.compareAtMinor ?? null,
          catalogue_source: this.source,
        };
        const row = known.get(sku);
        if (!row) {
          const created = await this.db
            .insertInto('products')
            .values({ sku, ...fields, updated_at: this.now })
            .returning('id')
            .executeTakeFirstOrThrow();
          ids.set(sku, Number(created.id));
          this.stats.created += 1;
          continue;
        }
        ids.set(sku, Number(row.id));
        const differs = (Object.keys(fields) as Array<keyof typeof fields>).some((key) => {
          const before = row[key];
          const after = fields[key];
          return (before === null ? null : typeof after === 'number' ? Number(before) : before) !== after;
        });
        if (!differs) continue;
        await this.db
          .updateTable('products')
          .set({ ...fields, updated_at: this.now })
          .where('id', '=', row.id)
          .execute();
        this.stats.changed += 1;
      }
      await this.recordPrices(chunk, bySku, ids);
    }
  }

  private async recordPrices(chunk: string[], bySku: Map<string, ProductInput>, ids: Map<string, number>) {
    const productIds = [...ids.values()];
    const rows = await this.db
      .selectFrom('product_prices')
      .select(['product_id', 'price_minor', 'compare_at_minor', 'currency', 'observed_at'])
      .where('product_id', 'in', productIds)
      .orderBy('observed_at', 'desc')
      .execute();
    const latest = new Map<number, (typeof rows)[number]>();
    for (const row of rows) if (!latest.has(Number(row.product_id))) latest.set(Number(row.product_id), row);
    for (const sku of chunk) {
      const item = bySku.get(sku)!;
      const id = ids.get(sku)!;
      const last = latest.get(id);
      const compareAt = item.compareAtMinor ?? null;
      if (
        last &&
        Number(last.price_minor) === item.priceMinor &&
        (last.compare_at_minor === null ? null : Number(last.compare_at_minor)) === compareAt &&
        last.currency === item.currency
      ) {
        continue;
      }
      await this.db
        .insertInto('product_prices')
        .values({
          product_id: id,
          observed_at: this.now,
          price_minor: item.priceMinor,
          compare_at_minor: compareAt,
          currency: item.currency,
          source: this.source,
        })
        .onConflict((oc) =>
          oc.columns(['product_id', 'observed_at']).doUpdateSet((eb) => ({
            price_minor: eb.ref('excluded.price_minor'),
            compare_at_minor: eb.ref('excluded.compare_at_minor'),
            currency: eb.ref('excluded.currency'),
          })),
        )
        .execute();
      this.stats.prices += 1;
    }
  }
}

/**
 * The currency of a catalogue export that states none (Shopify's and WooCommerce's do not): the one the
 * store's orders are in. Throws a usage error when the orders use several or there are none.
 */
export async function storeCurrency(db: Db): Promise<string> {
  const rows = await db.selectFrom('orders').select('currency').distinct().limit(2).execute();
  if (rows.length === 1) return rows[0]!.currency;
  throw new ComebackError(
    'usage',
    rows.length === 0
      ? '--currency: the products export states no currency and the store has no orders to take it from'
      : '--currency: the products export states no currency and the store sells in several; name one',
  );
}

/** The currency a catalogue parser prices in: the import fills `ctx.currency` before parsing (see storeCurrency). */
export function catalogueCurrency(ctx: ParseContext): string {
  if (!ctx.currency) throw new ComebackError('usage', '--currency: the products export states no currency');
  return ctx.currency;
}
