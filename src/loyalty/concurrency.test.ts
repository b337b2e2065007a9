import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, testProgramConfig } from '../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { openStore, type Store } from '../store/index.js';
import {
  adjust,
  auditLedger,
  enrolMember,
  memberStatus,
  type Program,
  redeem,
  saveProgram,
  syncOrders,
} from './index.js';
import type { LoyaltyTables } from './loyalty-tables.js';

const NOW = Date.UTC(2025, 5, 1);
const COST = 60; // the `ship` reward of the test program
const INITIAL = 9_000; // enough for 150 of the 300 attempts
const WORKER = join(import.meta.dirname, '../../test/loyalty-redeem-worker.ts');

interface WorkerResult {
  codes: string[];
  refused: Record<string, number>;
  errors: string[];
}

/** Starts the worker processes, waits until each has opened the database, then releases them together. */
async function runWorkers(url: string, customerId: number, processes: number, each: number): Promise<WorkerResult[]> {
  const workers = Array.from({ length: processes }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, url, String(customerId), String(each), 'ship'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('ready\n')) onReady();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<WorkerResult>((resolve, reject) => {
      child.on('exit', (code) => {
        onReady();
        if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
        try {
          resolve(JSON.parse(out.trim().split('\n').at(-1)!) as WorkerResult);
        } catch (error) {
          reject(new Error(`worker printed no result: ${out} ${err}`, { cause: error }));
        }
      });
    });
    return { child, ready, exited };
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) if (w.child.exitCode === null) w.child.stdin.end('go\n');
  return Promise.all(workers.map((w) => w.exited));
}

/** Extra connection pools on the test database, for many truly concurrent transactions. */
async function openStores(url: string, n: number): Promise<Store[]> {
  const stores: Store[] = [];
  for (let i = 0; i < n; i += 1) stores.push(await openStore(url, { migrate: false }));
  return stores;
}

/**
 * Closes the pools and gives the server a moment to end their backends, so that dropping the test
 * database (WITH FORCE) afterwards does not terminate a connection still closing.
 */
async function closeStores(stores: Store[]): Promise<void> {
  for (const store of stores) await store.close();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function checkOutcome(t: TestDb, program: Program, customerId: number, codes: string[], errors: string[]) {
  assert.deepEqual(errors, []);
  assert.equal(codes.length, Math.floor(INITIAL / COST), 'exactly as many redemptions as the balance pays for');
  assert.equal(new Set(codes).size, codes.length, 'every code unique');
  const status = (await memberStatus(t.store.db, program, customerId, { asOf: NOW }))!;
  assert.equal(status.available, INITIAL - codes.length * COST);
  assert.ok(status.available >= 0);
  const audit = await auditLedger(t.store.db);
  assert.deepEqual(audit.problems, []);
}

for (const dialect of DIALECTS) {
  describe(`concurrent redemptions on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let program: Program;
    const member = async () => {
      const customerId = await addCustomer(t.store.db);
      assert.ok((await enrolMember(t.store.db, program, { customerId, now: NOW })).ok);
      const credited = await adjust(t.store.db, program, {
        customerId,
        points: INITIAL,
        reason: 'concurrency test',
        now: NOW,
      });
      assert.ok(credited.ok);
      return customerId;
    };
    before(async () => {
      t = await freshDatabase(dialect.name);
      program = await saveProgram(t.store.db, testProgramConfig({ actions: {} }), { now: NOW });
    });
    after(async () => t?.drop());

    if (dialect.name === 'sqlite') {
      test('300 redemptions from 4 processes sharing the file: no overdraft, no double redemption', async () => {
        const customerId = await member();
        const results = await runWorkers(t.url, customerId, 4, 75);
        const codes = results.flatMap((r) => r.codes);
        const refused = results.reduce((s, r) => s + (r.refused.insufficient_points ?? 0), 0);
        assert.equal(codes.length + refused, 300);
        await checkOutcome(
          t,
          program,
          customerId,
          codes,
          results.flatMap((r) => r.errors),
        );
      });
    } else {
      test('300 redemptions over 40 connections: no overdraft, no double redemption', async () => {
        const customerId = await member();
        const stores = await openStores(t.url, 4);
        try {
          const outcomes = await Promise.all(
            Array.from({ length: 300 }, (_, i) =>
              redeem(stores[i % stores.length]!.db, program, { customerId, rewardKey: 'ship', now: NOW }),
            ),
          );
          const codes = outcomes.flatMap((o) => (o.ok ? [o.value.code] : []));
          assert.ok(outcomes.every((o) => o.ok || o.error.kind === 'insufficient_points'));
          await checkOutcome(t, program, customerId, codes, []);
        } finally {
          await closeStores(stores);
        }
      });
    }

    if (dialect.name === 'postgres') {
      test('three order syncs at once book every order exactly once', async () => {
        const customers = [await member(), await member()];
        const orders: number[] = [];
        for (let i = 0; i < 40; i += 1) {
          orders.push(
            await addOrder(t.store.db, { customerId: customers[i % 2]!, placedAt: NOW + i, subtotalMinor: 1_000 + i }),
          );
        }
        const stores = await openStores(t.url, 3);
        try {
          const runs = await Promise.all(
            stores.map((s) => syncOrders(s.db, program, { now: NOW + 100, batchSize: 7 })),
          );
          assert.equal(
            runs.reduce((sum, r) => sum + r.pointsEarned, 0),
            orders.reduce((sum, _, i) => sum + Math.floor((1_000 + i) / 100), 0),
          );
          const earned = await t.store.db
            .withTables<LoyaltyTables>()
            .selectFrom('loyalty_orders')
            .select(['order_id', 'earned'])
            .where('order_id', 'in', orders)
            .execute();
          assert.equal(earned.length, orders.length, 'every order earned once');
          assert.ok(earned.every((row) => row.earned > 0));
          assert.deepEqual((await auditLedger(t.store.db)).problems, []);
        } finally {
          await closeStores(stores);
        }
      });
    }

    test('the same redemption retried 50 times at once is issued once', async () => {
      const customerId = await member();
      // One SQLite connection per process (better-sqlite3 is synchronous); several pools on PostgreSQL.
      const stores = dialect.name === 'postgres' ? await openStores(t.url, 3) : [t.store];
      try {
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            redeem(stores[i % stores.length]!.db, program, {
              customerId,
              rewardKey: 'ship',
              now: NOW,
              idempotencyKey: 'once',
            }),
          ),
        );
        const codes = new Set(outcomes.map((o) => (o.ok ? o.value.code : o.error.kind)));
        assert.equal(codes.size, 1);
        assert.equal(outcomes.filter((o) => o.ok && o.value.created).length, 1);
        const status = (await memberStatus(t.store.db, program, customerId, { asOf: NOW }))!;
        assert.equal(status.available, INITIAL - COST);
      } finally {
        if (dialect.name === 'postgres') await closeStores(stores);
      }
    });
  });
}
