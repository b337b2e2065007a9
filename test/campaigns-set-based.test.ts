import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  advanceJourneys,
  enrolNewEntrants,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  validateFlow,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import type { Db } from '../src/store/index.js';
import { customerRow } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';

/**
 * The set-based advance pass (a batch of journeys read and written together) decides exactly what a
 * pass taking one journey at a time decides (`limit: 1`, the per-customer path: facts read for that
 * customer alone, one transaction per journey): the same outbox rows with the same statuses, reasons,
 * arms, channels and send times, on a few hundred customers who exercise every rule at once.
 *
 * Customer i (1…360): an e-mail unless i % 11 = 0; e-mail consent granted unless i % 3 = 0, and
 * withdrawn when i % 10 = 0; a bounce on the address when i % 7 = 0; a preference-centre pause when
 * i % 13 = 0; in Seoul when i % 4 = 1 (13:00 UTC is 22:00 there: quiet hours, deferred), else UTC; a
 * marketing e-mail sent two days ago when i % 17 = 0. The cap is one marketing message in 7 days. Two
 * flows fire on the same event, so a customer in both is capped on the second journey the pass takes
 * (a round later); flow B's outreach task counts against the cap too. Customers with i % 4 = 0 send
 * the event twice, an hour apart: the second occurrence finds the journey active and does not enter.
 */
const NOW = Date.UTC(2026, 2, 10, 13);
const HOUR = 3_600_000;
const N = 360;

async function build(db: Db): Promise<Array<{ i: number; at: number; id: string }>> {
  await saveMessagingSettings(db, { cap: { count: 1, days: 7 }, quietHours: { start: '21:00', end: '08:00' } });
  const cdb = campaignDb(db);
  const ids = Array.from({ length: N }, (_, k) => k + 1);
  await db
    .insertInto('customers')
    .values(
      ids.map((i) =>
        customerRow(i, NOW - 90 * 24 * HOUR, {
          email: i % 11 === 0 ? null : `c${i}@x.test`,
          time_zone: i % 4 === 1 ? 'Asia/Seoul' : 'UTC',
        }),
      ),
    )
    .execute();
  const consents = ids
    .filter((i) => i % 3 !== 0)
    .map((i) => ({
      customer_id: i,
      channel: 'email',
      granted: i % 10 === 0 ? 0 : 1,
      updated_at: NOW - 30 * 24 * HOUR,
      source: 'test',
    }));
  await db.insertInto('customer_consents').values(consents).execute();
  await cdb
    .insertInto('suppressions')
    .values(
      ids
        .filter((i) => i % 7 === 0 && i % 11 !== 0)
        .map((i) => ({
          channel: 'email',
          address: `c${i}@x.test`,
          reason: 'bounce',
          source: 'test',
          created_at: NOW - 24 * HOUR,
        })),
    )
    .execute();
  await db
    .withTables<{
      marketing_pauses: { customer_id: number; until: number; source: string; created_at: number };
    }>()
    .insertInto('marketing_pauses')
    .values(
      ids
        .filter((i) => i % 13 === 0)
        .map((i) => ({ customer_id: i, until: NOW + 10 * 24 * HOUR, source: 'test', created_at: NOW - HOUR })),
    )
    .execute();
  await saveTemplate(
    db,
    {
      key: 'hello',
      channel: 'email',
      purpose: 'marketing',
      subject: 'Hello {{ customer.first_name }}',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi.</mj-text><mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
    NOW - HOUR,
  );
  const flows = [
    {
      key: 'flow-a',
      name: 'A',
      trigger: { type: 'event', events: ['Visited'] },
      holdoutShare: 0.2,
      steps: [{ id: 'send', type: 'send', channels: ['email'], template: 'hello', purpose: 'marketing' }],
    },
    {
      key: 'flow-b',
      name: 'B',
      trigger: { type: 'event', events: ['Visited'] },
      holdoutShare: 0.1,
      steps: [
        { id: 'call', type: 'outreach', note: 'call them', next: 'send' },
        { id: 'send', type: 'send', channels: ['email'], template: 'hello', purpose: 'marketing' },
      ],
    },
  ];
  for (const raw of flows) {
    const parsed = validateFlow(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    await saveFlow(db, parsed.flow, NOW - HOUR);
    await setFlowEnabled(db, raw.key, true, NOW - HOUR);
  }
  // Two days ago, a marketing e-mail to i % 17 = 0, from a flow that is off now.
  const oldFlow = validateFlow({
    key: 'old',
    name: 'Old',
    trigger: { type: 'event', events: ['Never'] },
    steps: [{ id: 'send', type: 'send', channels: ['email'], template: 'hello', purpose: 'marketing' }],
  });
  if (!oldFlow.ok) throw new Error(JSON.stringify(oldFlow.problems));
  const saved = await saveFlow(db, oldFlow.flow, NOW - 72 * HOUR);
  const old = ids.filter((i) => i % 17 === 0);
  const oldJourneys = await cdb
    .insertInto('journeys')
    .values(
      old.map((i) => ({
        flow_id: saved.flow.id,
        version: 1,
        customer_id: i,
        occurrence: `old:${i}`,
        arm: 'treatment',
        entered_at: NOW - 48 * HOUR,
        step_id: 'send',
        step_started_at: NOW - 48 * HOUR,
        wake_at: null,
        status: 'completed',
        exit_reason: null,
        updated_at: NOW - 48 * HOUR,
      })),
    )
    .returning(['id', 'customer_id'])
    .execute();
  await cdb
    .insertInto('outbox')
    .values(
      oldJourneys.map((j) => ({
        journey_id: j.id,
        flow_id: saved.flow.id,
        step_id: 'send',
        customer_id: j.customer_id,
        arm: 'treatment',
        channel: 'email',
        purpose: 'marketing',
        template_key: 'hello',
        template_version: 1,
        to_address: `c${j.customer_id}@x.test`,
        status: 'sent',
        reason: null,
        payload: null,
        coupon_code: null,
        attempts: 1,
        claim_token: null,
        lease_until: null,
        send_after: NOW - 48 * HOUR,
        send_by: NOW,
        message_id: `<old-${j.customer_id}@test>`,
        provider_id: null,
        last_error: null,
        created_at: NOW - 48 * HOUR,
        sent_at: NOW - 48 * HOUR,
      })),
    )
    .execute();
  return ids.flatMap((i) => [
    { i, at: NOW - 2 * HOUR, id: `v1-${i}` },
    ...(i % 4 === 0 ? [{ i, at: NOW - HOUR, id: `v2-${i}` }] : []),
  ]);
}

async function addEvents(db: Db, events: ReadonlyArray<{ i: number; at: number; id: string }>): Promise<void> {
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        message_id: e.id,
        type: 'track',
        event: 'Visited',
        customer_id: e.i,
        anonymous_id: null,
        session_id: null,
        properties: '{}',
        occurred_at: e.at,
        received_at: e.at,
      })),
    )
    .execute();
}

