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
import { splitTags } from './shopify-products.js';

interface WooRow {
  line: number;
  id: string;
  type: string;
  sku: string;
  name: string;
  status: ProductStatus;
  parent: string;
  priceMinor: number | undefined;
  compareAtMinor: number | undefined;
  inventory: number | undefined;
  category: string | undefined;
  tags: string[];
  image: string | undefined;
  url: string | undefined;
  attributes: string[];
  fields: string[];
}

/**
 * WooCommerce's built-in product export (Products → Export): one row per product and one per
 * variation, `Type` simple / variable / variation / grouped / external, variations naming their parent
 * in `Parent` as `id:N` or by SKU. Simple, external and variation rows are catalogue items, keyed by
 * `SKU` or `wc-ID` as the WooCommerce order importer keys a line without a SKU; a variation inherits
 * its parent's name, categories, tags and image when its own are empty. `Published` 1 is active,
 * 0 and -1 (private, draft) are draft. The export states no currency.
 */
export const woocommerceProducts: Format = {
  name: 'woocommerce-products',
  layout: 'csv',
  catalogue: true,
  description: 'WooCommerce product export (one row per product and per variation)',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    const currency = catalogueCurrency(ctx);
    const all: WooRow[] = [];
    yield* readHeadedRows(
      rows,
      ctx.file,
      (header, fields) => ({
        id: header.require('ID'),
        type: header.require('Type'),
        sku: header.find('SKU'),
        name: header.require('Name'),
        published: header.find('Published'),
        inStock: header.find('In stock?'),
        stock: header.find('Stock'),
        sale: header.find('Sale price'),
        regular: header.require('Regular price'),
        categories: header.find('Categories'),
        tags: header.find('Tags'),
        images: header.find('Images'),
        parent: header.find('Parent'),
        url: header.find('External URL'),
        attributes: fields.flatMap((name, i) => (/^attribute \d+ value\(s\)$/i.test(name.trim()) ? [i] : [])),
      }),
      (f, line, c) => {
        const id = cell(f, c.id);
        if (id === '') throw new FieldError('ID', 'is empty');
        const type = cell(f, c.type).toLowerCase().split(',')[0]!.trim();
        const regular = amount(cell(f, c.regular), 'Regular price', currency, -1);
        const sale = amount(cell(f, c.sale), 'Sale price', currency, -1);
        const stockText = cell(f, c.stock);
        const inStock = cell(f, c.inStock);
        const firstImage = cell(f, c.images).split(',')[0]?.trim() ?? '';
        all.push({
          line,
          id,
          type,
          sku: cell(f, c.sku),
          name: cell(f, c.name),
          status: statusOf(cell(f, c.published)),
          parent: cell(f, c.parent),
          priceMinor: sale >= 0 ? sale : regular >= 0 ? regular : undefined,
          compareAtMinor: sale >= 0 && regular > sale ? regular : undefined,
          inventory: stockText !== '' ? integer(stockText, 'Stock') : inStock === '0' ? 0 : undefined,
          category: present(cell(f, c.categories).split(',')[0]!.split('>').pop()!.trim()),
          tags: splitTags(cell(f, c.tags)),
          image: present(firstImage),
          url: present(cell(f, c.url)),
          attributes: c.attributes.map((i) => cell(f, i)).filter(Boolean),
          fields: f,
        });
        return undefined;
      },
    );
    const parents = new Map<string, WooRow>();
    for (const r of all) {
      parents.set(`id:${r.id}`, r);
      if (r.sku) parents.set(r.sku, r);
    }
    const seen = new Map<string, number>();
    for (const r of all) {
      if (r.type === 'variable' || r.type === 'grouped') continue;
      const parent = r.type === 'variation' ? parents.get(r.parent) : undefined;
      if (r.type === 'variation' && !parent) {
        yield {
          kind: 'reject',
          line: r.line,
          field: 'Parent',
          message: `"${r.parent}" is not a product of the file`,
          rows: [r.fields],
        };
        continue;
      }
      if (r.priceMinor === undefined) {
        yield { kind: 'reject', line: r.line, field: 'Regular price', message: 'is empty', rows: [r.fields] };
        continue;
      }
      const sku = r.sku || `wc-${r.id}`;
      const earlier = seen.get(sku);
      if (earlier !== undefined) {
        yield {
          kind: 'reject',
          line: r.line,
          field: 'SKU',
          message: `"${sku}" is also on line ${earlier}`,
          rows: [r.fields],
        };
        continue;
      }
      seen.set(sku, r.line);
      const baseName = r.name || parent?.name || '';
      if (baseName === '') {
        yield { kind: 'reject', line: r.line, field: 'Name', message: 'is empty', rows: [r.fields] };
        continue;
      }
      const title = parent && !r.name ? `${baseName} - ${r.attributes.join(' / ')}` : baseName;
      const product: ProductInput = {
        sku,
        title,
        handle: parent ? `wc-${parent.id}` : `wc-${r.id}`,
        category: r.category ?? parent?.category,
        productType: r.type,
        tags: r.tags.length > 0 ? r.tags : (parent?.tags ?? []),
        // A variation of a draft product is not on sale either.
        status: parent && parent.status !== 'active' ? parent.status : r.status,
        imageUrl: r.image ?? parent?.image,
        url: r.url,
        priceMinor: r.priceMinor,
        compareAtMinor: r.compareAtMinor,
        currency,
        inventoryQuantity: r.inventory,
      };
      yield { kind: 'product', line: r.line, product };
    }
  },
};

function statusOf(published: string): ProductStatus {
  if (published === '' || published === '1') return 'active';
  if (published === '0' || published === '-1') return 'draft';
  throw new FieldError('Published', `"${published}" is not 1, 0 or -1`);
}
