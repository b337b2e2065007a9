import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSelection } from '../../predict/index.js';
import { selectionText } from './predict.js';

test('the model table prints actual hold-out purchases as whole numbers with separators, never rounded', () => {
  // Online Retail's hold-out: 12,272 actual purchase days, which 4 significant figures showed as 12270.
  const candidate = (model: 'bgnbd' | 'mbgnbd' | 'pnbd', holdoutError: number) => ({
    model,
    holdoutError,
    totalPredicted: 12_270.44,
    totalActual: 12_272,
    identified: true,
    pAliveInformative: false,
  });
  const selection: ModelSelection = {
    chosen: 'bgnbd',
    calibrationEnd: Date.UTC(2011, 7, 1),
    holdoutEnd: Date.UTC(2011, 11, 10),
    candidates: [candidate('bgnbd', 1.1288255), candidate('mbgnbd', 1.1288254), candidate('pnbd', 1.1288255)],
    reason: 'the lowest hold-out error among the identified models',
    tieTolerance: 1e-6,
    tieOrder: ['bgnbd', 'mbgnbd', 'pnbd'],
  };
  const text = selectionText(selection, 'week');
  const rows = text.split('\n').filter((line) => /^(bgnbd|mbgnbd|pnbd) /.test(line));
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.match(row, /\s12,270\.4\s+12,272\s/);
    assert.doesNotMatch(row, /12270\b/);
  }
});
