import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Format, ParseContext, ParsedItem } from '../src/ingest/formats/format.js';
import { readRows } from '../src/ingest/source.js';
import { tempDir } from './setup.js';

export const NOW = Date.UTC(2026, 0, 1);

const dir = tempDir('comeback-formats-');
let files = 0;

/**
 * Everything a format's parser yields for `text` written to a file, read as the import reads it
 * (`readRows` with the format's layout and encoding), without a database.
 */
export async function parseText(
  format: Format,
  text: string,
  ctx: Partial<ParseContext> = {},
  name = `file-${++files}.csv`,
): Promise<ParsedItem[]> {
  const file = join(dir, name);
  writeFileSync(file, text);
  const items: ParsedItem[] = [];
  const rows = readRows(file, { layout: format.layout, encoding: format.encoding });
  const context: ParseContext = {
    file,
    timeZone: format.timeZone ?? 'UTC',
    currency: undefined,
    map: {},
    now: NOW,
    decimal: 'auto',
    ...ctx,
  };
  for await (const item of format.parse(rows, context)) items.push(item);
  return items;
}

/** The rejects among `items`, without their raw rows: `[line, field, message]`. */
export function rejects(items: ParsedItem[]): Array<[number, string, string]> {
  return items.flatMap((i) => (i.kind === 'reject' ? [[i.line, i.field, i.message] as [number, string, string]] : []));
}
