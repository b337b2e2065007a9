import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value as COPY's CSV format reads it: NULL unquoted and empty, every string quoted. */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return `"${String(value).replace(/"/g, '""')}"`;
}

/**
 * Streams `rows` into `table` (`columns` in order) with `COPY … FROM STDIN (FORMAT csv)` on `client`,
 * in the client's current transaction. Rows are encoded 1,000 at a time, so memory stays one chunk.
 */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly unknown[]>,
): Promise<void> {
  const stream = client.query(
    copyFrom(`COPY ${table} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN (FORMAT csv)`),
  );
  async function* encode() {
    let chunk: string[] = [];
    for (const row of rows) {
      chunk.push(row.map(csvValue).join(','));
      if (chunk.length >= 1000) {
        yield `${chunk.join('\n')}\n`;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield `${chunk.join('\n')}\n`;
  }
  await pipeline(encode, stream);
}
