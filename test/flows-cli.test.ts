import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { cliIn, tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-flows-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real `comeback` command line in a child process, as a user would. */
const comeback = cliIn(dir, 'flows.db');

describe('comeback flows', () => {
  before(() => {
    // Like every command that reads the store, flows needs one: a store with its orders imported.
    const imported = comeback('import', join(ROOT, 'samples/cdnow/CDNOW_sample.txt'), '--format', 'cdnow');
    assert.equal(imported.code, 0, imported.err);
  });

  test('lists the built-in flows off, shows one, saves an edit as a new version and refuses a broken one', () => {
    const listed = comeback('flows', 'list', '--json');
    assert.equal(listed.code, 0, listed.err);
    const flows = JSON.parse(listed.out) as Array<{ key: string; enabled: boolean; version: number }>;
    assert.equal(flows.length, 8);
    assert.ok(flows.every((f) => !f.enabled));

    const shown = comeback('flows', 'show', 'win-back');
    assert.equal(shown.code, 0, shown.err);
    const definition = JSON.parse(shown.out);
    assert.equal(definition.holdoutShare, 0.1);
    const file = join(dir, 'win-back.json');
    writeFileSync(file, JSON.stringify({ ...definition, holdoutShare: 0.2 }));
    const saved = comeback('flows', 'save', file);
    assert.equal(saved.code, 0, saved.err);
    assert.match(saved.out, /saved win-back version 2/);
    assert.match(comeback('flows', 'save', file).out, /unchanged \(version 2\)/);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...definition, steps: [{ ...definition.steps[0], next: 'nowhere' }] }));
    const refused = comeback('flows', 'save', broken);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /broken\.json: steps\.0\.next: no step has the id "nowhere"/);
  });

  test('enable, report with no entrants says no result yet, and an unknown flow exits 1', () => {
    assert.match(comeback('flows', 'enable', 'cart-abandonment').out, /cart-abandonment is on/);
    assert.match(comeback('flows', 'enable', 'cart-abandonment').out, /already was/);
    const report = comeback('flows', 'report', 'cart-abandonment', '--json');
    assert.equal(report.code, 0, report.err);
    assert.equal(JSON.parse(report.out).lift.verdict, 'no_data');
    assert.match(
      comeback('flows', 'report', 'cart-abandonment').out,
      /No result: one of the groups has no entrants yet/,
    );
    const unknown = comeback('flows', 'enable', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no flow "nope"/);
  });

  test('backtest runs a built-in flow over past data, writes nothing, and refuses a bad date', () => {
    const backtest = comeback(
      'flows',
      'backtest',
      'second-order',
      '--from',
      '1997-01-01',
      '--to',
      '1997-03-31',
      '--json',
    );
    assert.equal(backtest.code, 0, backtest.err);
    const report = JSON.parse(backtest.out) as { totals: { entrants: number }; entrants: Array<{ enteredAt: number }> };
    assert.ok(report.totals.entrants > 0);
    assert.ok(report.entrants.every((e) => e.enteredAt >= Date.UTC(1997, 0, 1) && e.enteredAt < Date.UTC(1997, 3, 1)));
    assert.match(
      comeback('flows', 'backtest', 'second-order', '--from', '1997-01-01', '--to', '1997-03-31').out,
      /nothing was sent or written/,
    );
    const bad = comeback('flows', 'backtest', 'second-order', '--from', '1997-13-01', '--to', '1997-03-31');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--from 1997-13-01: write a date as YYYY-MM-DD/);
  });

  test('settings --signing-keys shows the receipt, webhook and helpdesk keys, each HMAC-SHA256(link secret, purpose)', () => {
    const shown = comeback('flows', 'settings', '--signing-keys');
    assert.equal(shown.code, 0, shown.err);
    const keys = JSON.parse(shown.out) as { smsReceipts: string; webhooks: string; helpdesk: string };
    const db = new Database(join(dir, 'flows.db'), { readonly: true });
    const { value: linkSecret } = db.prepare("select value from api_settings where name = 'link_secret'").get() as {
      value: string;
    };
    db.close();
    assert.deepEqual(keys, {
      smsReceipts: createHmac('sha256', linkSecret).update('sms-receipts').digest('hex'),
      webhooks: createHmac('sha256', linkSecret).update('webhooks').digest('hex'),
      helpdesk: createHmac('sha256', linkSecret).update('helpdesk').digest('hex'),
    });
    assert.ok(!shown.out.includes(linkSecret), 'the link secret itself is never shown');
    assert.deepEqual(JSON.parse(comeback('flows', 'settings', '--signing-keys').out), keys, 'stable');
  });
});
