import { ComebackError } from '../errors.js';
import { type Db, REVENUE_STATUSES } from '../store/index.js';
import type { LoyaltyTables } from './loyalty-tables.js';
import { type Program, type ProgramConfig, validateProgramConfig } from './program.js';

/**
 * Stores a configuration as the next version, unless it equals the current one (then that version is
 * returned). Older versions stay: ledger entries name the version they were computed under.
 * Errors (`bad_input`, field `currency`): a program in a currency the store has sales in none of, while
 * it has sales in others (it could never earn, and each sync would pass over the orders for good); a
 * version in another currency than the current one (the points already earned are worth that currency).
 */
export async function saveProgram(db: Db, config: ProgramConfig, { now }: { now: number }): Promise<Program> {
  const l = db.withTables<LoyaltyTables>();
  const valid = validateProgramConfig(config);
  const text = JSON.stringify(valid);
  const current = await l
    .selectFrom('loyalty_programs')
    .select(['version', 'config'])
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (current && current.config === text) return { version: current.version, config: valid };
  if (current) {
    const was = (JSON.parse(current.config) as { currency: string }).currency;
    if (was !== valid.currency) {
      throw new ComebackError(
        'bad_input',
        `currency: the program is in ${was} (version ${current.version}); a program keeps its currency, as the points already earned are worth ${was}`,
        { location: { field: 'currency' } },
      );
    }
  }
  const sold = await db
    .selectFrom('orders')
    .select('currency')
    .where('status', 'in', REVENUE_STATUSES)
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  if (sold.length > 0 && !sold.some((r) => r.currency === valid.currency)) {
    throw new ComebackError(
      'bad_input',
      `currency: the store has no sales in ${valid.currency}, only in ${sold.map((r) => r.currency).join(', ')}: a program in ${valid.currency} would earn nothing`,
      { location: { field: 'currency' } },
    );
  }
  const version = (current?.version ?? 0) + 1;
  await l
    .insertInto('loyalty_programs')
    .values({ version, name: valid.name, currency: valid.currency, config: text, created_at: now })
    .execute();
  return { version, config: valid };
}

/** The current program (the highest version), or undefined when none was set up. */
export async function findProgram(db: Db, version?: number): Promise<Program | undefined> {
  let query = db.withTables<LoyaltyTables>().selectFrom('loyalty_programs').select(['version', 'config']);
  query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  return { version: row.version, config: validateProgramConfig(JSON.parse(row.config)) };
}

/** The current program; throws `not_found` telling how to create one. */
export async function loadProgram(db: Db): Promise<Program> {
  const program = await findProgram(db);
  if (!program) {
    throw new ComebackError('not_found', 'no loyalty program yet: run `comeback loyalty init --config FILE`');
  }
  return program;
}

/** Every stored version, oldest first, for `loyalty status`. */
export async function programVersions(db: Db): Promise<Array<{ version: number; name: string; createdAt: number }>> {
  const rows = await db
    .withTables<LoyaltyTables>()
    .selectFrom('loyalty_programs')
    .select(['version', 'name', 'created_at'])
    .orderBy('version')
    .execute();
  return rows.map((r) => ({ version: r.version, name: r.name, createdAt: r.created_at }));
}
