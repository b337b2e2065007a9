import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../../test/pg-drop.js';
import { addCustomer, addOrder } from '../../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { importFile } from '../../ingest/index.js';
import type { ModelSelection } from '../../predict/index.js';
import { samplePath } from '../../shared/paths.js';
import type { Io } from '../io.js';
import { main } from '../main.js';
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

/** Runs `comeback ARGS…` in-process. */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io: Io = { out: sink((s) => (out += s)), err: sink((s) => (err += s)) };
  const code = await main(['node', 'comeback', ...args], io, {});
  return { code, out, err };
}

for (const dialect of DIALECTS) {
  describe(`predict and cohorts name the currencies they leave out on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('cdnow', 'CDNOW_sample.txt'), { format: 'cdnow', now: 0 });
      const db = t.store.db;
      const at = Date.UTC(1997, 5, 1);
      // Three customers bought only in KRW, one in KRW and USD (scored), two only in GBP.
      for (let i = 0; i < 3; i++)
        await addOrder(db, await addCustomer(db), { at, currency: 'KRW', totalMinor: 50_000 });
      const both = await addCustomer(db);
      await addOrder(db, both, { at, currency: 'KRW', totalMinor: 50_000 });
      await addOrder(db, both, { at: at + 86_400_000, currency: 'USD', totalMinor: 2_000 });
      for (let i = 0; i < 2; i++) await addOrder(db, await addCustomer(db), { at, currency: 'GBP' });
      // A KRW sale after the as-of is not counted.
      await addOrder(db, await addCustomer(db), { at: Date.UTC(1998, 7, 1), currency: 'KRW' });
    });
    after(async () => dropWhenClosed(t));

    test('predict: a note (human and JSON) with each other currency and the customers not scored', async () => {
      const json = await run(['predict', '--model', 'bgnbd', '--as-of', '1998-06-30', '--json', '--db', t.url]);
      assert.equal(json.code, 0, json.err);
      const result = JSON.parse(json.out);
      assert.equal(result.currency, 'USD');
      assert.equal(result.customers.length, 2357 + 1);
      assert.deepEqual(result.leftOutCurrencies, [
        { currency: 'GBP', customers: 2 },
        { currency: 'KRW', customers: 3 },
      ]);
      const expected =
        'left out: 2 customers who bought only in GBP (comeback predict --currency GBP); ' +
        '3 customers who bought only in KRW (comeback predict --currency KRW)';
      assert.equal(result.leftOutNote, expected);
      const text = await run(['predict', '--model', 'bgnbd', '--as-of', '1998-06-30', '--db', t.url]);
      assert.ok(text.out.includes(expected), text.out);
      // The CSV holds the USD customers only; the note goes to stderr, out of the file.
      const csv = await run(['predict', '--model', 'bgnbd', '--as-of', '1998-06-30', '--csv', '--db', t.url]);
      assert.equal(csv.code, 0, csv.err);
      assert.ok(csv.err.includes(expected), csv.err);
      assert.ok(!csv.out.includes('left out'));
      const krw = await run([
        'predict',
        '--model',
        'bgnbd',
        '--as-of',
        '1998-06-30',
        '--currency',
        'KRW',
        '--json',
        '--db',
        t.url,
      ]);
      // Three KRW-only customers and the one who bought in both: too few and too flat to fit, or scored.
      if (krw.code === 0) assert.equal(JSON.parse(krw.out).customers.length, 4);
      else assert.match(krw.err, /KRW|fit|repeat|customer/i);
    });

    test('cohorts: the same note', async () => {
      const json = await run(['cohorts', '--as-of', '1998-06-30', '--json', '--db', t.url]);
      assert.equal(json.code, 0, json.err);
      const result = JSON.parse(json.out);
      assert.deepEqual(result.leftOutCurrencies, [
        { currency: 'GBP', customers: 2 },
        { currency: 'KRW', customers: 3 },
      ]);
      const text = await run(['cohorts', '--as-of', '1998-06-30', '--db', t.url]);
      assert.match(
        text.out,
        /left out: 2 customers who bought only in GBP \(comeback cohorts --currency GBP\); 3 customers who bought only in KRW/,
      );
    });
  });
}
