import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../../test/setup.js';
import { ComebackError } from '../errors.js';
import { detectDelimiter, readRows, type SourceRow } from './source.js';

const dir = tempDir('comeback-source-');
let files = 0;

async function rowsOf(text: string): Promise<{ delimiter: string | undefined; rows: SourceRow[] }> {
  const file = join(dir, `f${++files}.csv`);
  writeFileSync(file, text);
  let delimiter: string | undefined;
  const rows: SourceRow[] = [];
  for await (const row of readRows(file, { layout: 'csv', onDelimiter: (d) => (delimiter = d) })) rows.push(row);
  return { delimiter, rows };
}

describe('readRows: the delimiter is told by the header line alone', () => {
  // Each file's data rows hold more unquoted commas than the whole header has semicolons: a header line
  // read past its end would count the commas and choose ",".
  test('old-Mac \\r line ends', async () => {
    assert.deepEqual(await rowsOf('id;amount\r1,5,6,7,8;x\r2,5;y\r'), {
      delimiter: ';',
      rows: [
        { line: 1, fields: ['id', 'amount'] },
        { line: 2, fields: ['1,5,6,7,8', 'x'] },
        { line: 3, fields: ['2,5', 'y'] },
      ],
    });
  });

  test('\\n line ends', async () => {
    assert.deepEqual(await rowsOf('id;amount\n1,5,6,7,8;x\n'), {
      delimiter: ';',
      rows: [
        { line: 1, fields: ['id', 'amount'] },
        { line: 2, fields: ['1,5,6,7,8', 'x'] },
      ],
    });
  });

  test('\\r\\n line ends, a quoted line break counted in the next row’s line', async () => {
    assert.deepEqual(await rowsOf('id;note\r\n1,5,6,7,8;"a\nb"\r\n2;c\r\n'), {
      delimiter: ';',
      rows: [
        { line: 1, fields: ['id', 'note'] },
        { line: 2, fields: ['1,5,6,7,8', 'a\nb'] },
        { line: 4, fields: ['2', 'c'] },
      ],
    });
  });

  test('a header without a delimiter is read with commas; a tie names both and line 1', () => {
    assert.equal(detectDelimiter('\uFEFFid', 'f.csv'), ',');
    assert.equal(detectDelimiter('a\tb\tc|d', 'f.csv'), '\t');
    // Quoted delimiters do not count: one ";" outside quotes against none.
    assert.equal(detectDelimiter('"a,b,c";d', 'f.csv'), ';');
    assert.throws(
      () => detectDelimiter('a\tb|c', 'f.csv'),
      (error: unknown) =>
        error instanceof ComebackError &&
        error.message === 'cannot tell the delimiter: tab and "|" both appear 1 times; pass --delimiter' &&
        error.location?.line === 1 &&
        error.location?.field === 'header',
    );
  });
});
