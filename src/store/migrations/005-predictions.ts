import type { Kysely } from 'kysely';
import { type DialectName, idColumn } from './columns.js';

/** Fitted models and the per-customer scores they produced, kept per model and `asOf`. */
export function predictionsMigration(dialect: DialectName) {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations are written against the schema they create.
    async up(db: Kysely<any>): Promise<void> {
      await idColumn(db.schema.createTable('model_fits'), dialect)
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('stderr', 'text', (c) => c.notNull())
        .addColumn('log_likelihood', 'double precision', (c) => c.notNull())
        .addColumn('customers', 'integer', (c) => c.notNull())
        .addColumn('histories', 'integer', (c) => c.notNull())
        .addColumn('iterations', 'integer', (c) => c.notNull())
        .addColumn('converged', 'integer', (c) => c.notNull())
        .addColumn('warnings', 'text', (c) => c.notNull())
        .addColumn('unit', 'text', (c) => c.notNull())
        .addColumn('currency', 'text')
        .addColumn('calibration_end', 'bigint', (c) => c.notNull())
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addColumn('holdout', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('model_fits_model').on('model_fits').columns(['model', 'as_of']).execute();

      await db.schema
        .createTable('customer_scores')
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('as_of', 'bigint', (c) => c.notNull())
        .addColumn('fit_id', 'bigint', (c) => c.notNull().references('model_fits.id').onDelete('cascade'))
        .addColumn('spend_fit_id', 'bigint', (c) => c.references('model_fits.id').onDelete('set null'))
        .addColumn('p_alive', 'double precision')
        .addColumn('churn_risk', 'double precision')
        .addColumn('churn_band', 'text')
        .addColumn('expected_purchases', 'double precision')
        .addColumn('horizon_days', 'integer', (c) => c.notNull())
        .addColumn('expected_spend', 'double precision')
        .addColumn('clv', 'double precision')
        .addColumn('currency', 'text')
        .addColumn('next_order_at', 'bigint')
        .addPrimaryKeyConstraint('customer_scores_pk', ['customer_id', 'model', 'as_of'])
        .execute();
      await db.schema.createIndex('customer_scores_as_of').on('customer_scores').columns(['model', 'as_of']).execute();
    },
  };
}
