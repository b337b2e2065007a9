import { inputError } from '../../errors.js';
import { parseTimestamp, type Timestamp } from '../../shared/dates.js';
import { amountProblem, type DecimalMark, normaliseCurrency, quantityProblem, readAmount } from '../../shared/money.js';
import type { ImportRecord } from '../records.js';
import type { SourceRow } from '../source.js';

/** What a parser knows besides the rows. */
export interface ParseContext {
  file: string;
  /** IANA zone for timestamps written without an offset. */
  timeZone: string;
  /** Currency for formats that do not state one. */
  currency: string | undefined;
  /** `column=field` pairs of the generic CSV format. */
  map: Record<string, string>;
  /** The moment of the import, for facts a file states without a date (consent in a customers export). */
  now: number;
  /** The decimal mark of amounts in a generic CSV: told by `--decimal-comma`/`--decimal-point`, or proved by the file. */
  decimal: DecimalMark | 'auto';
}

/** A row (or group of rows) the parser could not accept. */
export interface Reject {
  kind: 'reject';
  line: number;
  field: string;
  message: string;
  /** The raw rows, for the rejects file. */
  rows: string[][];
}

/** Rows the format recognises and deliberately does not import, counted in the summary. */
export interface Skip {
  kind: 'skip';
  line: number;
  reason: string;
  /** The money the skipped rows state, for the import's reconciliation. */
  amountMinor?: number;
  currency?: string;
}

/** A header row of a layout that has one only sometimes (CDNOW's master file): not counted as a row. */
export interface HeaderRow {
  kind: 'header';
  line: number;
}

export type ParsedItem = ImportRecord | Reject | Skip | HeaderRow;

/** An import format: how its file is laid out and how its rows become records. */
export interface Format {
  name: string;
  layout: 'csv' | 'whitespace';
  description: string;
  /** A catalogue (products) export: priced in `--currency` or the store's order currency. */
  catalogue?: true;
  /** The zone of the format's timestamps when `--tz` is not given (UTC when absent). */
  timeZone?: string;
  /** The encoding read when `--encoding` is not given (strict UTF-8 when absent). */
  encoding?: string;
  parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncIterable<ParsedItem>;
}

/** Thrown inside a parser for a bad value; the caller turns it into a reject with the row's line. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The columns of a header row, found by name (case- and space-insensitive) with aliases, names compared
 * as `key` makes them (`normaliseName`, or the Korean exports' `headerKey`). A missing required column
 * stops the import at the header line.
 */
export class Header {
  private readonly index = new Map<string, number>();
  private readonly key: (name: string) => string;
  readonly width: number;

  constructor(
    fields: string[],
    readonly file: string,
    readonly line: number,
    key: (name: string) => string = normaliseName,
  ) {
    this.key = key;
    this.width = fields.length;
    fields.forEach((name, i) => {
      const k = key(name);
      if (!this.index.has(k)) this.index.set(k, i);
    });
  }

  /** The position of the first of `names` present, or undefined. */
  find(...names: string[]): number | undefined {
    for (const name of names) {
      const at = this.index.get(this.key(name));
      if (at !== undefined) return at;
    }
    return undefined;
  }

  /** The position of a column the format cannot do without; missing, it stops the import at the header line. */
  require(...names: string[]): number {
    const at = this.find(...names);
    if (at === undefined) {
      throw inputError(`missing column "${names[0]}"`, { file: this.file, line: this.line, field: 'header' });
    }
    return at;
  }

  /** The first of `names` present, else an error naming all of them. */
  requireOne(...names: string[]): number {
    const at = this.find(...names);
    if (at === undefined) {
      throw inputError(`missing column: one of ${names.map((n) => `"${n}"`).join(', ')}`, {
        file: this.file,
        line: this.line,
        field: 'header',
      });
    }
    return at;
  }

  has(...names: string[]): boolean {
    return this.find(...names) !== undefined;
  }
}

function normaliseName(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');
}

/** The trimmed value at `index`, or '' when the column is absent or the row is short. */
export function cell(row: string[], index: number | undefined): string {
  return index === undefined ? '' : (row[index] ?? '').trim();
}

/**
 * An amount in minor units, read with a decimal point (a comma only groups thousands) and within the
 * bounds of `amountProblem` (negative allowed: callers refuse it where it makes no sense); empty is
 * `fallback` (or an error when no fallback is given).
 */
export function amount(text: string, field: string, currency: string, fallback?: number): number {
  if (text === '') {
    if (fallback !== undefined) return fallback;
    throw new FieldError(field, 'is empty');
  }
  const reading = readAmount(text, currency, 'point');
  if (!reading.ok) throw new FieldError(field, reading.reason);
  return bounded(reading.minor, field, text);
}

function bounded(minor: number, field: string, text: string): number {
  const problem = amountProblem(minor, { allowNegative: true });
  if (problem) throw new FieldError(field, `"${text}" ${problem}`);
  return minor;
}

/** Refuses a negative amount where none makes sense (an order's total, a unit price). */
export function nonNegative(minor: number, field: string): number {
  if (minor < 0) throw new FieldError(field, `is negative (${minor} minor units)`);
  return minor;
}

/**
 * The decimal mark of one file's amounts. Told (`--decimal-comma`, `--decimal-point`), it reads every
 * amount that way; otherwise the first amount that reads only one way (`12,50`, `1,234.56`) proves the
 * mark for the file, an amount that reads two ways before that is refused as ambiguous, and an amount
 * that contradicts the proved mark is refused naming the line that proved it.
 */
