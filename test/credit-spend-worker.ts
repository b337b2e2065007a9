/**
 * A child process of the store-credit concurrency test: opens the database, waits for "go" on stdin,
 * then fires its spends of one member's credit at once and prints what it got as one JSON line.
 * Usage: node --import tsx test/credit-spend-worker.ts DB_URL CUSTOMER_ID COUNT AMOUNT_MINOR TAG
 */
import { createInterface } from 'node:readline';
import { spendCredit } from '../src/loyalty/index.js';
import { openStore } from '../src/store/index.js';

const [url, customer, count, amount, tag] = process.argv.slice(2);
if (!url || !customer || !count || !amount || !tag) throw new Error('usage: DB_URL CUSTOMER_ID COUNT AMOUNT_MINOR TAG');
const store = await openStore(url, { migrate: false });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const spent: number[] = [];
const errors: string[] = [];
await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => {
    try {
      const result = await spendCredit(store.db, {
        customerId: Number(customer),
        currency: 'GBP',
        amountMinor: Number(amount),
        reason: 'concurrency test',
        reference: null,
        idempotencyKey: `spend:${tag}:${i}`,
        now: Date.UTC(2025, 0, 1),
      });
      if (result.ok) spent.push(result.value.spentMinor);
      else errors.push(`${result.error.kind}: ${result.error.message}`);
    } catch (error) {
      errors.push(String(error));
    }
  }),
);
await store.close();
process.stdout.write(`${JSON.stringify({ spent, errors })}\n`);