interface Row {
  customer: number;
  flow: string;
  step: string | null;
  arm: string;
  channel: string;
  status: string;
  reason: string | null;
  to: string | null;
  sendAfter: number;
}

async function outboxRows(db: Db): Promise<Row[]> {
  const rows = await campaignDb(db)
    .selectFrom('outbox')
    .innerJoin('flows', 'flows.id', 'outbox.flow_id')
    .where('flows.key', '!=', 'old')
    .select([
      'outbox.customer_id',
      'flows.key',
      'outbox.step_id',
      'outbox.arm',
      'outbox.channel',
      'outbox.status',
      'outbox.reason',
      'outbox.to_address',
      'outbox.send_after',
    ])
    .execute();
  return rows
    .map((r) => ({
      customer: Number(r.customer_id),
      flow: r.key,
      step: r.step_id,
      arm: r.arm,
      channel: r.channel,
      status: r.status,
      reason: r.reason,
      to: r.to_address,
      sendAfter: Number(r.send_after),
    }))
    .sort(
      (a, b) => a.customer - b.customer || a.flow.localeCompare(b.flow) || String(a.step).localeCompare(String(b.step)),
    );
}

for (const dialect of DIALECTS) {
  describe(`set-based enqueue decides as one customer at a time (${dialect.name})`, { skip: dialect.skip }, () => {
    let batch: TestDb;
    let single: TestDb;
    let events: Array<{ i: number; at: number; id: string }>;
    before(async () => {
      batch = await freshDatabase(dialect.name);
      single = await freshDatabase(dialect.name);
      events = await build(batch.store.db);
      await build(single.store.db);
    });
    after(async () => {
      await batch?.drop();
      await single?.drop();
    });

    test('the same journeys and the same outbox rows, statuses, reasons and hold-out', async () => {
      // Enrolment: every occurrence in one pass, against events arriving one by one, a pass after each.
      await addEvents(batch.store.db, events);
      const enrolled = await enrolNewEntrants(batch.store.db, NOW);
      assert.deepEqual(enrolled, { flows: 2, entered: 2 * N, skipped: 2 * (N / 4) });
      let entered = 0;
      let skipped = 0;
      for (const e of events) {
        await addEvents(single.store.db, [e]);
        const pass = await enrolNewEntrants(single.store.db, NOW);
        entered += pass.entered;
        skipped += pass.skipped;
      }
      assert.deepEqual({ entered, skipped }, { entered: 2 * N, skipped: 2 * (N / 4) });
      const journeys = async (db: Db) =>
        (
          await campaignDb(db)
            .selectFrom('journeys')
            .innerJoin('flows', 'flows.id', 'journeys.flow_id')
            .where('flows.key', '!=', 'old')
            .select(['flows.key', 'journeys.customer_id', 'journeys.occurrence', 'journeys.arm', 'journeys.entered_at'])
            .orderBy('flows.key')
            .orderBy('journeys.customer_id')
            .execute()
        ).map((j) => [j.key, Number(j.customer_id), j.occurrence, j.arm, Number(j.entered_at)]);
      const batchJourneys = await journeys(batch.store.db);
      assert.deepEqual(batchJourneys, await journeys(single.store.db));
      // Every customer entered each flow once, with their first occurrence.
      assert.equal(batchJourneys.length, 2 * N);
      assert.ok(batchJourneys.every((j) => String(j[2]).startsWith('event:v1-')));

      // Advance: the whole batch at once, against one journey per pass.
      const summary = await advanceJourneys(batch.store.db, { now: NOW, linkSecret: 's', limit: 5000 });
      assert.equal(summary.journeys, 2 * N);
      const total = { queued: 0, heldOut: 0, skipped: 0, deferred: 0, completed: 0 };
      for (;;) {
        const one = await advanceJourneys(single.store.db, { now: NOW, linkSecret: 's', limit: 1 });
        if (one.journeys === 0) break;
        total.queued += one.queued;
        total.heldOut += one.heldOut;
        total.skipped += one.skipped;
        total.deferred += one.deferred;
        total.completed += one.completed;
      }
      assert.deepEqual(
        {
          queued: summary.queued,
          heldOut: summary.heldOut,
          skipped: summary.skipped,
          deferred: summary.deferred,
          completed: summary.completed,
        },
        total,
      );
      const rows = await outboxRows(batch.store.db);
      assert.deepEqual(rows, await outboxRows(single.store.db));

      // And by hand: rows per journey (A: one send; B: the outreach and the send), the control arm held
      // out on every row, and the rules visible in the reasons.
      assert.equal(rows.length, N + 2 * N);
      const arms = new Map(batchJourneys.map((j) => [`${j[0]}:${j[1]}`, j[3]]));
      for (const r of rows) {
        assert.equal(r.arm, arms.get(`${r.flow}:${r.customer}`));
        if (r.arm === 'control') assert.deepEqual([r.status, r.reason], ['held_out', 'held_out']);
      }
      const sendOf = (flow: string, i: number) =>
        rows.find((r) => r.flow === flow && r.customer === i && r.step === 'send')!;
      const treated = (i: number) => arms.get(`flow-a:${i}`) === 'treatment';
      for (let i = 1; i <= N; i++) {
        if (!treated(i)) continue;
        const a = sendOf('flow-a', i);
        if (i % 11 === 0) assert.equal(a.reason, 'no_address:email', `customer ${i}`);
        else if (i % 3 === 0 || i % 10 === 0 || i % 13 === 0 || i % 7 === 0)
          assert.equal(a.status, 'skipped', `customer ${i}`);
        else if (i % 17 === 0)
          assert.match(String(a.reason), /cap/, `customer ${i}: capped by the e-mail two days ago`);
        else if (i % 4 === 1) {
          assert.equal(a.status, 'pending', `customer ${i}`);
          assert.ok(a.sendAfter > NOW, `customer ${i}: 21:00 in Seoul, deferred to the morning`);
        } else assert.deepEqual([a.status, a.sendAfter], ['pending', NOW], `customer ${i}`);
      }
      // A customer queued by both flows' journeys is capped on one of them: never two marketing e-mails.
      for (let i = 1; i <= N; i++) {
        const queued = rows.filter((r) => r.customer === i && r.channel === 'email' && r.status === 'pending');
        assert.ok(queued.length <= 1, `customer ${i}: ${queued.length} e-mails queued under a cap of 1`);
      }
      assert.ok(
        rows.some((r) => r.channel === 'email' && /cap/.test(String(r.reason))),
        'the cap decided some',
      );
    });
  });
}
