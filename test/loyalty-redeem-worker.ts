/**
 * A child process of the loyalty concurrency test: opens the database, waits for "go" on stdin, then
 * fires its redemptions for one member and prints what it got as one JSON line.
 * Usage: node --import tsx test/loyalty-redeem-worker.ts DB_URL CUSTOMER_ID COUNT REWARD_KEY
 */
import { createInterface } from 'node:readline';
import { loadProgram, redeem } from '../src/loyalty/index.js';
import { openStore } from '../src/store/index.js';

const [url, customer, count, reward] = process.argv.slice(2);
if (!url || !customer || !count || !reward) throw new Error('usage: DB_URL CUSTOMER_ID COUNT REWARD_KEY');
const store = await openStore(url);
const program = await loadProgram(store.db);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const codes: string[] = [];
const refused: Record<string, number> = {};
const errors: string[] = [];
await Promise.all(
  Array.from({ length: Number(count) }, async () => {
    try {
      const result = await redeem(store.db, program, {
        customerId: Number(customer),
        rewardKey: reward,
        now: Date.UTC(2025, 5, 1),
      });
      if (result.ok) codes.push(result.value.code);
      else refused[result.error.kind] = (refused[result.error.kind] ?? 0) + 1;
    } catch (error) {
      errors.push(String(error));
    }
  }),
);
await store.close();
process.stdout.write(`${JSON.stringify({ codes, refused, errors })}\n`);
