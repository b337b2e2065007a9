import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { tempDir } from '../../test/setup.js';
import type { SourceRow } from './source.js';
import { readXlsxRows } from './xlsx.js';

const dir = tempDir('comeback-xlsx-');

async function rowsOf(file: string, onBytes?: (read: number, total: number) => void): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const row of readXlsxRows(file, { onBytes })) rows.push(row);
  return rows;
}

describe('reading an .xlsx workbook', () => {
  test('a date-formatted cell is its wall-clock text, a number its String, and the bytes read are told', async () => {
    const file = join(dir, 'orders.xlsx');
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Orders');
    sheet.addRow(['order_id', 'placed_at', 'total']);
    // exceljs writes a Date as an Excel serial with a date format; read back, the format makes it a date.
    const row = sheet.addRow(['A-1', new Date(Date.UTC(2025, 4, 6, 10, 30, 15)), 12.5]);
    row.getCell(2).numFmt = 'yyyy-mm-dd hh:mm:ss';
    await book.xlsx.writeFile(file);
    const told: Array<[number, number]> = [];
    const rows = await rowsOf(file, (read, total) => told.push([read, total]));
    // Without the styles (the number formats), the date cell would be its serial number, 45783.4376….
    assert.deepEqual(rows, [
      { line: 1, fields: ['order_id', 'placed_at', 'total'] },
      { line: 2, fields: ['A-1', '2025-05-06 10:30:15', '12.5'] },
    ]);
    // The file is a few kilobytes, read in one chunk (of up to 1 MiB): told once, all of it.
    const size = statSync(file).size;
    assert.deepEqual(told, [[size, size]]);
  });
});
