// A delivery worker in its own process, for the crash test: it delivers due e-mails to the SMTP port it
// is given, 20 at a time, until nothing is due, printing a line per batch. The test kills it with SIGKILL.
import { deliverDue, smtpSender } from '../src/campaigns/index.js';
import { openStore } from '../src/store/index.js';

const [url, port] = process.argv.slice(2);
const store = await openStore(url!);
const email = smtpSender({ host: '127.0.0.1', port: Number(port), ignoreTLS: true, maxConnections: 2 });
for (;;) {
  const done = await deliverDue(store.db, { email }, { now: Date.now, random: Math.random, limit: 20, concurrency: 2 });
  process.stdout.write(`${JSON.stringify(done)}\n`);
  if (done.claimed === 0) break;
}
email.close?.();
await store.close();
