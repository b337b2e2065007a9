import { type RawBuilder, sql } from 'kysely';

/**
 * The store's own id of a customer, as a scalar SQL expression over a customer id column qualified by
 * its table (`sql.ref('m.customer_id')`: a bare `customer_id` would name the subquery's own column): the
 * external id of the customer's first identity by source, then by id (the rule of the CLI's exports), or
 * null for a customer known only by e-mail. People know a customer by the store's id (Online Retail's
 * `13173`), not by Comeback's internal `#42`.
 */
export function storeIdOf(customerId: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql<string | null>`(select i.external_id from customer_identities i where i.customer_id = ${customerId}
    order by i.source, i.external_id limit 1)`;
}
