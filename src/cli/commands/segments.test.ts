import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { duckOne } from '../../../test/duck.js';
import { dropWhenClosed } from '../../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from '../../../test/setup.js';
import { importFile } from '../../ingest/index.js';
import { samplePath } from '../../shared/paths.js';
import type { Io } from '../io.js';
import { main } from '../main.js';

const CDNOW = samplePath('cdnow', 'CDNOW_sample.txt');
const NOW = Date.UTC(2026, 0, 1);

/** Runs `comeback ARGS…` in-process. */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const sink = (write: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const io: Io = {
    out: sink((s) => {
      out += s;
    }),
    err: sink((s) => {
      err += s;
    }),
  };
  const code = await main(['node', 'comeback', ...args], io, {});
  return { code, out, err };
}

/** The CDNOW sample read by DuckDB itself: space-padded lines of master id, sample id, YYYYMMDD, CDs, dollars. */
const RAW = `(
  select f[2] as customer, f[3] as date from (
    select string_split_regex(trim(regexp_replace(line, '\\r', '')), '\\s+') as f
    from read_csv('${CDNOW}', header = false, columns = {'line': 'varchar'}, delim = '|', quote = '')
    where trim(line) <> ''))`;

for (const dialect of DIALECTS) {
  describe(`comeback segments on the CDNOW sample on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let dir: string;
    before(async () => {
      t = await freshDatabase(dialect.name);
      dir = tempDir('comeback-segments-cli-');
      await importFile(t.store.db, CDNOW, { format: 'cdnow', now: NOW });
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await dropWhenClosed(t);
    });

    test('RFM groups nobody is in show – for their averages (null in the JSON), never 0 days or $0.00', async () => {
      // Ten days into CDNOW, customers have at most ten days of history: several groups are empty.
      const buyers = await duckOne(`select count(distinct customer) as n from ${RAW} where date <= '19970110'`);
      const json = await run(['segments', 'rfm', '--json', '--as-of', '1997-01-10', '--db', t.url]);
      assert.equal(json.code, 0, json.err);
      const result = JSON.parse(json.out) as {
        customers: Array<{ group: string; frequency: number }>;
        groups: Array<{ group: string; customers: number; avgRecencyDays: number | null; avgOrders: number | null }>;
      };
      assert.equal(result.customers.length, Number(buyers.n));
      const empty = result.groups.filter((g) => g.customers === 0);
      assert.ok(empty.length > 0 && empty.length < 11, `${empty.length} empty groups`);
      for (const g of empty) assert.deepEqual([g.avgRecencyDays, g.avgOrders], [null, null], g.group);
      for (const g of result.groups.filter((g) => g.customers > 0)) {
        const members = result.customers.filter((c) => c.group === g.group);
        assert.equal(g.customers, members.length);
        assert.equal(g.avgOrders, members.reduce((s, c) => s + c.frequency, 0) / members.length);
      }
      const table = await run(['segments', 'rfm', '--as-of', '1997-01-10', '--db', t.url]);
      for (const g of empty) assert.match(table.out, new RegExp(`^${g.group}\\s+0\\s+0\\.0 %\\s+–\\s+–\\s+–$`, 'm'));
      assert.doesNotMatch(table.out, /\$0\.00/);
    });

    test('"bought in the last 30 days as of 1997-04-01" is [1997-03-03, 1997-04-02), as DuckDB counts it', async () => {
      const expected = await duckOne(`select count(distinct customer) as n from ${RAW}
        where date >= '19970303' and date <= '19970401'`);
      const rules = join(dir, 'recent.json');
      writeFileSync(rules, JSON.stringify({ orders: 'count', withinDays: 30, op: 'gte', value: 1 }));
      // The end of 1997-04-01 written as an instant, which every as-of parser reads the same.
      const saved = await run([
        'segments',
        'save',
        'recent',
        '--rules',
        rules,
        '--as-of',
        '1997-04-02T00:00:00Z',
        '--json',
        '--db',
        t.url,
      ]);
      assert.equal(saved.code, 0, saved.err);
      assert.equal(JSON.parse(saved.out).size, Number(expected.n));
      assert.ok(Number(expected.n) > 50, `${expected.n} customers`);
      // RFM as of the same instant counts the purchases of 1997-04-01 itself.
      const days = await duckOne(`select count(*) as n from ${RAW} where date <= '19970401'`);
      const rfm = JSON.parse(
        (await run(['segments', 'rfm', '--json', '--as-of', '1997-04-02T00:00:00Z', '--db', t.url])).out,
      );
      const purchases = rfm.customers.reduce((s: number, c: { frequency: number }) => s + c.frequency, 0);
      assert.equal(purchases, Number(days.n));
      // … and as of the end of 1997-03-31 it does not: the difference is that day's purchases.
      const thatDay = await duckOne(`select count(*) as n from ${RAW} where date = '19970401'`);
      assert.ok(Number(thatDay.n) > 0);
      const before = JSON.parse(
        (await run(['segments', 'rfm', '--json', '--as-of', '1997-04-01T00:00:00Z', '--db', t.url])).out,
      );
      const purchasesBefore = before.customers.reduce((s: number, c: { frequency: number }) => s + c.frequency, 0);
      assert.equal(purchases - purchasesBefore, Number(thatDay.n));
    });

    test('migration: the to column is segments lifecycle as of TO, never with scores computed later', async () => {
      const predicted = await run(['predict', '--as-of', '1998-07-01T00:00:00Z', '--json', '--db', t.url]);
      assert.equal(predicted.code, 0, predicted.err);
      for (const to of ['1998-01-01T00:00:00Z', '1998-07-01T00:00:00Z']) {
        const lifecycle = JSON.parse(
          (await run(['segments', 'lifecycle', '--as-of', to, '--json', '--db', t.url])).out,
        );
        // Scores were computed as of 1998-07-01: the earlier date must not read them.
        assert.equal(lifecycle.scored > 0, to.startsWith('1998-07'), `scores used as of ${to}`);
        const migration = await run([
          'segments',
          'migration',
          '--from',
          '1997-10-01T00:00:00Z',
          '--to',
          to,
          '--json',
          '--db',
          t.url,
        ]);
        assert.equal(migration.code, 0, migration.err);
        const matrix = JSON.parse(migration.out);
        for (const stage of ['new', 'active', 'at_risk', 'lapsed', 'churned']) {
          const j = matrix.stages.indexOf(stage);
          const column = matrix.counts.reduce((s: number, row: number[]) => s + row[j]!, 0);
          const staged = lifecycle.customers.filter((c: { stage: string }) => c.stage === stage).length;
          assert.equal(column, staged, `${stage} as of ${to}`);
        }
        assert.deepEqual(matrix.thresholds, lifecycle.thresholds);
      }
      const backwards = await run([
        'segments',
        'migration',
        '--from',
        '1998-01-02',
        '--to',
        '1998-01-01',
        '--db',
        t.url,
      ]);
      assert.equal(backwards.code, 2);
      assert.match(backwards.err, /--from 1998-01-02 is after --to 1998-01-01/);
    });

    test('a rule nested 5,000 deep exits 1 naming the file and the path, with no stack trace', async () => {
      // Written as text: JSON.stringify itself overflows Node's stack at this depth.
      const file = join(dir, 'deep.json');
      writeFileSync(file, `${'{"not":'.repeat(5000)}{"orders":"count","op":"gte","value":1}${'}'.repeat(5000)}`);
      const saved = await run(['segments', 'save', 'deep', '--rules', file, '--db', t.url]);
      assert.equal(saved.code, 1);
      assert.ok(saved.err.includes(file), saved.err);
      assert.ok(saved.err.includes(`rules${'.not'.repeat(33)}`), saved.err);
      assert.ok(!/\n\s+at /.test(saved.err), 'no stack trace');
      const list = JSON.parse((await run(['segments', 'list', '--json', '--db', t.url])).out);
      assert.ok(!list.some((s: { name: string }) => s.name === 'deep'), 'nothing saved');
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`scores stored without P(alive) on the Online Retail sample on ${dialect.name}`, {
    skip: dialect.skip,
  }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      await importFile(t.store.db, samplePath('online-retail', 'online-retail-sample.csv.gz'), {
        format: 'online-retail',
        now: NOW,
      });
      // BG/NBD on this sample cannot tell who has left: the scores are stored with P(alive) null.
      const predicted = await run(['predict', '--model', 'bgnbd', '--as-of', '2011-12-09', '--db', t.url]);
      assert.equal(predicted.code, 0, predicted.err);
      assert.match(predicted.err, /P\(alive\) is not informative/);
    });
    after(async () => dropWhenClosed(t));

    test('the customer view shows the stored expected purchases and CLV and says P(alive) is not informative', async () => {
      const stored = await t.store.db
        .selectFrom('customer_scores')
        .innerJoin('customer_identities', 'customer_identities.customer_id', 'customer_scores.customer_id')
        .select(['p_alive', 'expected_purchases', 'clv'])
        .where('customer_identities.source', '=', 'online-retail')
        .where('customer_identities.external_id', '=', '13263')
        .executeTakeFirstOrThrow();
      assert.equal(stored.p_alive, null);
      const json = await run(['customer', 'online-retail:13263', '--json', '--db', t.url]);
      assert.equal(json.code, 0, json.err);
      const story = JSON.parse(json.out);
      assert.ok(story.scores, 'scores shown');
      assert.equal(story.scores.pAlive, null);
      assert.equal(story.scores.expectedPurchases, Number(stored.expected_purchases));
      assert.equal(story.scores.clv, Number(stored.clv));
      assert.equal(story.scores.currency, 'GBP', 'the CLV says its currency');
      assert.match(story.predictionNote, /cannot tell who has left/);
      const text = await run(['customer', 'online-retail:13263', '--db', t.url]);
      assert.match(
        text.out,
        new RegExp(
          `P\\(alive\\) not informative \\(.*cannot tell who has left.*\\), expected purchases ${Number(stored.expected_purchases).toFixed(2)}, CLV £${Number(stored.clv).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })},`,
        ),
      );
    });

    test('segments lifecycle says the stored scores have no P(alive), not that none are stored', async () => {
      const text = await run(['segments', 'lifecycle', '--as-of', '2011-12-09', '--db', t.url]);
      assert.equal(text.code, 0, text.err);
      assert.doesNotMatch(text.out, /no model scores stored/);
      assert.match(
        text.out,
        /the stored model scores have no P\(alive\) \(.*cannot tell who has left.*\): stages from days since the last order, the recency rule/,
      );
      const json = JSON.parse(
        (await run(['segments', 'lifecycle', '--as-of', '2011-12-09', '--json', '--db', t.url])).out,
      );
      assert.equal(json.scored, 0);
      assert.match(json.pAliveNote, /cannot tell who has left/);
    });
  });
}
