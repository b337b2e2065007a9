import { cafe24 } from './cafe24.js';
import { cdnow } from './cdnow.js';
import { csv } from './csv.js';
import type { Format } from './format.js';
import { onlineRetail } from './online-retail.js';
import { shopify } from './shopify.js';
import { shopifyProducts } from './shopify-products.js';
import { smartstore } from './smartstore.js';
import { woocommerce } from './woocommerce.js';
import { woocommerceProducts } from './woocommerce-products.js';

/** Every import format by the name `--format` takes. */
export const FORMATS = {
  shopify,
  woocommerce,
  'online-retail': onlineRetail,
  cdnow,
  csv,
  'shopify-products': shopifyProducts,
  'woocommerce-products': woocommerceProducts,
  cafe24,
  smartstore,
} satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;

export function isFormatName(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}

export { CSV_FIELDS } from './csv.js';
