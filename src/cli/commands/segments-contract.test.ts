import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../../../test/setup.js';
import { main } from '../main.js';

const ROOT = join(import.meta.dirname, '../../..');
const dir = tempDir('comeback-segments-contract-');
after(() => rmSync(dir, { recursive: true, force: true }));

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs the `comeback` command line in this process, with its own output streams and environment. */
async function comeback(...args: string[]) {
  const out = sink();
  const err = sink();
  const code = await main(
    ['node', 'comeback', ...args],
    { out: out.stream, err: err.stream },
    {
      ...process.env,
      COMEBACK_DB: `sqlite:${join(dir, 'cli.db')}`,
    },
  );
  return { code, out: out.text(), err: err.text() };
}

describe('comeback segments and comeback customer', () => {
  before(async () => {
    const imported = await comeback('import', join(ROOT, 'samples/cdnow/CDNOW_sample.txt'), '--format', 'cdnow');
    assert.equal(imported.code, 0, imported.err);
  });

  test('rfm, personas and lifecycle print one CSV row per customer with the contract columns', async () => {
    const rfm = await comeback('segments', 'rfm', '--as-of', '1998-06-30', '--csv');
    assert.equal(rfm.code, 0, rfm.err);
    const lines = rfm.out.trim().split('\n');
    assert.equal(
      lines[0],
      'customer_id,source,store_id,email,r,f,m,recency_days,frequency,monetary,currency,group,reason',
    );
    assert.equal(lines.length - 1, 2357);
    const personas = await comeback('segments', 'personas', '--as-of', '1998-06-30', '--csv');
    // Every per-customer CSV names the customer as the store does, beside the internal id.
    assert.equal(personas.out.split('\n')[0], 'customer_id,source,store_id,email,group,reason,play');
    assert.match(personas.out.split('\n')[1]!, /^\d+,cdnow,\d+,,/);
    // Written a range of customers at a time (2,357 rows: two chunks), one header, the rows of --json in order.
    const personaJson = JSON.parse((await comeback('segments', 'personas', '--as-of', '1998-06-30', '--json')).out);
    const personaRows = personas.out.trim().split('\n').slice(1);
    assert.equal(personaRows.length, personaJson.length);
    assert.deepEqual(
      personaRows.map((line) => line.split(',')[0]).map(Number),
      personaJson.map((p: { customerId: number }) => p.customerId),
    );
    assert.equal(personas.out.split('\n').filter((line) => line.startsWith('customer_id,')).length, 1);
    const lifecycle = await comeback('segments', 'lifecycle', '--as-of', '1998-06-30', '--csv');
    assert.equal(
      lifecycle.out.split('\n')[0],
      'customer_id,source,store_id,email,days_since_last_order,orders,p_alive,group,reason',
    );
    assert.match(lifecycle.out.split('\n')[1]!, /^\d+,cdnow,\d+,,/);
    const clusters = await comeback('segments', 'clusters', '--as-of', '1998-06-30', '--csv');
    assert.equal(clusters.out.split('\n')[0], 'customer_id,source,store_id,email,cluster,group,reason');
    assert.match(clusters.out.split('\n')[1]!, /^\d+,cdnow,\d+,,\d+,/);
    assert.equal(lifecycle.out.trim().split('\n').length - 1, 2357);
    const table = await comeback('segments', 'rfm', '--as-of', '1998-06-30');
    assert.match(table.out, /^group\s+customers/);
    assert.match(table.out, /Champions/);
    assert.equal((await comeback('segments', 'rfm', '--json', '--csv')).code, 2);
    assert.equal((await comeback('segments', 'rfm', '--as-of', 'soon')).code, 2);
  });

  test('lifecycle uses the model scores once predict has stored them', async () => {
    const predict = await comeback('predict', '--as-of', '1998-06-30', '--json');
    assert.equal(predict.code, 0, predict.err);
    const lifecycle = JSON.parse((await comeback('segments', 'lifecycle', '--as-of', '1998-06-30', '--json')).out);
    assert.ok(lifecycle.scored > 2000, `${lifecycle.scored} scored`);
    assert.ok(lifecycle.customers.some((c: { pAlive: number | null }) => c.pAlive !== null));
  });

  test('a saved segment is shown, exported as CSV and audience, and bad rules name the field', async () => {
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify({ all: [{ orders: 'count', op: 'gte', value: 5 }] }));
    const saved = await comeback('segments', 'save', 'frequent', '--rules', rules, '--as-of', '1998-07-01', '--json');
    assert.equal(saved.code, 0, saved.err);
    const size = JSON.parse(saved.out).size;
    assert.ok(size > 50);
    const csv = await comeback('segments', 'show', 'frequent', '--csv');
    assert.equal(csv.out.trim().split('\n').length - 1, size);
    const audience = await comeback('segments', 'show', 'frequent', '--audience', '--layout', 'google');
    assert.equal(audience.code, 0, audience.err);
    assert.equal(audience.out.split('\n')[0], 'Email,Phone,First Name,Last Name,Country,Zip');
    writeFileSync(rules, JSON.stringify({ any: [{ orders: 'count', op: 'atLeast', value: 5 }] }));
    const bad = await comeback('segments', 'save', 'broken', '--rules', rules);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /rules\.json: rules\.any\[0\]\.op: must be one of/);
    assert.equal((await comeback('segments', 'show', 'nope')).code, 1);
  });

  test('customer tells one customer’s story by source and external id', async () => {
    const json = await comeback('customer', 'cdnow:4', '--as-of', '1998-07-01', '--json');
    assert.equal(json.code, 0, json.err);
    const profile = JSON.parse(json.out);
    assert.ok(profile.orders.length > 0);
    assert.ok(profile.rfm.group);
    assert.ok(profile.lifecycle.stage);
    assert.ok(profile.scores.pAlive >= 0);
    const text = await comeback('customer', 'cdnow:4', '--as-of', '1998-07-01');
    assert.match(text.out, /^customer cdnow:\d+, #\d+/);
    assert.match(text.out, /RFM: /);
    assert.equal((await comeback('customer', 'cdnow:no-such')).code, 1);
  });
});
