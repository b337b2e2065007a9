import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as comeback from '../src/index.js';

test('the package entry exposes each capability to scripts that import comeback', () => {
  for (const name of [
    'openStore',
    'importFile',
    'recordEvents',
    'retentionReport',
    'cohortTable',
    'customerSummaries',
    'fitBgNbd',
    'scoreCustomers',
    'computeRfm',
    'customerProfile',
    'redeem',
    'buildApp',
  ]) {
    assert.equal(typeof (comeback as Record<string, unknown>)[name], 'function', name);
  }
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
  assert.equal(pkg.exports['.'], './dist/index.js');
  assert.equal(pkg.bin.comeback, 'bin/comeback.js');
});
