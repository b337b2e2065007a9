import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli as run } from './run-cli.js';
import { PG_URL, tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const SAMPLE_GZ = join(ROOT, 'samples/online-retail/online-retail-sample.csv.gz');
const SHOPIFY = join(ROOT, 'samples/shopify/orders_export_1.devstore.redacted.csv');
const CDNOW = join(ROOT, 'samples/cdnow/CDNOW_sample.txt');
const dir = tempDir('comeback-mistakes-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** No stack trace: no line of the form `    at fn (file:line:col)`. */
function assertNoStack(text: string) {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, text);
  assert.doesNotMatch(text, /unexpected error/, text);
}

describe('mistakes on the command line get one clear line, never a stack trace', () => {
  test('a read command refuses a SQLite path that does not exist, and creates nothing', async () => {
    const path = join(dir, 'typo.db');
    for (const args of [['stats'], ['customer', '17850'], ['report'], ['predict', '--csv'], ['segments', 'rfm']]) {
      const result = await run(...args, '--db', `sqlite:${path}`);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(
        result.err,
        `comeback: --db sqlite:${path}: no database at ${path} (this command only reads one; check the path, or import orders first with comeback import)\n`,
      );
      assert.equal(existsSync(path), false, `${args.join(' ')} created the file`);
    }
  });

  test('a failed import into a new file leaves no file; into an existing one keeps it', async () => {
    const bad = join(dir, 'bad-number.csv');
    copyFileSync(join(ROOT, 'test/fixtures/import/malformed/bad-number.csv'), bad);
    const fresh = join(dir, 'fresh.db');
    const failed = await run('import', bad, '--format', 'online-retail', '--db', `sqlite:${fresh}`);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /bad-number\.csv:4: Quantity: "six" is not a whole number/);
    for (const suffix of ['', '-wal', '-shm'])
      assert.equal(existsSync(fresh + suffix), false, `left ${fresh}${suffix}`);

    const kept = join(dir, 'kept.db');
    assert.equal((await run('import', CDNOW, '--format', 'cdnow', '--db', `sqlite:${kept}`)).code, 0);
    assert.equal((await run('import', bad, '--format', 'online-retail', '--db', `sqlite:${kept}`)).code, 1);
    const stats = await run('stats', '--json', '--db', `sqlite:${kept}`);
    assert.equal(JSON.parse(stats.out).orders, 6919, 'the earlier import is still there');
  });

  test('missing files, directories, fake and truncated gzip files', async () => {
    const db = `sqlite:${join(dir, 'files.db')}`;
    const missing = join(dir, 'nope.csv');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const fake = join(dir, 'plain.csv.gz');
    writeFileSync(fake, 'InvoiceNo,StockCode\n');
    const truncated = join(dir, 'truncated.csv.gz');
    writeFileSync(truncated, readFileSync(SAMPLE_GZ).subarray(0, 4000));
    const cases: Array<[string, string]> = [
      [missing, `comeback: ${missing}: no such file\n`],
      [folder, `comeback: ${folder}: is a directory, not a file\n`],
      [fake, `comeback: ${fake}: named .gz but not gzip-compressed (rename it without .gz if it is plain text)\n`],
      [
        truncated,
        `comeback: ${truncated}: the gzip file is truncated (the compressed data ends early); nothing was imported from it\n`,
      ],
    ];
    for (const [file, message] of cases) {
      const result = await run('import', file, '--format', 'online-retail', '--db', db);
      assert.equal(result.code, 1, file);
      assert.equal(result.err, message);
      assertNoStack(result.err);
    }
  });

  test('the wrong --format names the format whose header fits', async () => {
    const db = `sqlite:${join(dir, 'format.db')}`;
    const cases: Array<[string, string, RegExp]> = [
      [
        SAMPLE_GZ,
        'shopify',
        /:1: header: missing column "Name": the file is not in the shopify format; its header fits --format online-retail\n$/,
      ],
      [
        SHOPIFY,
        'online-retail',
        /:1: header: missing column "InvoiceNo": the file is not in the online-retail format; its header fits --format shopify\n$/,
      ],
      [CDNOW, 'woocommerce', /: the file is not in the woocommerce format; its header fits --format cdnow\n$/],
    ];
    for (const [file, format, message] of cases) {
      const result = await run('import', file, '--format', format, '--db', db);
      assert.equal(result.code, 1, `${file} as ${format}`);
      assert.match(result.err, message);
    }
  });

  test('PostgreSQL that cannot be reached: host not found, refused, no such role or database', async () => {
    const notFound = await run('stats', '--db', 'postgres://nowhere.invalid/x');
    assert.equal(notFound.err, 'comeback: cannot connect to PostgreSQL at nowhere.invalid: host not found\n');
    assert.equal(notFound.code, 1);
    const refused = await run('stats', '--db', 'postgres://127.0.0.1:1/x');
    assert.equal(
      refused.err,
      'comeback: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused (is the server running and listening there?)\n',
    );
  });

  test('PostgreSQL that refuses the user or lacks the database', {
    skip: PG_URL ? false : 'COMEBACK_TEST_PG is not set',
  }, async () => {
    const url = new URL(PG_URL!);
    const hostPort = `${url.hostname}${url.port ? `:${url.port}` : ''}`;
    const role = new URL(PG_URL!);
    role.username = 'no_such_role_h14';
    role.password = 'wrong';
    const refused = await run('stats', '--db', role.toString());
    assert.equal(
      refused.err,
      `comeback: cannot connect to PostgreSQL at ${hostPort}: authentication failed for user no_such_role_h14\n`,
    );
    const db = new URL(PG_URL!);
    db.pathname = '/no_such_database_h14';
    const missing = await run('stats', '--db', db.toString());
    assert.equal(
      missing.err,
      `comeback: cannot connect to PostgreSQL at ${hostPort}: database "no_such_database_h14" does not exist\n`,
    );
  });
});
