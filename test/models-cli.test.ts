/**
 * Issue 10 through the real command line: what `fit` and `predict` do when the data cannot support
 * an answer, and that `segments lifecycle` then falls back to the store's recency rule.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { main } from '../src/cli/main.js';
import { tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-models-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

function comeback(db: string, ...args: string[]) {
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), ...args],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, COMEBACK_DB: `sqlite:${join(dir, db)}` } },
  );
  return { code: result.status, out: result.stdout, err: result.stderr, seconds: (performance.now() - started) / 1000 };
}

/**
 * Runs the command line in this process and measures the CPU seconds it used: the machine running
 * the suite is shared, so wall time measures the neighbours as much as the fit.
 */
async function timedInProcess(db: string, ...args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io = { out: sink((s) => (out += s)), err: sink((s) => (err += s)) };
  const before = process.cpuUsage();
  const code = await main(['node', 'comeback', ...args], io, {
    ...process.env,
    COMEBACK_DB: `sqlite:${join(dir, db)}`,
  });
  const used = process.cpuUsage(before);
  return { code, out, err, cpuSeconds: (used.user + used.system) / 1e6 };
}

const day = (base: string, plus: number) => new Date(Date.parse(base) + plus * 86_400_000).toISOString().slice(0, 10);

describe('fit and predict on data that cannot support an answer', () => {
  test('Pareto/NBD on 40 weekly buyers ends within 5 s and says the dropout is not identified', async () => {
    const imported = comeback(
      'weekly.db',
      'import',
      join(ROOT, 'test/fixtures/weekly/weekly-buyers.csv'),
      '--format',
      'csv',
    );
    assert.equal(imported.code, 0, imported.err);
    await timedInProcess('weekly.db', 'stats', '--json'); // loads the modules before the clock starts
    const fit = await timedInProcess('weekly.db', 'fit', 'pnbd', '--json');
    assert.equal(fit.code, 0, fit.err);
    assert.ok(fit.cpuSeconds < 5, `comeback fit pnbd took ${fit.cpuSeconds.toFixed(1)} CPU seconds`);
    const json = JSON.parse(fit.out);
    assert.equal(json.customers, 40);
    assert.equal(json.identified, false);
    assert.equal(json.pAliveInformative, false);
    assert.ok(json.diagnostics.some((d: { code: string }) => d.code === 'dropout_not_identified'));
    assert.match(fit.err, /pnbd: the data do not identify this fit: .*dropout_not_identified/);
    const human = comeback('weekly.db', 'fit', 'pnbd');
    assert.match(human.out, /this history cannot tell who has left: the model reduced to NBD/);
    assert.doesNotMatch(human.out, /0\.0000|-0\.00\b/);

    const predict = comeback('weekly.db', 'predict', '--model', 'pnbd', '--json');
    assert.equal(predict.code, 0, predict.err);
    assert.match(predict.err, /cannot tell who has left.*stored without P\(alive\) and churn risk/s);
    const scores = JSON.parse(predict.out);
    assert.equal(scores.pAliveInformative, false);
    assert.equal(scores.customers.length, 40);
    for (const c of scores.customers) {
      assert.equal(c.p_alive, null);
      assert.equal(c.churn_risk, null);
      assert.equal(c.churn_band, null);
    }
    const lifecycle = JSON.parse(comeback('weekly.db', 'segments', 'lifecycle', '--json').out);
    assert.equal(lifecycle.scored, 0, 'no uninformative P(alive) reaches the lifecycle');
  });

  test('270 one-order customers: predict exits 1 with the reason, stores nothing, and the silent ones are churned', () => {
    const rows = ['order_id,customer_id,placed_at,total,currency'];
    for (let i = 0; i < 270; i++) rows.push(`O${i},C${i},${day('2020-01-01', Math.round((i * 728) / 269))},25.00,EUR`);
    const file = join(dir, 'one-time.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    assert.equal(comeback('one.db', 'import', file, '--format', 'csv').code, 0);
    const predict = comeback('one.db', 'predict');
    assert.equal(predict.code, 1);
    assert.match(predict.err, /no customer made a repeat purchase/);
    for (const model of ['bgnbd', 'mbgnbd', 'pnbd']) {
      const fit = comeback('one.db', 'fit', model);
      assert.equal(fit.code, 1, model);
      assert.match(fit.err, /no customer made a repeat purchase/);
    }
    const gg = comeback('one.db', 'fit', 'gg');
    assert.equal(gg.code, 1);
    assert.match(gg.err, /no repeat customer with a positive spend/);
    const lifecycle = JSON.parse(comeback('one.db', 'segments', 'lifecycle', '--json').out);
    assert.equal(lifecycle.scored, 0, 'nothing was stored');
    // No repeat gaps: the fallback thresholds 90 / 180 / 360 days. Customer i bought on day
    // round(728 i / 269) and is, as of the day after the last sale, 729 − that many days silent.
    const expected = { new: 0, at_risk: 0, lapsed: 0, churned: 0 };
    for (let i = 0; i < 270; i++) {
      const silent = 729 - Math.round((i * 728) / 269);
      if (silent > 360) expected.churned++;
      else if (silent > 180) expected.lapsed++;
      else if (silent > 90) expected.at_risk++;
      else expected.new++;
    }
    const counts = { new: 0, at_risk: 0, lapsed: 0, churned: 0 };
    for (const c of lifecycle.customers as Array<{ stage: keyof typeof counts; daysSinceLastSale: number }>) {
      counts[c.stage]++;
      if (c.daysSinceLastSale > 700) assert.equal(c.stage, 'churned');
    }
    assert.deepEqual(counts, expected);
  });

  test('one customer, and Gamma-Gamma with a single repeater: exit 1 with the reason', async () => {
    const file = join(dir, 'single.csv');
    writeFileSync(
      file,
      'order_id,customer_id,placed_at,total,currency\nA1,C1,2020-01-01,10.00,EUR\nA2,C1,2020-02-01,30.00,EUR\nA3,C1,2020-03-01,20.00,EUR\n',
    );
    assert.equal(comeback('single.db', 'import', file, '--format', 'csv').code, 0);
    const fit = await timedInProcess('single.db', 'fit', 'pnbd');
    assert.equal(fit.code, 1);
    assert.match(fit.err, /only one customer/);
    assert.ok(fit.cpuSeconds < 5, `${fit.cpuSeconds} CPU seconds`);
    const gg = comeback('single.db', 'fit', 'gg');
    assert.equal(gg.code, 1);
    assert.match(gg.err, /only one repeat customer with a positive spend/);
    assert.doesNotMatch(gg.out, /e\+109/);
  });
});
