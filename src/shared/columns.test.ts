import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { printJson, printJsonList } from '../cli/io.js';
import { GrowingColumns } from './columns.js';

describe('GrowingColumns', () => {
  test('keeps every value in order across many doublings, and trims to the rows added', () => {
    const c = new GrowingColumns(['id', 'x'] as const, 1);
    for (let k = 0; k < 5000; k++) {
      const i = c.add();
      c.data.id[i] = k;
      c.data.x[i] = k / 2;
    }
    const { id, x } = c.trimmed();
    assert.equal(c.length, 5000);
    assert.equal(id.length, 5000);
    assert.deepEqual([id[0], id[1], id[4999]], [0, 1, 4999]);
    assert.ok(
      x.every((v, k) => v === k / 2),
      'no value lost or moved by a growth',
    );
  });

  test('an empty set of columns trims to empty arrays', () => {
    const { a } = new GrowingColumns(['a'] as const).trimmed();
    assert.equal(a.length, 0);
  });
});

describe('printJsonList', () => {
  const text = async (write: (io: { out: PassThrough; err: PassThrough }) => void | Promise<void>) => {
    const io = { out: new PassThrough(), err: new PassThrough() };
    const chunks: Buffer[] = [];
    io.out.on('data', (b: Buffer) => chunks.push(b));
    await write(io);
    io.out.end();
    return Buffer.concat(chunks).toString();
  };
  const head = { model: 'bgnbd', note: null, nested: { a: [1, 2] }, left: undefined };
  const rows = [
    { id: 1, name: 'a "quoted"\nline' },
    { id: 2, list: [] },
    { id: 3, deep: { x: { y: 1 } } },
  ];

  test('writes exactly what printJson writes for the whole object, chunk by chunk', async () => {
    const whole = await text((io) => printJson(io, { ...head, customers: rows }));
    const listed = await text((io) => printJsonList(io, head, 'customers', [rows.slice(0, 2), [], rows.slice(2)]));
    assert.equal(listed, whole);
    assert.deepEqual(JSON.parse(listed).customers, rows);
  });

  test('an empty list reads as printJson’s empty array', async () => {
    const whole = await text((io) => printJson(io, { ...head, customers: [] }));
    assert.equal(await text((io) => printJsonList(io, head, 'customers', [[], []])), whole);
  });
});
