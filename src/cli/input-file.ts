import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ComebackError } from '../errors.js';
import { FORMATS, type FormatName } from '../ingest/index.js';
import { readRows } from '../ingest/source.js';

/**
 * Checks a file named on the command line before an import reads it: it exists, is a file, can be read,
 * and a `.gz` starts with the gzip signature (1f 8b, RFC 1952 §2.3.1). Throws `bad_input` naming the file.
 */
export function checkInputFile(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new ComebackError('bad_input', `${file}: is a directory, not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof ComebackError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ComebackError(
      'bad_input',
      code === 'ENOENT' || code === 'ENOTDIR' ? `${file}: no such file` : `${file}: cannot read the file (${code})`,
      { cause: error },
    );
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ComebackError(
      'bad_input',
      code === 'EACCES' ? `${file}: permission denied` : `${file}: cannot read the file (${code})`,
      { cause: error },
    );
  }
  try {
    if (!file.endsWith('.gz')) return;
    const head = Buffer.alloc(2);
    const read = size >= 2 ? readSync(fd, head, 0, 2, 0) : 0;
    if (read < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
      throw new ComebackError(
        'bad_input',
        `${file}: named .gz but not gzip-compressed (rename it without .gz if it is plain text)`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Turns a failure of the gzip decoder while importing into a message about the file: truncated
 * (`unexpected end of file`) or damaged data. Returns undefined for any other error.
 */
export function describeGzipFailure(file: string, error: unknown): ComebackError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!file.endsWith('.gz') || (code !== 'Z_BUF_ERROR' && code !== 'Z_DATA_ERROR')) return undefined;
  const what =
    code === 'Z_BUF_ERROR' ? 'is truncated (the compressed data ends early)' : 'is damaged (invalid compressed data)';
  return new ComebackError('bad_input', `${file}: the gzip file ${what}; nothing was imported from it`, {
    cause: error,
  });
}

/**
 * The import formats whose header the file's first rows fit: each format's own parser reads up to
 * 40 rows (a Korean export's header may sit below notice rows) and must produce an order, refund or
 * customer record without refusing the header.
 */
export async function formatsThatFit(
  file: string,
  options: { encoding?: string; password?: string; except?: FormatName } = {},
): Promise<FormatName[]> {
  const fits: FormatName[] = [];
  for (const [name, format] of Object.entries(FORMATS) as Array<[FormatName, (typeof FORMATS)[FormatName]]>) {
    if (name === options.except || name === 'csv') continue;
    try {
      const encoding = options.encoding ?? format.encoding;
      const rows = firstRows(readRows(file, { layout: format.layout, encoding, password: options.password }), 40);
      const ctx = { file, timeZone: 'UTC', currency: 'USD', map: {}, now: 0, decimal: 'auto' as const };
      for await (const item of format.parse(rows, ctx)) {
        if (item.kind === 'order' || item.kind === 'refund' || item.kind === 'customer' || item.kind === 'product') {
          fits.push(name);
          break;
        }
      }
    } catch {
      // This format refuses the file: not a fit.
    }
  }
  return fits;
}

async function* firstRows<T>(rows: AsyncGenerator<T>, limit: number): AsyncGenerator<T> {
  let n = 0;
  for await (const row of rows) {
    if (n++ >= limit) break;
    yield row;
  }
}
