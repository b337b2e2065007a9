import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { resolveCustomerId } from './profile.queries.js';

/**
 * The customer a person names on the command line: `#17` (Comeback's internal id), an e-mail,
 * `source:external-id`, or a bare id that may be either the store's own id (`17850` for
 * `online-retail:17850`) or the internal one. A bare id that matches one customer is taken; one that
 * matches several is refused (`bad_input`) with the ways to say each; none is `not_found`.
 */
export async function resolveCustomerRef(db: Db, ref: string): Promise<number> {
  const text = ref.trim();
  if (/^#\d+$/.test(text)) return resolveCustomerId(db, text.slice(1));
  if (text === '' || text.includes('@') || text.includes(':')) return resolveCustomerId(db, text);
  const [internal, identities] = await Promise.all([
    /^\d+$/.test(text) && Number.isSafeInteger(Number(text))
      ? db.selectFrom('customers').select('id').where('id', '=', Number(text)).executeTakeFirst()
      : undefined,
    db
      .selectFrom('customer_identities')
      .select(['customer_id', 'source', 'external_id'])
      .where('external_id', '=', text)
      .orderBy('source')
      .execute(),
  ]);
  const ways = new Map<number, string[]>();
  if (internal) ways.set(Number(internal.id), [`#${internal.id}`]);
  for (const identity of identities) {
    const id = Number(identity.customer_id);
    ways.set(id, [...(ways.get(id) ?? []), `${identity.source}:${identity.external_id}`]);
  }
  if (ways.size === 1) return [...ways.keys()][0]!;
  if (ways.size === 0) {
    throw new ComebackError(
      'not_found',
      `no customer ${JSON.stringify(ref)} (give the store's id, an e-mail, source:external-id or #internal-id)`,
    );
  }
  const options = [...ways.values()].map((names) => names[0]).join(', ');
  throw new ComebackError('bad_input', `${ref} names ${ways.size} customers; say which: ${options}`);
}
