import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type DialectName, openStore, type Store } from '../src/store/index.js';

/**
 * The databases every database test runs on: SQLite always, PostgreSQL when COMEBACK_TEST_PG names a
 * server (scripts/with-postgres.sh starts one). In CI a missing server is an error, not a skip.
 */
export const PG_URL = process.env.COMEBACK_TEST_PG;

if (!PG_URL && process.env.CI) {
  throw new Error('CI is set but COMEBACK_TEST_PG is not: PostgreSQL tests would be skipped');
}

export interface TestDialect {
  name: DialectName;
  /** A reason to skip, when this dialect cannot run here. */
  skip: string | false;
}

export const DIALECTS: readonly TestDialect[] = [
  { name: 'sqlite', skip: false },
  {
    name: 'postgres',
    skip: PG_URL ? false : 'PostgreSQL not available: set COMEBACK_TEST_PG or run scripts/with-postgres.sh npm test',
  },
];

/** A fresh, empty, migrated database of the dialect, plus a function that removes it again. */
export interface TestDb {
  store: Store;
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh database: a new SQLite file in a temporary folder, or a new PostgreSQL database. */
export async function freshDatabase(dialect: DialectName): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'comeback-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const store = await openStore(url);
    return {
      store,
      url,
      drop: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('PostgreSQL is not available');
  const name = `comeback_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const store = await openStore(url.toString());
  return {
    store,
    url: url.toString(),
    drop: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A folder for files a test writes; removed by the caller. */
export function tempDir(prefix = 'comeback-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The real `comeback` command line in a child process, as a user runs it: in `dir`, with `COMEBACK_DB`
 * the SQLite file `database` there. Returns the exit code and what it printed.
 */
export function cliIn(dir: string, database: string) {
  const main = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
  return (...args: string[]) => {
    const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, COMEBACK_DB: `sqlite:${join(dir, database)}` },
    });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };
}
