import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { ComebackError, inputError } from '../errors.js';
import { readXlsxRows, sniffFileKind } from './xlsx.js';

/** One row of an input file: its fields and the line of the file it starts on. */
export interface SourceRow {
  line: number;
  fields: string[];
}

export interface ReadOptions {
  /** `utf8` (default; a BOM is dropped), `latin1`, `windows-1252`, `utf16le`, or any name iconv-lite knows. */
  encoding?: string;
  /** `csv` for RFC 4180 CSV, `whitespace` for columns separated by runs of blanks. */
  layout: 'csv' | 'whitespace';
  /** Told how many bytes of the file have been read, for a progress bar. */
  onBytes?: (read: number, total: number) => void;
  /** The field delimiter of a CSV (`,` `;` tab `|`); detected from the header line when absent. */
  delimiter?: string;
  /** Told the delimiter used, given or detected. */
  onDelimiter?: (delimiter: string) => void;
  /** The password of an encrypted .xlsx workbook. */
  password?: string;
}

/** The delimiters detection chooses between. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;

/**
 * Streams the rows of a file in bounded memory, decoding it strictly: a byte sequence that is not
 * valid in the encoding, an unterminated quote or a stray quote stops with `FILE:LINE`.
 */
export async function* readRows(file: string, options: ReadOptions): AsyncGenerator<SourceRow> {
  let total: number;
  try {
    total = statSync(file).size;
  } catch (error) {
    throw new ComebackError('bad_input', `${file}: cannot read the file`, { cause: error });
  }
  // A workbook is read as one whatever its name says (its first bytes tell a zip or an encrypted file).
  if (options.layout === 'csv' && sniffFileKind(file) !== 'text') {
    yield* readXlsxRows(file, { password: options.password, onBytes: options.onBytes });
    return;
  }
  let text = decode(file, total, options);
  if (options.layout === 'whitespace') {
    yield* splitWhitespace(text);
    return;
  }
  let delimiter = options.delimiter;
  if (delimiter === undefined) {
    const head = await firstLine(text);
    delimiter = detectDelimiter(head.line, file);
    text = head.rest;
  }
  options.onDelimiter?.(delimiter);
  const parser = parse({ bom: true, relax_column_count: true, delimiter });
  // pipeline (unlike pipe) hands a decoding error to the parser, whose iterator then throws it.
  pipeline(Readable.from(text), parser, () => {});
  // Line numbers are counted here rather than with csv-parse's `info`, which costs a third of the
  // parse: a record spans one line plus one for each line break inside its quoted fields.
  let line = 1;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line;
      for (const field of record) {
        for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) line += 1;
      }
      line += 1;
      if (record.length === 1 && record[0] === '') continue;
      yield { line: start, fields: record };
    }
  } catch (error) {
    if (error instanceof ComebackError) throw error;
    if (error instanceof CsvError) {
      // An unclosed quote is reported where its record began, not at the end of the file.
      const reported = (error as CsvError & { lines?: number }).lines;
      const at = error.code === 'CSV_QUOTE_NOT_CLOSED' || reported === undefined ? line : reported;
      throw inputError(csvReason(error), { file, line: at }, error);
    }
    throw error;
  }
}

/** Reads chunks until the first line break; returns that line and every chunk read, to be read again. */
async function firstLine(chunks: AsyncGenerator<string>): Promise<{ line: string; rest: AsyncGenerator<string> }> {
  const seen: string[] = [];
  let joined = '';
  for (;;) {
    const next = await chunks.next();
    if (next.done) break;
    seen.push(next.value);
    joined += next.value;
    if (/[\r\n]/.test(joined)) break;
  }
  async function* rest(): AsyncGenerator<string> {
    yield* seen;
    yield* chunks;
  }
  return { line: joined.split(/\r?\n|\r/)[0] ?? '', rest: rest() };
}

/**
 * The delimiter of a CSV from its header line: the candidate (`,` `;` tab `|`) found most often outside
 * quotes; a comma when none is; an error naming line 1 when two are found equally often.
 */
export function detectDelimiter(header: string, file: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of header.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [best, second] = ranked;
  if (!best || best[1] === 0) return ',';
  if (second && second[1] === best[1]) {
    const name = (d: string) => (d === '\t' ? 'tab' : `"${d}"`);
    throw inputError(
      `cannot tell the delimiter: ${name(best[0])} and ${name(second[0])} both appear ${best[1]} times; pass --delimiter`,
      { file, line: 1, field: 'header' },
    );
  }
  return best[0];
}

function csvReason(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed before the end of the file';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'unexpected character after a closing quote';
    default:
      return error.message;
  }
}

/** Decodes the file to text chunks; in UTF-8 an invalid byte is an error naming its line. */
async function* decode(file: string, total: number, options: ReadOptions): AsyncGenerator<string> {
  let encoding = (options.encoding ?? 'utf8').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (encoding === KOREAN_AUTO) encoding = koreanEncoding(file);
  const strict = encoding === 'utf8';
  if (!strict && !iconv.encodingExists(encoding)) {
    throw new ComebackError('usage', `--encoding ${options.encoding}: unknown encoding`);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const lenient = strict ? undefined : iconv.getDecoder(encoding);
  let read = 0;
  let lines = 1;
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  raw.on('data', (chunk) => {
    read += chunk.length;
  });
  // A gzipped export (`orders.csv.gz`) is read as it is; progress counts the compressed bytes.
  const input: AsyncIterable<Buffer> = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  for await (const chunk of input) {
    let text: string;
    if (lenient) {
      text = lenient.write(chunk);
    } else {
      try {
        text = utf8.decode(chunk, { stream: true });
      } catch {
        const loose = new TextDecoder('utf-8').decode(chunk);
        const bad = loose.indexOf('\uFFFD');
        const before = bad < 0 ? loose : loose.slice(0, bad);
        const line = lines + countNewlines(before);
        throw inputError('the file is not valid UTF-8 (try --encoding latin1)', { file, line });
      }
    }
    lines += countNewlines(text);
    options.onBytes?.(read, total);
    if (text !== '') yield text;
  }
  const rest = lenient ? lenient.end() : utf8.decode();
  if (rest) yield rest;
}

/** The encoding name that lets a Korean export prove itself UTF-8, else read it as CP949. */
export const KOREAN_AUTO = 'utf8orcp949';

/**
 * UTF-8 (with or without a BOM) when the file's first 64 KiB decode as UTF-8, else CP949 (Windows'
 * superset of EUC-KR, what Korean Excel writes a CSV in): Korean text in one is never valid in the other.
 */
function koreanEncoding(file: string): string {
  const head = Buffer.alloc(1 << 16);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (file.endsWith('.gz')) return 'utf8';
  try {
    // `stream: true` lets a character cut by the 64 KiB boundary pass.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, read), { stream: true });
    return 'utf8';
  } catch {
    return 'cp949';
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

async function* splitWhitespace(chunks: AsyncIterable<string>): AsyncGenerator<SourceRow> {
  let carry = '';
  let line = 0;
  for await (const chunk of chunks) {
    const text = carry + chunk;
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const part of parts) {
      line += 1;
      const fields = part
        .replace(/^\uFEFF/, '')
        .trim()
        .split(/\s+/);
      if (fields.length === 1 && fields[0] === '') continue;
      yield { line, fields };
    }
  }
  line += 1;
  const fields = carry.trim().split(/\s+/);
  if (!(fields.length === 1 && fields[0] === '')) yield { line, fields };
}
