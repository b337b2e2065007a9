import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { majorAmount } from '../src/cli/export-columns.js';
import { formatTable, safeText } from '../src/cli/io.js';
import { runCli as run } from './run-cli.js';
import { DIALECTS, freshDatabase, type TestDb, tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-exports-');
after(() => rmSync(dir, { recursive: true, force: true }));

// Store ids 2, 1, C-77 arrive in that order, so internal #1 is the store's "2" and internal #2 the store's
// "1": a bare 1 or 2 names two customers. Names hold ESC, BEL and NUL (NUL on SQLite only: PostgreSQL's
// text cannot hold it).
const generic = (nul: string) =>
  [
    'order_id,placed_at,customer_id,email,first_name,last_name,total,currency',
    `A1,2024-01-05,2,two@example.com,"Evil\u001b]0;pwned\u0007",Name${nul}x,10.50,EUR`,
    'A2,2024-02-05,1,one@example.com,Plain,One,20.00,EUR',
    'A3,2024-03-05,C-77,seven@example.com,Seven,Sev\u001b[2Jen,30.00,EUR',
  ].join('\n');

test('amounts in major units, exactly, with the ISO 4217 exponent', () => {
  assert.equal(majorAmount(529809, 'GBP'), '5298.09');
  assert.equal(majorAmount(1500, 'KRW'), '1500');
  assert.equal(majorAmount(1234, 'KWD'), '1.234');
  assert.equal(majorAmount(-5, 'USD'), '-0.05');
  assert.equal(majorAmount(0, 'EUR'), '0.00');
  assert.equal(majorAmount(100, 'JPY'), '100');
});

test('control characters are shown escaped; table colours stay', () => {
  assert.equal(safeText('a\u001b]0;x\u0007b\u0000c\nd\u009b'), 'a\\x1b]0;x\\x07b\\x00c\\nd\\x9b');
  assert.equal(formatTable([['h'], ['\u001b[31mred\u001b[0m'], ['bel\u0007']]), 'h\n\u001b[31mred\u001b[0m\nbel\\x07');
});

test('a dash (no figure) stands where its column does: right among numbers, left among words', () => {
  assert.equal(
    formatTable([
      ['stage', 'customers', 'reasons'],
      ['new', '1,200', 'just_forgot 1'],
      ['lapsed', '–', '–'],
    ]),
    ['stage   customers  reasons', 'new         1,200  just_forgot 1', 'lapsed          –  –'].join('\n'),
  );
});

for (const dialect of DIALECTS) {
  describe(`exports and look-ups by the store's own ids on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const file = join(dir, `generic-${dialect.name}.csv`);
      writeFileSync(file, generic(dialect.name === 'sqlite' ? '\u0000' : '\u0007'));
      const cdnow = join(ROOT, 'samples/cdnow/CDNOW_sample.txt');
      assert.equal((await run('import', cdnow, '--format', 'cdnow', '--db', t.url)).code, 0);
      const imported = await run('import', file, '--format', 'csv', '--db', t.url);
      assert.equal(imported.code, 0, imported.err);
    });
    after(async () => {
      await t?.drop();
    });

    test("customer takes the store's id when it names one customer, and refuses an ambiguous one", async () => {
      const byStoreId = await run('customer', 'C-77', '--json', '--db', t.url);
      assert.equal(byStoreId.code, 0, byStoreId.err);
      const profile = JSON.parse(byStoreId.out);
      assert.equal(profile.customer.firstName, 'Seven');
      assert.deepEqual(
        profile.identities.map((i: { source: string; externalId: string }) => `${i.source}:${i.externalId}`),
        ['csv:C-77'],
      );
      // The generic file's customer 1 is not Comeback's #1 (CDNOW's customer 1, imported first): two customers.
      const ambiguous = await run('customer', '1', '--db', t.url);
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.err, /^comeback: 1 names 2 customers; say which: #1, csv:1\n$/);
      const none = await run('customer', 'zz-404', '--db', t.url);
      assert.equal(none.code, 1);
      assert.match(none.err, /no customer "zz-404"/);
      assert.equal((await run('customer', 'csv:C-77', '--json', '--db', t.url)).code, 0);
    });

    test('names and e-mails with ESC, BEL and NUL print escaped', async () => {
      const evil = JSON.parse((await run('customer', 'csv:2', '--json', '--db', t.url)).out);
      const shown = await run('customer', `#${evil.customer.id}`, '--db', t.url);
      assert.equal(shown.code, 0, shown.err);
      assert.ok(
        shown.out.startsWith(
          `customer csv:2, #${evil.customer.id} — Evil\\x1b]0;pwned\\x07 Name${dialect.name === 'sqlite' ? '\\x00' : '\\x07'}x <two@example.com>\n`,
        ),
      );
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none reach the terminal.
      assert.doesNotMatch(shown.out, /[\u0000-\u0008\u000b-\u001f\u007f]/);
      const seven = await run('customer', 'C-77', '--db', t.url);
      assert.match(seven.out, / — Seven Sev\\x1b\[2Jen <seven@example\.com>\n/);
    });

    test("rfm and predict CSVs carry the store's id, e-mail, and money in major units with the currency", async () => {
      const csv = await run('segments', 'rfm', '--as-of', '1998-07-01', '--csv', '--db', t.url);
      assert.equal(csv.code, 0, csv.err);
      const rows: Array<Record<string, string>> = parse(csv.out, { columns: true });
      assert.deepEqual(Object.keys(rows[0]!), [
        'customer_id',
        'source',
        'store_id',
        'email',
        'r',
        'f',
        'm',
        'recency_days',
        'frequency',
        'monetary',
        'currency',
        'group',
        'reason',
      ]);
      const json = JSON.parse((await run('segments', 'rfm', '--as-of', '1998-07-01', '--json', '--db', t.url)).out);
      const identities = await t.store.db.selectFrom('customer_identities').selectAll().execute();
      const storeIdOf = new Map(identities.map((i) => [Number(i.customer_id), `${i.source}:${i.external_id}`]));
      assert.equal(rows.length, json.customers.length);
      for (const row of rows) {
        const c = json.customers.find((x: { customerId: number }) => x.customerId === Number(row.customer_id));
        // By hand: cents to dollars is a shift of two decimal places.
        const cents = String(c.monetaryMinor).padStart(3, '0');
        assert.equal(row.monetary, `${cents.slice(0, -2)}.${cents.slice(-2)}`);
        assert.equal(row.currency, json.currency);
        assert.equal(`${row.source}:${row.store_id}`, storeIdOf.get(Number(row.customer_id)));
      }
      const cdnow1 = rows.find((r) => r.source === 'cdnow' && r.store_id === '1');
      assert.ok(cdnow1, 'CDNOW customer 1 is in the export under its own id');

      const predicted = await run('predict', '--csv', '--as-of', '1998-06-30', '--db', t.url);
      assert.equal(predicted.code, 0, predicted.err);
      const scores: Array<Record<string, string>> = parse(predicted.out, { columns: true });
      assert.deepEqual(Object.keys(scores[0]!).slice(0, 6), [
        'customer_id',
        'source',
        'store_id',
        'email',
        'currency',
        'p_alive',
      ]);
      for (const row of scores) assert.equal(`${row.source}:${row.store_id}`, storeIdOf.get(Number(row.customer_id)));
      assert.ok(scores.length > 2000, `${scores.length} customers scored`);
      assert.ok(
        scores.every((r) => r.currency === 'USD' && r.email === ''),
        'CDNOW has no e-mails; its currency is USD',
      );
    });
  });
}
