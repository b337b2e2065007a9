import { currencyExponent } from '../shared/money.js';
import type { Db } from '../store/index.js';

/** How a store knows a customer, for exports: the source and id it uses, and the e-mail. */
export interface StoreCustomer {
  /** The import format or API source the id belongs to (`online-retail`, `shopify`, …); '' when none. */
  source: string;
  /** The store's own customer id; '' for a customer known only by e-mail. */
  storeId: string;
  email: string;
  /** Every store id of the customer as `source:id`, by source then id (a merged customer has several). */
  identities: string[];
}

const CHUNK = 500;

/**
 * The store's id (source and external id; the alphabetically first when a customer has several, all of
 * them in `identities`) and e-mail of each customer, by Comeback's internal id. Exports put these beside the internal id, so a
 * file can be matched back to the store's own records.
 */
export async function storeCustomers(db: Db, ids: readonly number[]): Promise<(id: number) => StoreCustomer> {
  const found = new Map<number, StoreCustomer>();
  const unique = [...new Set(ids)];
  for (let at = 0; at < unique.length; at += CHUNK) {
    const chunk = unique.slice(at, at + CHUNK);
    const [customers, identities] = await Promise.all([
      db.selectFrom('customers').select(['id', 'email']).where('id', 'in', chunk).execute(),
      db
        .selectFrom('customer_identities')
        .select(['customer_id', 'source', 'external_id'])
        .where('customer_id', 'in', chunk)
        .orderBy('customer_id')
        .orderBy('source')
        .orderBy('external_id')
        .execute(),
    ]);
    for (const c of customers) {
      found.set(Number(c.id), { source: '', storeId: '', email: c.email ?? '', identities: [] });
    }
    for (const i of identities) {
      const entry = found.get(Number(i.customer_id));
      if (!entry) continue;
      if (entry.storeId === '') Object.assign(entry, { source: i.source, storeId: i.external_id });
      entry.identities.push(`${i.source}:${i.external_id}`);
    }
  }
  return (id) => found.get(id) ?? { source: '', storeId: '', email: '', identities: [] };
}

/**
 * Minor units as a decimal string in major units, exactly (no floating point): `529809, 'GBP'` →
 * `'5298.09'`, `1500, 'KRW'` → `'1500'`, `-5, 'USD'` → `'-0.05'`. The exponent is ISO 4217's.
 */
export function majorAmount(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(minor))).padStart(exponent + 1, '0');
  return exponent === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** The header of the store's columns in a CSV export, in the order `storeColumns` writes them. */
export const STORE_COLUMNS = ['source', 'store_id', 'email'] as const;

/** A customer's store columns for one CSV row (empty when unknown). */
export function storeColumns(customer: StoreCustomer | undefined): string[] {
  return [customer?.source ?? '', customer?.storeId ?? '', customer?.email ?? ''];
}
