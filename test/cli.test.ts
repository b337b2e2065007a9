import assert from 'node:assert/strict';
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cliIn, tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real `comeback` command line in a child process, as a user would. */
const comeback = cliIn(dir, 'cli.db');

describe('the comeback command line', () => {
  test('imports a file, reports stats as JSON, and a re-import changes nothing', () => {
    const cdnow = join(ROOT, 'samples/cdnow/CDNOW_sample.txt');
    const first = comeback('import', cdnow, '--format', 'cdnow', '--json');
    assert.equal(first.code, 0, first.err);
    assert.equal(JSON.parse(first.out)[0].orders, 6919);
    const stats = JSON.parse(comeback('stats', '--json').out);
    assert.equal(stats.orders, 6919);
    assert.equal(stats.customers, 2357);
    assert.deepEqual(
      stats.revenue.map((r: { currency: string }) => r.currency),
      ['USD'],
    );
    assert.equal(stats.firstOrderAt, '1997-01-01T00:00:00.000Z');
    assert.equal(comeback('import', cdnow, '--format', 'cdnow').code, 0);
    assert.equal(JSON.parse(comeback('stats', '--json').out).orders, 6919);
    const table = comeback('stats');
    assert.match(table.out, /orders\s+6,919/);
  });

  test('fit prints the contract JSON and predict scores every customer as CSV', () => {
    // The calibration end is an inclusive day: 1997-09-30 is the papers' 39-week calibration.
    const fit = comeback('fit', 'bgnbd', '--calibration-end', '1997-09-30', '--as-of', '1998-06-30', '--json');
    assert.equal(fit.code, 0, fit.err);
    const json = JSON.parse(fit.out);
    assert.equal(json.model, 'bgnbd');
    assert.deepEqual(Object.keys(json.params).sort(), ['a', 'alpha', 'b', 'r']);
    assert.deepEqual(Object.keys(json.stderr).sort(), ['a', 'alpha', 'b', 'r']);
    assert.equal(json.customers, 2357);
    assert.equal(json.converged, true);
    assert.equal(json.logLikelihood.toFixed(1), '-9582.4');
    assert.equal(json.holdout.byFrequency.length, 8);
    assert.equal(json.calibrationLastDay, '1997-09-30');
    assert.equal(json.holdout.length, 39);
    assert.equal(json.identified, true);
    assert.equal(json.pAliveInformative, true);
    assert.deepEqual(json.diagnostics, []);
    const pnbd = JSON.parse(comeback('fit', 'pnbd', '--calibration-end', '1997-09-30', '--json').out);
    assert.deepEqual(Object.keys(pnbd.params).sort(), ['alpha', 'beta', 'r', 's']);
    const gg = JSON.parse(comeback('fit', 'gg', '--as-of', '1997-10-01', '--json').out);
    assert.deepEqual(Object.keys(gg.params).sort(), ['gamma', 'p', 'q']);
    const predict = comeback('predict', '--csv', '--horizon', '39');
    assert.equal(predict.code, 0, predict.err);
    const lines = predict.out.trim().split('\n');
    assert.equal(
      lines[0],
      'customer_id,source,store_id,email,currency,p_alive,churn_risk,churn_band,expected_purchases,expected_purchase_value,clv,next_order',
    );
    assert.equal(lines.length, 2358);
    assert.equal(comeback('fit', 'nonsense').code, 2);
  });

  test('an import refreshes the saved segments of a store that uses them', () => {
    const rules = join(dir, 'buyers.json');
    writeFileSync(rules, JSON.stringify({ orders: 'count', op: 'gte', value: 1 }));
    const saved = comeback('segments', 'save', 'buyers', '--rules', rules, '--json');
    assert.equal(saved.code, 0, saved.err);
    assert.equal(JSON.parse(saved.out).size, 2357);
    const imported = comeback(
      'import',
      join(ROOT, 'samples/shopify/orders_export_1.devstore.redacted.csv'),
      '--format',
      'shopify',
    );
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.err, /segments refreshed/);
    const shown = JSON.parse(comeback('segments', 'show', 'buyers', '--json').out);
    assert.equal(shown.size ?? shown.members?.length, 2359, 'the two Shopify buyers joined');
  });

  test('exit code 1 with FILE:LINE: field: reason for bad input, and nothing written', () => {
    const bad = join(dir, 'bad-number.csv');
    copyFileSync(join(ROOT, 'test/fixtures/import/malformed/bad-number.csv'), bad);
    const result = comeback('import', bad, '--format', 'online-retail', '--db', `sqlite:${join(dir, 'bad.db')}`);
    assert.equal(result.code, 1);
    assert.match(result.err, /bad-number\.csv:4: Quantity: "six" is not a whole number/);
    // The failed import created the file, so it removed it again; a read command refuses it.
    assert.equal(existsSync(join(dir, 'bad.db')), false);
    assert.equal(comeback('stats', '--json', '--db', `sqlite:${join(dir, 'bad.db')}`).code, 1);
    assert.equal(existsSync(`${bad}.rejects.csv`), false);
  });

  test('exit code 2 for usage errors', () => {
    assert.equal(comeback('import', 'x.csv', '--format', 'nope').code, 2);
    assert.equal(comeback('import', 'x.csv').code, 2, 'missing --format');
    assert.equal(comeback('no-such-command').code, 2);
    assert.equal(comeback('stats', '--db', 'mysql://x').code, 2);
    assert.equal(comeback('import', 'x.csv', '--format', 'csv', '--map', 'oops').code, 2);
    assert.equal(comeback('--help').code, 0);
  });
});
