import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadsheetSafe, toCsv } from './csv.js';

test('cells that would run as spreadsheet formulas are neutralised, numbers are not', () => {
  assert.equal(spreadsheetSafe('=HYPERLINK("http://x")'), `'=HYPERLINK("http://x")`);
  assert.equal(spreadsheetSafe('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(spreadsheetSafe('+1 555 0100'), "'+1 555 0100");
  assert.equal(spreadsheetSafe('-3.5'), '-3.5');
  assert.equal(spreadsheetSafe('Ann'), 'Ann');
  assert.equal(toCsv([{ name: '=cmd', n: -2 }], { header: true }), "name,n\n'=cmd,-2\n");
});