export class DecimalMarks {
  private proved: { mark: DecimalMark; line: number } | undefined;

  constructor(private readonly told: DecimalMark | 'auto') {}

  /** An amount of the row at `line`; empty is `fallback` (or an error when no fallback is given). */
  read(text: string, field: string, currency: string, line: number, fallback?: number): number {
    if (text === '') {
      if (fallback !== undefined) return fallback;
      throw new FieldError(field, 'is empty');
    }
    const mark = this.told !== 'auto' ? this.told : this.proved?.mark;
    if (mark) {
      const reading = readAmount(text, currency, mark);
      if (reading.ok) return bounded(reading.minor, field, text);
      if (this.proved && this.told === 'auto') {
        throw new FieldError(field, `${reading.reason} (proved by line ${this.proved.line})`);
      }
      throw new FieldError(field, reading.reason);
    }
    const reading = readAmount(text, currency, 'auto');
    if (!reading.ok) throw new FieldError(field, reading.reason);
    if (reading.mark) this.proved = { mark: reading.mark, line };
    return bounded(reading.minor, field, text);
  }
}

/** A whole number (quantities) within `quantityProblem`'s bounds; `12.0` is accepted, `1.5` is not. */
export function integer(text: string, field: string, fallback?: number): number {
  if (text === '') {
    if (fallback !== undefined) return fallback;
    throw new FieldError(field, 'is empty');
  }
  // `1.000` is a thousand with a decimal comma and one with a decimal point: refused, not guessed.
  if (/^[+-]?\d{1,3}(\.\d{3})+$/.test(text)) {
    throw new FieldError(field, `"${text}" is ambiguous: a thousands separator or a decimal point`);
  }
  const value = Number(text.replace(/,/g, ''));
  if (!Number.isInteger(value)) throw new FieldError(field, `"${text}" is not a whole number`);
  const problem = quantityProblem(value, { allowNegative: true });
  if (problem) throw new FieldError(field, `"${text}" ${problem}`);
  return value;
}

/**
 * The currency of a row: its own column when written (a real ISO 4217 code, else an error; never
 * replaced by the default), else `--currency`, else an error.
 */
export function currencyOf(text: string, fallback: string | undefined, field: string): string {
  if (text !== '') {
    const code = normaliseCurrency(text);
    if (!code) throw new FieldError(field, `"${text}" is not an ISO 4217 currency code`);
    return code;
  }
  if (!fallback) throw new FieldError(field, 'is empty and no --currency was given');
  return fallback;
}

/** A timestamp, read in `timeZone` when it has no offset. */
export function timestamp(text: string, field: string, timeZone: string): Timestamp {
  if (text === '') throw new FieldError(field, 'is empty');
  const value = parseTimestamp(text, timeZone);
  if (!value) throw new FieldError(field, `"${text}" is not a date`);
  return value;
}

/** A timestamp that may be empty. */
export function optionalTimestamp(text: string, field: string, timeZone: string): Timestamp | undefined {
  return text === '' ? undefined : timestamp(text, field, timeZone);
}

/** Turns a FieldError thrown while reading rows into a reject; rethrows anything else. */
export function toReject(error: unknown, line: number, rows: string[][]): Reject {
  if (error instanceof FieldError) return { kind: 'reject', line, field: error.field, message: error.message, rows };
  throw error;
}

/** A row whose column count differs from the header's is a broken file, not a bad value. */
export function checkWidth(header: Header, row: { line: number; fields: string[] }): Reject | undefined {
  if (row.fields.length === header.width) return undefined;
  return {
    kind: 'reject',
    line: row.line,
    field: 'row',
    message: `has ${row.fields.length} columns, the header has ${header.width}`,
    rows: [row.fields],
  };
}

/**
 * The rows of a file whose first row is its header, one record (or none) per row: `columns` reads the
 * header row (a missing column stops the import there); a later row of another width is a reject
 * (`checkWidth`), else `read` turns it into what it yields, a FieldError it throws into a reject of that
 * row. Returns whether the file had a header row (false: empty).
 */
export async function* readHeadedRows<C>(
  rows: AsyncIterable<SourceRow>,
  file: string,
  columns: (header: Header, fields: string[]) => C,
  read: (fields: string[], line: number, columns: C) => ParsedItem | undefined,
): AsyncGenerator<ParsedItem, boolean> {
  let head: { header: Header; columns: C } | undefined;
  for await (const row of rows) {
    if (!head) {
      const header = new Header(row.fields, file, row.line);
      head = { header, columns: columns(header, row.fields) };
      continue;
    }
    const width = checkWidth(head.header, row);
    if (width) {
      yield width;
      continue;
    }
    let item: ParsedItem | undefined;
    try {
      item = read(row.fields, row.line, head.columns);
    } catch (error) {
      item = toReject(error, row.line, [row.fields]);
    }
    if (item) yield item;
  }
  return head !== undefined;
}

/** Splits `First Last` into its parts. */
export function splitName(full: string): { firstName?: string; lastName?: string } {
  const parts = full.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return {};
  if (parts.length === 1) return { firstName: parts[0] };
  return { firstName: parts.slice(0, -1).join(' '), lastName: parts[parts.length - 1] };
}

/** `''` → undefined, so optional fields stay absent instead of empty. */
export function present(text: string): string | undefined {
  return text === '' ? undefined : text;
}
