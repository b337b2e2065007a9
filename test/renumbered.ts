import type { Db } from '../src/store/index.js';

/**
 * Copies the customers of `from` (and their identities) into the empty store `to` in the reverse
 * order of their ids, so the same customers get other ids there, as SQLite and PostgreSQL give them
 * on one import. Importing the same file into `to` afterwards attaches the orders to these customers.
 * Returns the new id of each old one.
 */
export async function copyCustomersReversed(from: Db, to: Db): Promise<Map<number, number>> {
  const customers = await from.selectFrom('customers').selectAll().orderBy('id', 'desc').execute();
  const identities = await from.selectFrom('customer_identities').selectAll().execute();
  const renumbered = new Map<number, number>();
  for (const { id, ...row } of customers) {
    const inserted = await to.insertInto('customers').values(row).returning('id').executeTakeFirstOrThrow();
    renumbered.set(Number(id), Number(inserted.id));
  }
  for (const { customer_id, ...row } of identities) {
    await to
      .insertInto('customer_identities')
      .values({ ...row, customer_id: renumbered.get(Number(customer_id))! })
      .execute();
  }
  return renumbered;
}
