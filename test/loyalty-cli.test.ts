import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { main } from '../src/cli/main.js';
import { tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-loyalty-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs the `comeback` command line in-process (the entry point and exit codes a user gets). */
async function comeback(...args: string[]) {
  const out = collector();
  const err = collector();
  const code = await main(
    ['node', 'comeback', ...args],
    { out: out.stream, err: err.stream },
    {
      ...process.env,
      COMEBACK_DB: `sqlite:${join(dir, 'loyalty.db')}`,
    },
  );
  return { code, out: out.text(), err: err.text() };
}

describe('comeback loyalty', () => {
  test('init, sync over the sample, member, redeem, adjust, report and dormant', async () => {
    const sample = join(ROOT, 'samples/online-retail/online-retail-sample.csv.gz');
    assert.equal((await comeback('import', sample, '--format', 'online-retail')).code, 0);
    assert.equal((await comeback('loyalty', 'status')).code, 1, 'no program yet');
    const example = join(ROOT, 'samples/loyalty/program.example.json');
    assert.equal(JSON.parse((await comeback('loyalty', 'init', '--config', example, '--json')).out).version, 1);
    assert.equal(
      JSON.parse((await comeback('loyalty', 'init', '--config', example, '--json')).out).version,
      1,
      'same file, same version',
    );

    const asOf = ['--as-of', '2011-12-31'];
    const sync = JSON.parse((await comeback('loyalty', 'sync', ...asOf, '--json')).out);
    assert.ok(sync.orders.enrolled > 400);
    assert.equal(JSON.parse((await comeback('loyalty', 'sync', ...asOf, '--json')).out).orders.ledgerEntries, 0);

    const member = JSON.parse((await comeback('loyalty', 'member', '8', ...asOf, '--json')).out);
    assert.ok(member.available > 500);
    const redeemed = JSON.parse(
      (await comeback('loyalty', 'redeem', '8', '--reward', 'five-off', ...asOf, '--json')).out,
    );
    assert.match(redeemed.code, /^CB-/);
    assert.equal(redeemed.balance, member.available - 500);

    const noReason = await comeback('loyalty', 'adjust', '8', '--points', '10', '--reason', ' ');
    assert.equal(noReason.code, 1);
    assert.match(noReason.err, /reason/);
    assert.equal((await comeback('loyalty', 'adjust', '8', '--points', 'ten', '--reason', 'x')).code, 2);
    assert.equal((await comeback('loyalty', 'earn', '8', '--action', 'dance')).code, 2);
    const share = await comeback('loyalty', 'earn', '8', '--action', 'share', '--reference', 'https://x/1', ...asOf);
    assert.equal(share.code, 0, share.err);
    assert.match(share.out, /\+10 points/);

    const report = JSON.parse((await comeback('loyalty', 'report', ...asOf, '--json')).out);
    assert.equal(report.points.redeemed, 500);
    assert.match((await comeback('loyalty', 'report', ...asOf)).out, /liability\s+£/);
    const dormant = JSON.parse((await comeback('loyalty', 'dormant', '--days', '180', ...asOf, '--json')).out);
    assert.ok(dormant.every((m: { daysInactive: number }) => m.daysInactive >= 180));
    assert.equal((await comeback('loyalty', 'status', ...asOf)).code, 0);
  });

  test('a bad program file is refused naming the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', currency: 'GBP' }));
    const result = await comeback('loyalty', 'init', '--config', bad);
    assert.equal(result.code, 1);
    assert.match(result.err, /bad\.json: pointValueMinor: Expected required property/);
  });
});
