import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { addEvent } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db } from '../store/index.js';
import { loadFlow } from './flows.queries.js';
import { HELPDESK_FLOW_KEY, helpdeskPass } from './helpdesk.queries.js';
import { saveMessagingSettings } from './settings.js';
import { campaignDb } from './tables.js';

/**
 * One helpdesk pass over alert events written straight into the store, delivered to a loopback
 * receiver (the end-to-end path through survey pages, the API and CSV imports is test/helpdesk.test.ts).
 */

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 4, 20, 10);

async function alert(db: Db, id: string, name: string, customerId: number | null, at: number, props: object) {
  await addEvent(db, {
    messageId: id,
    customerId,
    anonymousId: customerId === null ? 'anon-1' : null,
    event: name,
    at,
    properties: props,
  });
}

for (const dialect of DIALECTS) {
  describe(`a helpdesk pass (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    const got: string[] = [];
    /** How many of the next requests the receiver answers 503 with `Retry-After: 45`. */
    let failNext = 0;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        got.push(body);
        if (failNext > 0) {
          failNext -= 1;
          response.writeHead(503, { 'retry-after': '45' }).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"T-1"}');
      });
    });
    before(async () => {
      t = await freshDatabase(dialect.name);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const db = t.store.db;
      await addCustomer(db, 1, NOW - 100 * DAY, { email: 'ana@example.com', first_name: 'Ana' });
      // Fresh, from a known customer: sent.
      await alert(db, 'nps-1', 'NPS Detractor', 1, NOW - DAY, { survey: 'nps', kind: 'nps', score: 3 });
      // Anonymous (no customer to name): passed over, neither queued nor stale.
      await alert(db, 'csat-anon', 'Low CSAT', null, NOW - DAY, { survey: 'csat', kind: 'csat', score: 1 });
      // Answered 7 days and 1 ms before the pass: stale (older than HELPDESK_FRESH_MS).
      await alert(db, 'nps-old', 'NPS Detractor', 1, NOW - 7 * DAY - 1, { survey: 'nps', kind: 'nps', score: 0 });
    });
    after(async () => {
      await t.drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    test('queues the fresh alert of a known customer, delivers it to the address set, once', async () => {
      const db = t.store.db;
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`;
      await saveMessagingSettings(db, { helpdeskUrl: url });
      const pass = await helpdeskPass(db, { now: () => NOW, random: () => 0, signingKey: 'k' });
      assert.deepEqual(pass, {
        queued: 1,
        stale: 1,
        delivered: { claimed: 1, sent: 1, retried: 0, failed: 0, skipped: 0, deferred: 0, lost: 0 },
      });
      // The body the queue wrote, plus the row's Message-ID (the webhook sender adds it: a retry keeps it).
      const row = await campaignDb(db)
        .selectFrom('outbox')
        .select(['message_id', 'channel', 'status', 'send_after'])
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        { channel: row.channel, status: row.status, sendAfter: Number(row.send_after) },
        { channel: 'helpdesk', status: 'sent', sendAfter: NOW },
      );
      assert.deepEqual(
        got.map((b) => JSON.parse(b)),
        [
          {
            message_id: row.message_id,
            type: 'NPS Detractor',
            survey: 'nps',
            kind: 'nps',
            score: 3,
            reason: null,
            comment: null,
            context: null,
            source: null,
            answeredAt: '2026-05-19T10:00:00.000Z',
            customer: { id: 1, email: 'ana@example.com', phone: null, firstName: 'Ana', lastName: null },
          },
        ],
      );
      // The rows belong to the system flow, saved on the first alert, disabled, entered by no trigger.
      const flow = await loadFlow(db, HELPDESK_FLOW_KEY);
      assert.equal(flow.enabled, false);
      assert.equal(
        flow.definition.description,
        'Written by the worker and `comeback serve` when a helpdeskUrl is set; not entered by triggers.',
      );
      // A second pass finds nothing new past the cursor and sends nothing again.
      const again = await helpdeskPass(db, { now: () => NOW + 60_000, random: () => 0, signingKey: 'k' });
      assert.deepEqual(again, {
        queued: 0,
        stale: 0,
        delivered: { claimed: 0, sent: 0, retried: 0, failed: 0, skipped: 0, deferred: 0, lost: 0 },
      });
      assert.equal(got.length, 1);
    });

    test('without a helpdesk address nothing is queued or delivered', async () => {
      const db = t.store.db;
      await saveMessagingSettings(db, { helpdeskUrl: null });
      await alert(db, 'nps-2', 'NPS Detractor', 1, NOW, { survey: 'nps', kind: 'nps', score: 2 });
      assert.deepEqual(await helpdeskPass(db, { now: () => NOW + 120_000, random: () => 0, signingKey: 'k' }), {
        queued: 0,
        stale: 0,
        delivered: null,
      });
      assert.equal(got.length, 1);
    });

    test('a 503 puts the row back to pending for the Retry-After (45 s), and it goes then', async () => {
      const db = t.store.db;
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`;
      await saveMessagingSettings(db, { helpdeskUrl: url });
      failNext = 1;
      const P = NOW + 200_000;
      // nps-2 (answered at NOW, written while no address was set) is queued now.
      const first = await helpdeskPass(db, { now: () => P, random: () => 0, signingKey: 'k' });
      assert.deepEqual(first, {
        queued: 1,
        stale: 0,
        delivered: { claimed: 1, sent: 0, retried: 1, failed: 0, skipped: 0, deferred: 0, lost: 0 },
      });
      const row = async () =>
        campaignDb(db)
          .selectFrom('outbox')
          .select(['status', 'send_after', 'last_error', 'attempts'])
          .where('reason', '=', 'NPS Detractor')
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow()
          .then((r) => [r.status, Number(r.send_after), r.last_error, Number(r.attempts)]);
      assert.deepEqual(await row(), ['pending', P + 45_000, 'HTTP 503', 1]);
      // A millisecond early it is not due; at P + 45 s it is, and it is sent.
      const early = await helpdeskPass(db, { now: () => P + 44_999, random: () => 0, signingKey: 'k' });
      assert.equal(early.delivered?.claimed, 0);
      const due = await helpdeskPass(db, { now: () => P + 45_000, random: () => 0, signingKey: 'k' });
      assert.equal(due.delivered?.sent, 1);
      assert.deepEqual((await row()).slice(0, 2), ['sent', P + 45_000]);
      assert.equal(got.length, 3);
    });
  });
}
