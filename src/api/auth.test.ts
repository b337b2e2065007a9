import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedLookups } from './auth.js';

test('concurrent lookups of one key share a call in flight; the next lookup after it answers asks again', async () => {
  const asked: string[] = [];
  let release: (() => void) | undefined;
  const lookUp = sharedLookups(async (key: string) => {
    asked.push(key);
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return `${key}#${asked.length}`;
  });
  const first = lookUp('k1');
  const second = lookUp('k1');
  assert.deepEqual(asked, ['k1'], 'the second request joined the first lookup');
  release?.();
  assert.deepEqual(await Promise.all([first, second]), ['k1#1', 'k1#1']);
  // Nothing is kept once answered: a key revoked meanwhile is seen by the next lookup.
  const third = lookUp('k1');
  assert.deepEqual(asked, ['k1', 'k1']);
  release?.();
  assert.equal(await third, 'k1#2');
});

test('a failed lookup is not kept either', async () => {
  let calls = 0;
  const lookUp = sharedLookups(async () => {
    calls += 1;
    if (calls === 1) throw new Error('connection lost');
    return 'found';
  });
  await assert.rejects(lookUp('k'), /connection lost/);
  assert.equal(await lookUp('k'), 'found');
  assert.equal(calls, 2);
});
