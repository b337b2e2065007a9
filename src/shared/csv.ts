import { type Options, stringify } from 'csv-stringify/sync';

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?\d+(\.\d+)?$/;

/**
 * A cell a spreadsheet would not run: text that starts like a formula (`=`, `+`, `-`, `@`, tab, CR)
 * gets a leading apostrophe (OWASP's advice for CSV injection); plain numbers such as `-3.5` stay.
 */
export function spreadsheetSafe(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** CSV text of rows, every string cell made spreadsheet-safe: for files people open in Excel or Sheets. */
export function toCsv(rows: unknown[], options: Options = {}): string {
  return stringify(rows, { ...options, cast: { ...options.cast, string: (value) => spreadsheetSafe(value) } });
}
