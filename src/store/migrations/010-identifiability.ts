import type { Kysely } from 'kysely';

/**
 * What the data could not support: a fit's diagnostics (codes and sentences, JSON) and, per score,
 * why its P(alive) is not informative (null when it is). Such scores keep p_alive, churn_risk and
 * churn_band null, so nothing downstream reads them as churn signals.
 */
export function identifiabilityMigration() {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('model_fits').addColumn('diagnostics', 'text').execute();
      await db.schema.alterTable('customer_scores').addColumn('p_alive_note', 'text').execute();
    },
  };
}
