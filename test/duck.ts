import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Runs SQL in an in-memory DuckDB and returns plain rows: the independent computation the tests
 * compare the importers and analytics with. DuckDB reads the raw sample files itself.
 */
export async function duckRows(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Array<Record<string, unknown>>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The first row of a DuckDB query, with bigints turned into numbers. */
export async function duckOne(sql: string): Promise<Record<string, number | string | null>> {
  const [row] = await duckRows(sql);
  if (!row) throw new Error(`no row: ${sql}`);
  const out: Record<string, number | string | null> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = typeof value === 'bigint' ? Number(value) : (value as number | string | null);
  }
  return out;
}
