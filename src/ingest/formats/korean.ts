import { inputError } from '../../errors.js';
import { parseTimestamp, type Timestamp, wallTimeInZone } from '../../shared/dates.js';
import { phoneToE164 } from '../phone.js';
import type { SourceRow } from '../source.js';
import {
  amount,
  cell,
  FieldError,
  Header,
  type ParseContext,
  type ParsedItem,
  type Reject,
  toReject,
} from './format.js';

/**
 * What the Korean shop exports (Cafe24, Naver SmartStore) share: headers matched by name with every
 * space removed, found below notice rows; KRW written as numbers, `30,000` or `30,000원`; Korea
 * Standard Time or Excel serial dates; mobile numbers. See `shared/reference/korean-stores.md`.
 */

/** A bad value on a known line of a multi-row order: the reject names that line, not the order's first. */
export class LineFieldError extends FieldError {
  constructor(
    field: string,
    message: string,
    readonly line: number,
  ) {
    super(field, message);
  }
}

/** Runs `read` for the row at `line`; a FieldError it throws is told that line. */
export function atLine<T>(line: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof FieldError && !(error instanceof LineFieldError)) {
      throw new LineFieldError(error.field, error.message, line);
    }
    throw error;
  }
}

/** A reject for an order's rows, at the line of the bad value when known, else at the order's first line. */
export function rejectOrder(error: unknown, rows: SourceRow[]): Reject {
  const line = error instanceof LineFieldError ? error.line : rows[0]!.line;
  return toReject(
    error,
    line,
    rows.map((r) => r.fields),
  );
}

/** Rows searched for the header row: notice rows may sit above it. */
export const HEADER_SEARCH_ROWS = 30;

/** The currency of every Korean export. */
export const KRW = 'KRW';

/** The zone of Korean exports' timestamps. */
export const KST = 'Asia/Seoul';

/** A header name as compared: no spaces of any kind, no BOM, lower case (for the Latin names). */
export function headerKey(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .replace(/[\s\u00a0\u3000]+/g, '')
    .toLowerCase();
}

/**
 * The columns of a Korean export's header row, found by name with spaces removed (`품목별 주문번호` =
 * `품목별주문번호`): a `Header` whose names are compared by `headerKey`.
 */
export class KrHeader extends Header {
  constructor(fields: string[], file: string, line: number) {
    super(fields, file, line, headerKey);
  }
}

/**
 * Reads rows until one holds every column of `marks` (space-insensitive), within the first
 * `HEADER_SEARCH_ROWS` rows; returns that row and the rows above it (notices). No such row stops the
 * import at line 1 naming the columns looked for.
 */
export async function findHeaderRow(
  iterator: AsyncIterator<SourceRow>,
  file: string,
  candidates: ReadonlyArray<readonly string[]>,
): Promise<{ row: SourceRow; kind: number; notices: SourceRow[] }> {
  const notices: SourceRow[] = [];
  for (let n = 0; n < HEADER_SEARCH_ROWS; n++) {
    const next = await iterator.next();
    if (next.done) break;
    const keys = new Set(next.value.fields.map(headerKey));
    const kind = candidates.findIndex((marks) => marks.every((m) => keys.has(headerKey(m))));
    if (kind >= 0) return { row: next.value, kind, notices };
    notices.push(next.value);
  }
  const wanted = candidates.map((marks) => marks.map((m) => `"${m}"`).join(' and ')).join(', or ');
  if (notices.length === 0) throw inputError('the file is empty', { file, line: 1, field: 'header' });
  throw inputError(`no header row in the first ${HEADER_SEARCH_ROWS} rows (looked for ${wanted})`, {
    file,
    line: notices[0]!.line,
    field: 'header',
  });
}

/** The notice rows above a header: counted as headers, not as rows of data. */
export function noticeItems(notices: SourceRow[]): ParsedItem[] {
  return notices.map((n) => ({ kind: 'header', line: n.line }));
}

