import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { createApiKey } from '../src/api/keys.queries.js';
import { EventGroupCommit } from '../src/ingest/index.js';
import { isPostgres } from '../src/store/index.js';
import { DIALECTS, freshDatabase } from './setup.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const NOW = Date.UTC(2026, 0, 1);

for (const dialect of DIALECTS) {
  describe(`group commit of events on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('killed mid-batch (SIGKILL), the server never answered 2xx for an event it had not stored', async () => {
      const t = await freshDatabase(dialect.name);
      const { key } = await createApiKey(t.store.db, { scope: 'write', now: NOW });
      const child = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), MAIN, 'serve', '--port', '0', '--rate-limit', '0', '--db', t.url],
        { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, COMEBACK_LOG_LEVEL: 'warn' } },
      );
      const answered: string[] = [];
      let failed = 0;
      try {
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const first = String((await lines.next()).value);
        const url = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(first)?.[1];
        assert.ok(url, first);
        let stop = false;
        let sent = 0;
        const worker = async (w: number) => {
          while (!stop) {
            const messageId = `crash-${w}-${sent++}`;
            try {
              const response = await fetch(`${url}/api/v1/track`, {
                method: 'POST',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                  messageId,
                  anonymousId: `anon-${w}`,
                  event: 'Product Viewed',
                  timestamp: '2025-12-31T12:00:00Z',
                }),
              });
              if (response.status >= 200 && response.status < 300) answered.push(messageId);
              else failed += 1;
              await response.arrayBuffer();
            } catch {
              failed += 1; // the connection died with the server
              return;
            }
          }
        };
        const workers = Array.from({ length: 32 }, (_, w) => worker(w));
        // Kill while 32 requests are in flight, after enough answers that batches are committing steadily.
        while (answered.length < 400) await new Promise((resolve) => setTimeout(resolve, 5));
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGKILL');
        await exited;
        stop = true;
        await Promise.all(workers);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      try {
        assert.ok(failed > 0, 'some requests were cut off by the kill');
        const stored = new Set(
          (await t.store.db.selectFrom('events').select('message_id').execute()).map((r) => r.message_id),
        );
        const missing = answered.filter((id) => !stored.has(id));
        assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered events are not stored`);
        assert.ok(stored.size >= answered.length);
      } finally {
        await t.drop();
      }
    });

    test('a batch that fails answers every request waiting on it with the error, and stores none of them', async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const db = t.store.db;
        // A database failure inside the batch: the insert of one poisoned call is refused by a trigger.
        if (isPostgres(db)) {
          await sql`create function poison() returns trigger language plpgsql as $$
            begin if new.message_id = 'poison' then raise exception 'poisoned'; end if; return new; end $$`.execute(db);
          await sql`create trigger poison before insert on events for each row execute function poison()`.execute(db);
        } else {
          await sql`create trigger poison before insert on events when new.message_id = 'poison'
            begin select raise(abort, 'poisoned'); end`.execute(db);
        }
        const commit = new EventGroupCommit(db, { maxEvents: 100, maxWaitMs: 50 });
        const call = (messageId: string) =>
          commit.record([{ type: 'track', event: 'Product Viewed', anonymousId: 'a1', messageId }], { now: NOW });
        const results = await Promise.allSettled([call('ok-1'), call('poison'), call('ok-2')]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['rejected', 'rejected', 'rejected'],
        );
        const stored = await db.selectFrom('events').select('message_id').execute();
        assert.deepEqual(stored, []);
        // The next batch, without the poison, stores and answers.
        const ok = await Promise.all([call('ok-3'), call('ok-4')]);
        assert.deepEqual(
          ok.map((r) => r.inserted),
          [1, 1],
        );
        const after = await db.selectFrom('events').select('message_id').orderBy('message_id').execute();
        assert.deepEqual(
          after.map((r) => r.message_id),
          ['ok-3', 'ok-4'],
        );
        // Requests in one batch share one commit: a duplicate within the batch is a duplicate.
        const [x, y] = await Promise.all([call('ok-5'), call('ok-5')]);
        assert.equal((x?.inserted ?? 0) + (y?.inserted ?? 0), 1);
        assert.equal((x?.duplicates ?? 0) + (y?.duplicates ?? 0), 1);
      } finally {
        await t.drop();
      }
    });
  });
}
