import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import {
  advanceJourneys,
  enrolNewEntrants,
  flowReport,
  type OutreachTask,
  recoverOutbox,
  saveFlow,
  setFlowEnabled,
  validateFlow,
} from '../src/campaigns/index.js';
import { type Db, openStore } from '../src/store/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { addOrder } from './segments-fixtures.js';
import { cliIn, DIALECTS, freshDatabase, tempDir } from './setup.js';

/**
 * The staff outreach queue. Flow "sorry" fires on `Complained`: an outreach task (note "apologise and
 * call"), no hold-out. Customer 1 (Ann Lee) has two paid orders, £20.00 on day 1 and £35.50 on day 40;
 * customer 2 has none. Both complain on day 50.
 */
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 50 * DAY;

async function build(db: Db): Promise<void> {
  await addCustomer(db, 1, T0, { email: 'ann@x.test', first_name: 'Ann', last_name: 'Lee' });
  await addCustomer(db, 2, T0, { email: 'bo@x.test' });
  await addOrder(db, 1, { at: T0 + DAY, totalMinor: 2000 });
  await addOrder(db, 1, { at: T0 + 40 * DAY, totalMinor: 3550 });
  const flow = validateFlow({
    key: 'sorry',
    name: 'Sorry',
    trigger: { type: 'event', events: ['Complained'] },
    holdoutShare: 0,
    steps: [{ id: 'call', type: 'outreach', note: 'apologise and call' }],
  });
  if (!flow.ok) throw new Error(JSON.stringify(flow.problems));
  await saveFlow(db, flow.flow, NOW - DAY);
  await setFlowEnabled(db, 'sorry', true, NOW - DAY);
  await db
    .insertInto('events')
    .values(
      [1, 2].map((id) => ({
        message_id: `complaint-${id}`,
        type: 'track',
        event: 'Complained',
        customer_id: id,
        anonymous_id: null,
        session_id: null,
        properties: '{}',
        occurred_at: NOW - 60_000 * id,
        received_at: NOW,
      })),
    )
    .execute();
  await enrolNewEntrants(db, NOW);
  await advanceJourneys(db, { now: NOW, linkSecret: 's' });
}

