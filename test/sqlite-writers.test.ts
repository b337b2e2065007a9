import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import { main } from '../src/cli/main.js';
import { ComebackError } from '../src/errors.js';
import { batchTransaction, importFile } from '../src/ingest/index.js';
import { samplePath } from '../src/shared/paths.js';
import { countRows } from '../src/store/index.js';
import { freshDatabase, type TestDb, tempDir } from './setup.js';

const NOW = Date.UTC(2026, 0, 1);
const WORKER = join(import.meta.dirname, 'import-lock-worker.ts');
const RETAIL = samplePath('online-retail', 'online-retail-sample.csv.gz');
const CDNOW = samplePath('cdnow', 'CDNOW_sample.txt');

function worker(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The child's stdout lines, resolved when it exits (rejected on a non-zero exit). */
function exited(child: ChildProcess): Promise<string[]> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`exit ${code}: ${err}`)),
    ),
  );
}

function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout!.on('data', (d) => {
      seen += d;
      if (seen.includes(text)) resolve();
    });
  });
}

// SQLite only: PostgreSQL's row locks never make a writer wait for a whole import.
describe('SQLite writers during an import (real second processes)', () => {
  let t: TestDb;
  let path: string;
  before(async () => {
    t = await freshDatabase('sqlite');
    path = t.url.slice('sqlite:'.length);
  });
  after(async () => t?.drop());

  test('an import in another process commits in batches: writes and a second import wait a batch, none fails', async () => {
    const db = t.store.db;
    const { key } = await createApiKey(db, { scope: 'write', name: 'writer', now: NOW });
    const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
    const child = worker('import', path, RETAIL, 'online-retail');
    const done = exited(child);
    // Wait until the other process has started writing (its import is recorded, not yet complete).
    for (;;) {
      const running = await db.selectFrom('imports').select('id').where('completed_at', 'is', null).executeTakeFirst();
      if (running) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Writes of our own, as the API makes them, while the other process imports: each takes the lock.
    let during = 0;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < 40; i += 1) {
        await batchTransaction(db, async (trx) => {
          await trx
            .insertInto('customers')
            .values({ source: 'api', email: `writer-${i}@example.com`, first_seen_at: NOW, created_at: NOW })
            .execute();
        });
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/orders',
          headers: { authorization: `Bearer ${key}` },
          payload: {
            externalId: `api-${i}`,
            placedAt: '2024-05-01T10:00:00Z',
            currency: 'EUR',
            status: 'paid',
            totalMinor: 500,
            customer: { email: `writer-${i}@example.com` },
            lines: [],
          },
        });
        assert.equal(response.statusCode, 201, response.body);
        written += 1;
        const running = await db
          .selectFrom('imports')
          .select('id')
          .where('completed_at', 'is', null)
          .executeTakeFirst();
        if (running) during += 1;
      }
    })();
    // And a second import, in this process, at the same time.
    const second = importFile(db, CDNOW, { format: 'cdnow', now: NOW });
    const [lines, summary] = await Promise.all([done, second, writes]);
    const result = JSON.parse(lines.at(-1)!);
    assert.equal(result.ok, true, lines.join('\n'));
    assert.equal(result.orders, 1837, 'the Online Retail sample has 1,837 invoices (see import.test.ts, DuckDB)');
    assert.equal(summary.orders, 6919);
    assert.equal(written, 40);
    assert.ok(during > 0, 'some writes committed while the other import was still running');
    await app.close();
    assert.equal(await countRows(db, 'orders'), 1837 + 6919 + 40);
    const incomplete = await db.selectFrom('imports').select('id').where('completed_at', 'is', null).execute();
    assert.equal(incomplete.length, 0);
  });

  test('a lock held past the busy timeout: the import is a busy error, the CLI exits 1 saying so, the API answers 503', async () => {
    const dir = tempDir();
    const file = join(dir, 'orders.csv');
    writeFileSync(file, 'order_id,placed_at,currency,total\nL-1,2024-05-01,EUR,5.00\n');
    const { key } = await createApiKey(t.store.db, { scope: 'write', name: 'writer', now: NOW });
    const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
    const holder = worker('hold', path, '14000');
    const held = exited(holder);
    await printed(holder, 'locked');
    // This process gives up after 300 ms instead of SQLite's 10 s.
    await sql`pragma busy_timeout = 300`.execute(t.store.db);
    await assert.rejects(importFile(t.store.db, file, { format: 'csv', now: NOW }), (error: unknown) => {
      assert.ok(error instanceof ComebackError);
      assert.equal(error.kind, 'busy');
      return true;
    });
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { authorization: `Bearer ${key}` },
        payload: {
          externalId: 'L-2',
          placedAt: '2024-05-01T10:00:00Z',
          currency: 'EUR',
          status: 'paid',
          totalMinor: 500,
          lines: [],
        },
      });
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(response.headers['retry-after'], '1');
      assert.equal(response.json().error.code, 'busy');
    } finally {
      await app.close();
    }
    // The CLI opens the store with the 10 s busy timeout: still locked after that, it exits 1.
    const out = new PassThrough();
    const err = new PassThrough();
    const code = await main(['node', 'comeback', 'import', file, '--format', 'csv', '--db', t.url], { out, err }, {});
    assert.equal(code, 1);
    assert.match(String(err.read()), /comeback: the database is busy with another writer; try again in a moment/);
    await held;
    await sql`pragma busy_timeout = 10000`.execute(t.store.db);
    const summary = await importFile(t.store.db, file, { format: 'csv', now: NOW });
    assert.equal(summary.orders, 1, JSON.stringify(summary));
  });
});