/** The row's fields padded to the header's width; a row wider than the header with text beyond it is refused. */
export function fit(header: KrHeader, row: SourceRow): string[] {
  const fields = row.fields;
  if (fields.length > header.width && fields.slice(header.width).some((f) => f.trim() !== '')) {
    throw new FieldError('row', `has ${fields.length} columns, the header has ${header.width}`);
  }
  return fields;
}

/**
 * Whole won from `30000`, `30,000`, `30,000원`, `₩30,000` or `-5,000`; empty is `fallback` (or an
 * error). A fraction of a won is refused: KRW has no minor unit.
 */
export function won(text: string, field: string, fallback?: number): number {
  const bare = text
    .replace(/^[₩\\]/, '')
    .replace(/원$/, '')
    .trim();
  if (bare === '') {
    if (fallback !== undefined) return fallback;
    throw new FieldError(field, 'is empty');
  }
  if (/\.\d*[1-9]/.test(bare)) throw new FieldError(field, `"${text}" is not a whole number of won`);
  try {
    return amount(bare, field, KRW);
  } catch (error) {
    if (error instanceof FieldError && / is not a number$/.test(error.message)) {
      throw new FieldError(field, `"${text}" is not an amount in won (write 30000, 30,000 or 30,000원)`);
    }
    throw error;
  }
}

const SERIAL = /^\d{1,7}(\.\d+)?$/;
const DOTTED = /^(\d{4})[./](\d{1,2})[./](\d{1,2})\.?(.*)$/;

/**
 * A Korean export's timestamp: `YYYY-MM-DD HH:mm:ss`, `YYYY.MM.DD HH:mm`, `YYYYMMDD`, or an Excel serial
 * day number (days since 1899-12-30, the fraction the time of day), read as wall-clock time in `timeZone`.
 */
export function krTimestamp(text: string, field: string, timeZone: string): Timestamp {
  if (text === '') throw new FieldError(field, 'is empty');
  if (SERIAL.test(text)) {
    const serial = Number(text);
    // 1 = 1900-01-01 … 2958465 = 9999-12-31; a serial below 1900-03-01 is Lotus's leap-year bug territory.
    if (serial >= 61 && serial < 2_958_466) {
      const wall = Math.round((serial - 25_569) * 86_400) * 1000;
      return wallTimeInZone(wall, timeZone);
    }
  }
  const dotted = DOTTED.exec(text);
  const iso = dotted
    ? `${dotted[1]}-${dotted[2]!.padStart(2, '0')}-${dotted[3]!.padStart(2, '0')}${dotted[4] ? ` ${dotted[4].trim()}` : ''}`
    : text;
  const value = parseTimestamp(iso, timeZone);
  if (!value) throw new FieldError(field, `"${text}" is not a date`);
  return value;
}

/** An optional timestamp. */
export function optionalKrTimestamp(text: string, field: string, timeZone: string): Timestamp | undefined {
  return text === '' ? undefined : krTimestamp(text, field, timeZone);
}

/** A calendar date (`YYYY-MM-DD`) from any form `krTimestamp` reads; `0000-00-00` (unknown) is undefined. */
export function krDate(text: string, field: string): string | undefined {
  if (text === '' || /^0{4}\D?0{1,2}\D?0{1,2}$/.test(text)) return undefined;
  const value = krTimestamp(text, field, 'UTC');
  return new Date(value.epochMs).toISOString().slice(0, 10);
}

/**
 * A Korean mobile number in E.164 (`010-1234-5678` → `+821012345678`) read with libphonenumber-js for
 * region KR; undefined when empty, masked (`010-****-5678`) or not a valid number.
 */
export function krMobile(text: string): string | undefined {
  if (text === '' || text.includes('*')) return undefined;
  const e164 = phoneToE164(text, 'KR');
  return e164?.startsWith('+') ? e164 : undefined;
}

/** A line's title: the product's name with its option in brackets (`티셔츠 (블랙 / L)`); no name, undefined. */
export function lineTitle(title: string, option: string): string | undefined {
  return title === '' ? undefined : option === '' ? title : `${title} (${option})`;
}

/** A platform id, unless masked (`abc****`, as SmartStore may show a buyer's Naver id). */
export function platformId(text: string): string | undefined {
  return text === '' || text.includes('*') ? undefined : text;
}