for (const dialect of DIALECTS) {
  describe(`the staff outreach queue over the API (${dialect.name})`, { skip: dialect.skip }, () => {
    test('lists open tasks with value and last order, marks one done once, counts them in the report', async () => {
      const t = await freshDatabase(dialect.name);
      const app = await buildApp({ store: t.store, now: () => NOW + 3 * DAY, rateLimit: false });
      try {
        await build(t.store.db);
        // Days later the worker's housekeeping runs: a task waits for a person, it never expires.
        await recoverOutbox(t.store.db, NOW + 3 * DAY);
        const read = (await createApiKey(t.store.db, { scope: 'read', name: 'viewer', now: NOW })).key;
        const write = (await createApiKey(t.store.db, { scope: 'write', name: 'desk', now: NOW })).key;
        const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${read}` } });
        const done = (id: string, body?: object, key = write) =>
          app.inject({
            method: 'POST',
            url: `/api/v1/outreach/${id}/done`,
            headers: { authorization: `Bearer ${key}` },
            ...(body ? { payload: body } : {}),
          });

        assert.equal((await app.inject({ url: '/api/v1/outreach' })).statusCode, 401);
        const open = await get('/api/v1/outreach');
        assert.equal(open.statusCode, 200, open.body);
        const tasks = open.json().tasks as OutreachTask[];
        assert.deepEqual(
          tasks.map((x) => [x.customer.id, x.why, x.flow.key, x.stepId, x.done]),
          [
            [2, 'apologise and call', 'sorry', 'call', null],
            [1, 'apologise and call', 'sorry', 'call', null],
          ],
          'oldest first: customer 2 complained a minute before customer 1',
        );
        const ann = tasks.find((x) => x.customer.id === 1)!;
        assert.equal(ann.customer.name, 'Ann Lee');
        assert.deepEqual(ann.value, { orders: 2, spent: [{ currency: 'GBP', minor: 5550 }], clv: null });
        assert.deepEqual(ann.lastOrder, { at: T0 + 40 * DAY, totalMinor: 3550, currency: 'GBP' });
        assert.deepEqual(tasks.find((x) => x.customer.id === 2)!.lastOrder, null);

        assert.equal((await done(String(ann.id), { note: 'called, refunded' }, read)).statusCode, 403);
        const first = await done(String(ann.id), { note: 'called, refunded' });
        assert.equal(first.statusCode, 200, first.body);
        assert.deepEqual(first.json(), {
          id: ann.id,
          at: NOW + 3 * DAY,
          by: 'key:desk',
          note: 'called, refunded',
          alreadyDone: false,
        });
        const again = await done(String(ann.id), { note: 'second try' });
        assert.deepEqual(again.json(), { ...first.json(), alreadyDone: true }, 'again: nothing changes');

        const bad = await done('abc', {});
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().error.field, 'id');
        const missing = await done('999999', {});
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json().error.field, 'id');
        const badStatus = await get('/api/v1/outreach?status=closed');
        assert.equal(badStatus.statusCode, 400);
        assert.equal(badStatus.json().error.field, 'status');

        const ids = async (status: string) =>
          ((await get(`/api/v1/outreach?status=${status}`)).json().tasks as Array<{ customer: { id: number } }>).map(
            (x) => x.customer.id,
          );
        assert.deepEqual(await ids('open'), [2]);
        assert.deepEqual(await ids('done'), [1]);
        assert.deepEqual(await ids('all'), [2, 1]);

        const report = await flowReport(t.store.db, 'sorry', NOW + 3 * DAY);
        assert.deepEqual(report.outreach, { created: 2, done: 1, open: 1 });
        assert.deepEqual(
          { sent: report.steps[0]!.treated.sent, queued: report.steps[0]!.treated.queued },
          { sent: 1, queued: 1 },
          'a task done counts as sent, an open one as queued',
        );
      } finally {
        await app.close();
        await t.drop();
      }
    });
  });
}

describe('comeback flows outreach (a child process)', () => {
  const dir = tempDir('comeback-outreach-cli-');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const comeback = cliIn(dir, 'outreach.db');

  test('lists, marks done with a note, is idempotent and refuses a bad id', async () => {
    const store = await openStore(`sqlite:${join(dir, 'outreach.db')}`);
    try {
      await build(store.db);
    } finally {
      await store.close();
    }
    const listed = comeback('flows', 'outreach', '--json');
    assert.equal(listed.code, 0, listed.err);
    const tasks = JSON.parse(listed.out).tasks as Array<{ id: number; customer: { id: number } }>;
    assert.deepEqual(
      tasks.map((x) => x.customer.id),
      [2, 1],
    );
    const human = comeback('flows', 'outreach');
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /Ann Lee ann@x\.test/);
    assert.match(human.out, /apologise and call/);
    assert.match(human.out, /£55\.50/);
    assert.match(human.out, /2026-02-10 £35\.50/, 'the last order: day 40 is 10 February');

    const id = String(tasks.find((x) => x.customer.id === 1)!.id);
    const done = comeback('flows', 'outreach', 'done', id, '--note', 'called', '--by', 'sam');
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, new RegExp(`task ${id} done by sam`));
    const again = comeback('flows', 'outreach', 'done', id, '--by', 'kim');
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /already done \(.* by sam\): nothing changed/);
    const doneList = JSON.parse(comeback('flows', 'outreach', '--done', '--json').out).tasks;
    assert.deepEqual(
      doneList.map((x: { customer: { id: number }; done: { by: string; note: string } }) => [
        x.customer.id,
        x.done.by,
        x.done.note,
      ]),
      [[1, 'sam', 'called']],
    );
    assert.deepEqual(
      JSON.parse(comeback('flows', 'outreach', '--open', '--json').out).tasks.map(
        (x: { customer: { id: number } }) => x.customer.id,
      ),
      [2],
    );

    for (const bad of ['abc', '999999']) {
      const refused = comeback('flows', 'outreach', 'done', bad);
      assert.equal(refused.code, 1, refused.err);
      assert.match(refused.err, /^comeback: .*(not a task id|no outreach task 999999)/m);
    }
    const report = comeback('flows', 'report', 'sorry');
    assert.equal(report.code, 0, report.err);
    assert.match(report.out, /outreach tasks 2: 1 done, 1 open/);
  });
});
