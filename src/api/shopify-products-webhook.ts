import { ComebackError } from '../errors.js';
import { type ProductInput, ProductWriter } from '../ingest/index.js';
import { parseAmount } from '../shared/money.js';
import type { Db, ProductStatus } from '../store/index.js';

/** The topics this module applies. */
export const SHOPIFY_PRODUCT_TOPICS = ['products/create', 'products/update'];

type Json = Record<string, unknown>;
const object = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(object).filter((x): x is Json => x !== undefined) : []);
const text = (v: unknown): string | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
};
const bad = (field: string, message: string) => new ComebackError('bad_input', message, { location: { field } });

/**
 * Shopify's product payload (REST Admin `Product`: `variants[]` with `sku`, `price`, `compare_at_price`,
 * `inventory_quantity`, `inventory_management`; `images[]`; `status`; `tags` as one comma-separated
 * string) as catalogue items, one per variant, keyed as the products export keys them. Shopify states
 * no currency on products: prices are in `currency` (the store's).
 */
export function shopifyProductItems(payload: Json, currency: string): ProductInput[] {
  const handle = text(payload.handle);
  const title = text(payload.title);
  if (!handle) throw bad('handle', 'is missing');
  if (!title) throw bad('title', 'is missing');
  const statusText = (text(payload.status) ?? 'active').toLowerCase();
  if (statusText !== 'active' && statusText !== 'draft' && statusText !== 'archived') {
    throw bad('status', `"${statusText}" is not one of active, draft, archived`);
  }
  const status: ProductStatus = statusText;
  const tags = (text(payload.tags) ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const images = list(payload.images).sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0));
  const imageById = new Map(images.map((i) => [text(i.id), text(i.src)]));
  const image = text(images[0]?.src) ?? text(object(payload.image)?.src);
  const variants = list(payload.variants);
  if (variants.length === 0) throw bad('variants', 'the product has no variant');
  return variants.map((v, i) => {
    const field = (name: string) => `variants[${i}].${name}`;
    const options = [v.option1, v.option2, v.option3]
      .map(text)
      .filter((o): o is string => !!o && o !== 'Default Title');
    const price = text(v.price);
    if (price === undefined) throw bad(field('price'), 'is missing');
    const priceMinor = parseAmount(price, currency);
    if (priceMinor === undefined) throw bad(field('price'), `"${price}" is not an amount`);
    const compareText = text(v.compare_at_price);
    const compareAt = compareText === undefined ? undefined : parseAmount(compareText, currency);
    if (compareText !== undefined && compareAt === undefined) {
      throw bad(field('compare_at_price'), `"${compareText}" is not an amount`);
    }
    const tracked = v.inventory_management !== null && v.inventory_management !== undefined;
    const qty = v.inventory_quantity;
    if (tracked && qty !== undefined && !Number.isInteger(qty))
      throw bad(field('inventory_quantity'), 'is not a whole number');
    return {
      sku: text(v.sku) ?? [handle, ...options].join('/'),
      title: options.length > 0 ? `${title} - ${options.join(' / ')}` : title,
      handle,
      category: text(object(payload.category)?.name) ?? text(payload.product_type),
      productType: text(payload.product_type),
      vendor: text(payload.vendor),
      tags,
      status,
      imageUrl: imageById.get(text(v.image_id)) ?? image,
      url: `/products/${handle}`,
      priceMinor,
      compareAtMinor: compareAt !== undefined && compareAt > 0 ? compareAt : undefined,
      currency,
      inventoryQuantity: tracked && typeof qty === 'number' ? qty : undefined,
    };
  });
}

/**
 * Applies a `products/create` or `products/update` webhook: the variants are upserted like a products
 * export row (a price change adds a price-history row). The currency is the store's order currency,
 * else that of the products already stored; a store with neither answers 400.
 */
export async function applyShopifyProductWebhook(trx: Db, payload: Json, now: number): Promise<void> {
  const orders = await trx.selectFrom('orders').select('currency').distinct().limit(2).execute();
  let currency = orders.length === 1 ? orders[0]!.currency : undefined;
  if (!currency) {
    const products = await trx
      .selectFrom('products')
      .select('currency')
      .where('currency', 'is not', null)
      .distinct()
      .limit(2)
      .execute();
    if (products.length === 1) currency = products[0]!.currency ?? undefined;
  }
  if (!currency) {
    throw bad('variants', "the store's currency is not known yet (no orders in one currency): import orders first");
  }
  await new ProductWriter(trx, 'shopify-webhook', now).write(shopifyProductItems(payload, currency));
}