/**
 * Rows of one order must be adjacent (both platforms write them so): a group that comes back after
 * another order is refused rather than stored twice; memory stays one order plus the ids seen.
 */
export class OrderGroups {
  private readonly seen = new Map<string, number>();

  /** Refuses an order id seen before the current group. */
  check(orderId: string, line: number, field: string): void {
    const first = this.seen.get(orderId);
    if (first !== undefined) {
      throw new FieldError(
        field,
        `the rows of order ${orderId} are not together (it began at line ${first}): sort the sheet by ${field}`,
      );
    }
    this.seen.set(orderId, line);
  }
}

/**
 * An order-level amount repeated on every line of an order: read from each row, taken once; rows that
 * disagree are refused naming both lines.
 */
export function onceAcrossRows(
  rows: SourceRow[],
  index: number | undefined,
  field: string,
): { value: number; present: true } | { present: false } {
  if (index === undefined) return { present: false };
  let first: { value: number; line: number } | undefined;
  for (const row of rows) {
    const text = cell(row.fields, index);
    if (text === '') continue;
    const value = atLine(row.line, () => won(text, field));
    if (first === undefined) first = { value, line: row.line };
    else if (value !== first.value) {
      throw new LineFieldError(
        field,
        `${value} differs from ${first.value} on line ${first.line} of the same order`,
        row.line,
      );
    }
  }
  return first === undefined ? { present: false } : { value: first.value, present: true };
}

/**
 * An order export's rows, one order at a time: rows of the same `주문번호` (column `order`) that stand
 * together make one group, handed to `build` with the order id once the next order (or the end) is
 * reached; a FieldError `build` throws rejects the whole group at its line (`rejectOrder`). A row with
 * an empty or returning order id, or wider than the header, is refused alone, after the group before it.
 */
export async function* orderRowGroups(
  header: KrHeader,
  rows: AsyncIterable<SourceRow>,
  order: number,
  build: (orderId: string, rows: SourceRow[]) => ParsedItem,
): AsyncGenerator<ParsedItem> {
  const groups = new OrderGroups();
  let group: SourceRow[] = [];
  let current = '';

  function flush(): ParsedItem | undefined {
    if (group.length === 0) return undefined;
    const all = group;
    group = [];
    try {
      return build(current, all);
    } catch (error) {
      return rejectOrder(error, all);
    }
  }

  for await (const row of rows) {
    let orderId: string;
    try {
      fit(header, row);
      orderId = cell(row.fields, order);
      if (orderId === '') throw new FieldError('주문번호', 'is empty');
      if (orderId !== current || group.length === 0) groups.check(orderId, row.line, '주문번호');
    } catch (error) {
      const built = flush();
      if (built) yield built;
      current = '';
      yield toReject(error, row.line, [row.fields]);
      continue;
    }
    if (orderId === current && group.length > 0) {
      group.push(row);
      continue;
    }
    const built = flush();
    if (built) yield built;
    current = orderId;
    group = [row];
  }
  const built = flush();
  if (built) yield built;
}

/** How one kind of Korean export is told (the columns of its header row) and read (the rows below it). */
export interface KoreanReader {
  marks: readonly string[];
  read(header: KrHeader, rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncIterable<ParsedItem>;
}

/**
 * A Korean export: its header row found below any notice rows (`findHeaderRow`, the first reader whose
 * marks it holds; none stops the import), the notices counted as headers, then the rows below read by
 * that reader.
 */
export async function* readKoreanSheet(
  rows: AsyncIterable<SourceRow>,
  ctx: ParseContext,
  readers: readonly KoreanReader[],
): AsyncGenerator<ParsedItem> {
  const iterator = rows[Symbol.asyncIterator]();
  const found = await findHeaderRow(
    iterator,
    ctx.file,
    readers.map((r) => r.marks),
  );
  yield* noticeItems(found.notices);
  const header = new KrHeader(found.row.fields, ctx.file, found.row.line);
  yield* readers[found.kind]!.read(header, { [Symbol.asyncIterator]: () => iterator }, ctx);
}
