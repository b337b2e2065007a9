import type { ProductStatus } from '../../store/schema.js';
import { catalogueCurrency, type ProductInput } from '../products.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  cell,
  FieldError,
  type Format,
  integer,
  type ParseContext,
  type ParsedItem,
  present,
  readHeadedRows,
} from './format.js';

/** `Status` of a Shopify product; without the column, `Published` true is active and false is draft. */
const STATUSES: readonly ProductStatus[] = ['active', 'draft', 'archived'];

interface Group {
  handle: string;
  line: number;
  title?: string;
  vendor?: string;
  productType?: string;
  category?: string;
  tags: string[];
  status?: ProductStatus;
  images: Array<{ position: number; src: string }>;
  variants: Array<Omit<ProductInput, 'title' | 'handle' | 'tags' | 'status'> & { line: number; options: string[] }>;
  rows: string[][];
}

/**
 * Shopify's products export (Products → Export): one row per variant, the product's own fields on its
 * first row only, and extra rows per image that carry just `Handle`, `Image Src` and `Image Position`.
 * Each variant becomes a catalogue item keyed by `Variant SKU` (or `handle/option values` when it
 * has none). The export states no currency: `--currency`, else the store's order currency.
 */
export const shopifyProducts: Format = {
  name: 'shopify-products',
  layout: 'csv',
  catalogue: true,
  description: 'Shopify products export (one row per variant, extra rows per image)',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const groups = new Map<string, Group>();
    const currency = catalogueCurrency(ctx);
    yield* readHeadedRows(
      rows,
      ctx.file,
      (header) => ({
        handle: header.require('Handle'),
        title: header.require('Title'),
        vendor: header.find('Vendor'),
        type: header.find('Type'),
        category: header.find('Product Category', 'Product category'),
        tags: header.find('Tags'),
        published: header.find('Published'),
        status: header.find('Status'),
        option1: header.find('Option1 Value'),
        option2: header.find('Option2 Value'),
        option3: header.find('Option3 Value'),
        sku: header.find('Variant SKU'),
        tracker: header.find('Variant Inventory Tracker'),
        qty: header.find('Variant Inventory Qty', 'Inventory quantity', 'Variant Inventory Quantity'),
        price: header.require('Variant Price'),
        compareAt: header.find('Variant Compare At Price'),
        image: header.find('Image Src'),
        position: header.find('Image Position'),
        variantImage: header.find('Variant Image'),
      }),
      (f, line, c) => {
        const handle = cell(f, c.handle);
        if (handle === '') throw new FieldError('Handle', 'is empty');
        let group = groups.get(handle);
        if (!group) {
          const title = cell(f, c.title);
          if (title === '') throw new FieldError('Title', 'is empty on the first row of the product');
          group = { handle, line, tags: [], images: [], variants: [], rows: [] };
          groups.set(handle, group);
          group.title = title;
          group.vendor = present(cell(f, c.vendor));
          group.productType = present(cell(f, c.type));
          const category = cell(f, c.category);
          group.category = present(category.split('>').pop()?.trim() ?? '') ?? group.productType;
          group.tags = splitTags(cell(f, c.tags));
          group.status = statusOf(cell(f, c.status), cell(f, c.published));
        }
        group.rows.push(f);
        const src = cell(f, c.image);
        if (src !== '') {
          const position = integer(cell(f, c.position), 'Image Position', group.images.length + 1);
          group.images.push({ position, src });
        }
        const options = [cell(f, c.option1), cell(f, c.option2), cell(f, c.option3)].filter(
          (o) => o !== '' && o !== 'Default Title',
        );
        const priceText = cell(f, c.price);
        const sku = cell(f, c.sku);
        // An image row carries no variant fields at all.
        if (priceText === '' && sku === '' && options.length === 0) return undefined;
        const qtyText = cell(f, c.qty);
        const tracked = c.tracker === undefined || cell(f, c.tracker) !== '';
        const compareAt = amount(cell(f, c.compareAt), 'Variant Compare At Price', currency, -1);
        group.variants.push({
          line,
          sku: sku || [handle, ...options].join('/'),
          options,
          priceMinor: amount(priceText, 'Variant Price', currency),
          compareAtMinor: compareAt > 0 ? compareAt : undefined,
          currency,
          inventoryQuantity: tracked && qtyText !== '' ? integer(qtyText, 'Variant Inventory Qty') : undefined,
          imageUrl: present(cell(f, c.variantImage)),
          url: `/products/${handle}`,
        });
        return undefined;
      },
    );
    const seen = new Map<string, number>();
    for (const group of groups.values()) {
      if (group.variants.length === 0) {
        yield {
          kind: 'reject',
          line: group.line,
          field: 'Variant Price',
          message: 'the product has no variant row',
          rows: group.rows,
        };
        continue;
      }
      const image = [...group.images].sort((a, b) => a.position - b.position)[0]?.src;
      for (const { line, options, ...variant } of group.variants) {
        const earlier = seen.get(variant.sku);
        if (earlier !== undefined) {
          yield {
            kind: 'reject',
            line,
            field: 'Variant SKU',
            message: `"${variant.sku}" is also on line ${earlier}`,
            rows: [],
          };
          continue;
        }
        seen.set(variant.sku, line);
        const product: ProductInput = {
          ...variant,
          title: options.length > 0 ? `${group.title} - ${options.join(' / ')}` : group.title!,
          handle: group.handle,
          category: group.category,
          productType: group.productType,
          vendor: group.vendor,
          tags: group.tags,
          status: group.status!,
          imageUrl: variant.imageUrl ?? image,
        };
        yield { kind: 'product', line, product };
      }
    }
  },
};

function statusOf(status: string, published: string): ProductStatus {
  if (status !== '') {
    const value = status.toLowerCase();
    const known = STATUSES.find((s) => s === value);
    if (!known) throw new FieldError('Status', `"${status}" is not one of ${STATUSES.join(', ')}`);
    return known;
  }
  if (published === '') return 'active';
  const value = published.toLowerCase();
  if (value === 'true') return 'active';
  if (value === 'false') return 'draft';
  throw new FieldError('Published', `"${published}" is not true or false`);
}

/** `a, b ,c` → `['a', 'b', 'c']`. */
export function splitTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}
