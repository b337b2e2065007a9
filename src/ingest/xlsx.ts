import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ComebackError, inputError } from '../errors.js';
import type { SourceRow } from './source.js';

/** What the first bytes of a file say it is: a zip (an .xlsx), an OLE compound file (encrypted), or text. */
export type FileKind = 'xlsx' | 'encrypted' | 'text';

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** The OLE compound file signature (MS-CFB §2.2): how an encrypted OOXML file (MS-OFFCRYPTO) is wrapped. */
const CFB = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** Reads the first bytes of `file` to tell a workbook from text, whatever the file is called. */
export function sniffFileKind(file: string): FileKind {
  const head = Buffer.alloc(8);
  let read = 0;
  const fd = openSync(file, 'r');
  try {
    read = readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (read >= 4 && head.subarray(0, 4).equals(ZIP)) return 'xlsx';
  if (read === 8 && head.equals(CFB)) return 'encrypted';
  return 'text';
}

export interface XlsxOptions {
  /** The password of an encrypted workbook (MS-OFFCRYPTO agile or standard encryption). */
  password?: string;
  /** Told how many bytes of the file have been read, for a progress bar (the plain workbook only). */
  onBytes?: (read: number, total: number) => void;
}

/**
 * Streams the rows of the first worksheet of an .xlsx workbook with exceljs's WorkbookReader: memory
 * stays bounded by one row plus the shared-strings table, whatever the sheet's length. An encrypted
 * workbook is decrypted with officecrypto-tool first (that needs the whole file in memory, as the
 * encryption covers the whole package); a missing or wrong password is a `FILE:1: password:` error.
 * `line` is the spreadsheet's row number; cells become text: numbers as written by `String`, dates
 * (date-formatted cells) as `YYYY-MM-DD HH:mm:ss` wall-clock time, formulas as their cached result.
 */
export async function* readXlsxRows(file: string, options: XlsxOptions = {}): AsyncGenerator<SourceRow> {
  const kind = sniffFileKind(file);
  // Loaded when a workbook comes, not on every import of a CSV (exceljs alone takes ~0.3 s to load);
  // before any stream opens, so that no byte flows while it loads.
  const { default: ExcelJS } = await import('exceljs');
  let input: Readable;
  if (kind === 'encrypted') {
    const buffer = readFileSync(file);
    const { default: officeCrypto } = await import('officecrypto-tool');
    if (!officeCrypto.isEncrypted(buffer)) {
      throw inputError('is an old binary Excel file (.xls); save it as .xlsx or .csv', {
        file,
        line: 1,
        field: 'file',
      });
    }
    if (options.password === undefined || options.password === '') {
      throw inputError('the workbook is password-protected: pass --password or set COMEBACK_XLSX_PASSWORD', {
        file,
        line: 1,
        field: 'password',
      });
    }
    let plain: Buffer;
    try {
      plain = await officeCrypto.decrypt(buffer, { password: options.password });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw inputError(
        /password/i.test(message)
          ? 'the password does not open the workbook'
          : `the encrypted workbook cannot be decrypted (${message})`,
        { file, line: 1, field: 'password' },
        error,
      );
    }
    input = Readable.from([plain]);
  } else if (kind === 'xlsx') {
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    if (options.onBytes) {
      let read = 0;
      const total = statSync(file).size;
      stream.on('data', (chunk) => {
        read += chunk.length;
        options.onBytes?.(read, total);
      });
    }
    input = stream;
  } else {
    throw inputError('is not an .xlsx workbook', { file, line: 1, field: 'file' });
  }
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    // Styles tell date cells from numbers; they are small.
    styles: 'cache',
    entries: 'ignore',
  });
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const values = row.values;
        if (!Array.isArray(values)) continue;
        const fields: string[] = [];
        // exceljs rows are 1-based and sparse: column A is values[1].
        for (let i = 1; i < values.length; i++) fields.push(cellText(values[i]));
        while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop();
        if (fields.length === 0) continue;
        yield { line: row.number, fields };
      }
      // The first worksheet holds the export; any other sheet (a legend, a pivot) is not read.
      return;
    }
  } catch (error) {
    if (error instanceof ComebackError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw inputError(`is not a readable .xlsx workbook (${message})`, { file, line: 1, field: 'file' }, error);
  }
}

/** The text of one cell value as exceljs gives it. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return wallClock(value);
  if (typeof value === 'object') {
    const v = value as {
      richText?: Array<{ text: string }>;
      result?: unknown;
      text?: unknown;
      formula?: unknown;
      sharedFormula?: unknown;
      error?: unknown;
    };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('formula' in v || 'sharedFormula' in v) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
    if (v.error !== undefined) return '';
  }
  return String(value);
}

/** exceljs turns a date cell into a Date whose UTC fields are the sheet's wall-clock time. */
function wallClock(date: Date): string {
  // Serial fractions carry float error (…:59.9996): round to the second.
  const d = new Date(Math.round(date.getTime() / 1000) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
