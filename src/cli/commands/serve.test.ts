import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';

const MAIN = join(import.meta.dirname, '..', 'main.ts');

for (const dialect of DIALECTS) {
  describe(`comeback serve on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => {
      await t?.drop();
    });

    test('prints its URL, answers on it, and stops cleanly on SIGTERM', async () => {
      const child = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), MAIN, 'serve', '--port', '0', '--db', t.url],
        { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, COMEBACK_LOG_LEVEL: 'warn' } },
      );
      try {
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const first = String((await lines.next()).value);
        const url = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(first)?.[1];
        assert.ok(url, first);
        const health = await fetch(`${url}/api/v1/health`);
        assert.deepEqual(await health.json(), { ok: true });
        assert.equal((await fetch(`${url}/api/v1/stats`)).status, 401);
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
}
