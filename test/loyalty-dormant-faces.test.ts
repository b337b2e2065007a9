import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ApiApp } from '../src/api/app.types.js';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import { main } from '../src/cli/main.js';
import { enrolMember, saveProgram, syncOrders } from '../src/loyalty/index.js';
import { addCustomer, addOrder, testProgramConfig } from './loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

/** The wall clock of the server: years after the store's data, as on the demo store. */
const NOW = Date.UTC(2026, 2, 1, 12);
const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);

/** `comeback loyalty dormant --json …` on the test database, in-process. */
async function cliDormant(url: string, ...args: string[]): Promise<unknown> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const err = new Writable({ write: (_chunk, _encoding, done) => done() });
  const code = await main(
    ['node', 'comeback', 'loyalty', 'dormant', '--json', ...args],
    { out, err },
    {
      ...process.env,
      COMEBACK_DB: url,
    },
  );
  assert.equal(code, 0, 'the CLI succeeded');
  return JSON.parse(text);
}

for (const dialect of DIALECTS) {
  describe(`dormant members: the API and the CLI agree on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let read = '';
    const get = (query = '') =>
      app.inject({
        method: 'GET',
        url: `/api/v1/loyalty/dormant${query}`,
        headers: { authorization: `Bearer ${read}` },
      });

    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      read = (await createApiKey(db, { scope: 'read', name: 'dashboard', now: NOW })).key;
      const program = await saveProgram(db, testProgramConfig({ autoEnrol: true }), { now: day('2023-01-01') });
      // The data ends on 2023-06-30; the program's dormantDays is 90, so as of then only `lapsed` (last
      // order 2023-01-10) and `idle` (enrolled, never bought) are dormant; `recent` bought in June.
      const lapsed = await addCustomer(db, { email: 'lapsed@example.com', at: day('2023-01-01') });
      const recent = await addCustomer(db, { email: 'recent@example.com', at: day('2023-01-01') });
      const idle = await addCustomer(db, { email: 'idle@example.com', at: day('2023-01-01') });
      await addOrder(db, { customerId: lapsed, placedAt: day('2023-01-10'), subtotalMinor: 30_000 });
      await addOrder(db, { customerId: recent, placedAt: day('2023-01-10'), subtotalMinor: 10_000 });
      await addOrder(db, { customerId: recent, placedAt: day('2023-06-30'), subtotalMinor: 5_000 });
      assert.ok((await enrolMember(db, program, { customerId: idle, now: day('2023-02-01') })).ok);
      // The store knows `lapsed` by its own id (two, from two sources: the first by source is shown).
      await db
        .insertInto('customer_identities')
        .values([
          { customer_id: lapsed, source: 'shopify', external_id: '7001' },
          { customer_id: lapsed, source: 'csv', external_id: 'L-1' },
        ])
        .execute();
      await syncOrders(db, program, { now: day('2023-07-01') });
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test("by default both are as of the store's latest data, not the wall clock", async () => {
      const response = await get();
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.asOfDay, '2023-06-30');
      assert.equal(body.asOf, Date.UTC(2023, 6, 1));
      // The CLI's JSON is the API's answer: the same as-of, total and members.
      assert.deepEqual(await cliDormant(t.url), body);
      assert.deepEqual(
        body.members.map((m: { email: string }) => m.email),
        ['lapsed@example.com', 'idle@example.com'],
        'the recent buyer is not dormant as of the data’s end',
      );
      const lapsed = body.members.find((m: { email: string }) => m.email === 'lapsed@example.com');
      assert.equal(lapsed.daysInactive, 171, '2023-01-10 noon to the end of 2023-06-30');
      // The dashboard names a member by the store's id, not Comeback's internal one.
      assert.equal(lapsed.storeId, 'L-1');
      assert.equal(body.members.find((m: { email: string }) => m.email === 'idle@example.com').storeId, null);
      assert.equal(body.total, 2);
    });

    test('total counts every dormant member, beyond the first `limit` the answer lists', async () => {
      const first = await get('?limit=1');
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(
        { total: first.json().total, emails: first.json().members.map((m: { email: string }) => m.email) },
        { total: 2, emails: ['lapsed@example.com'] },
      );
      const later = (await get('?asOf=2023-12-31&days=30&limit=2')).json();
      assert.deepEqual({ total: later.total, listed: later.members.length }, { total: 3, listed: 2 });
      const none = (await get('?asOf=2023-01-05')).json();
      assert.deepEqual({ total: none.total, members: none.members }, { total: 0, members: [] });
    });

    test('asOf and days mean what the CLI’s --as-of and --days mean', async () => {
      const response = await get('?asOf=2023-12-31&days=30');
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().asOfDay, '2023-12-31');
      const cli = await cliDormant(t.url, '--as-of', '2023-12-31', '--days', '30');
      assert.deepEqual(response.json(), cli);
      assert.equal((cli as { members: unknown[] }).members.length, 3);
      // Cut by --limit as by `limit`: the total still counts them all.
      const two = (await cliDormant(t.url, '--as-of', '2023-12-31', '--days', '30', '--limit', '2')) as {
        total: number;
        members: unknown[];
      };
      assert.deepEqual([two.total, two.members.length], [3, 2]);
    });

    test('a bad asOf, days or limit is a 400 naming the field', async () => {
      for (const [query, field] of [
        ['?asOf=soon', 'asOf'],
        ['?days=0', 'days'],
        ['?limit=abc', 'limit'],
      ] as const) {
        const response = await get(query);
        assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
        assert.equal(response.json().error.field, field, query);
      }
    });
  });
}
