import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../test/campaign-fixtures.js';
import { addEvent } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import type { Db } from '../store/index.js';
import { backtestFlow } from './backtest.queries.js';
import type { FlowDefinition } from './flow.js';
import { saveFlow } from './flows.queries.js';
import { campaignDb, newOutboxRow } from './tables.js';

/**
 * A backtest on a store small enough to work out by hand (the Online Retail backtest in
 * test/campaigns-backtest.test.ts replays lifecycle stages; this one reads stored segment events, exit
 * events and past engagement, the parts that sample never reaches).
 */

const DAY = 86_400_000;
// 10:00 UTC, outside the default quiet hours (21:00–08:00 in the store's zone, UTC).
const T0 = Date.parse('2026-06-01T10:00:00Z');
const TO = T0 + 10 * DAY;

const flow: FlowDefinition = {
  key: 'champions-thanks',
  name: 'Thanks, champions',
  trigger: { type: 'segment_entered', segments: ['rfm:champions'] },
  exitWhen: [{ type: 'event', events: ['Account Closed'] }],
  steps: [
    { id: 's1', type: 'send', channels: ['email', 'sms'], template: 't1', purpose: 'marketing', next: 'w' },
    { id: 'w', type: 'wait', for: { days: 2 }, next: 's2' },
    { id: 's2', type: 'send', channels: ['email'], template: 't2', purpose: 'marketing' },
  ],
  // Nobody held out: assignArm draws in [0, 1), never below 0.
  holdoutShare: 0,
  attributionDays: 7,
  reentry: { type: 'never' },
};

async function event(
  db: Db,
  messageId: string,
  customerId: number,
  type: 'track' | 'segment_entered',
  name: string,
  at: number,
  properties: Record<string, unknown> = {},
): Promise<void> {
  await addEvent(db, { messageId, customerId, type, event: name, at, properties });
}

/** A sent marketing message of an earlier flow, with `kind` events (opened, clicked) at `at`. */
async function engaged(db: Db, journeyId: number, flowId: number, channel: string, kinds: string[], at: number) {
  const cdb = campaignDb(db);
  const row = await cdb
    .insertInto('outbox')
    .values(
      newOutboxRow({
        journey_id: journeyId,
        flow_id: flowId,
        step_id: `old-${channel}`,
        customer_id: 1,
        arm: 'treatment',
        channel,
        purpose: 'marketing',
        template_key: 'old',
        to_address: channel === 'email' ? 'one@example.com' : '+447700900001',
        status: 'sent',
        reason: null,
        send_after: at,
        send_by: at + DAY,
        created_at: at,
        sent_at: at,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const kind of kinds) {
    await cdb
      .insertInto('message_events')
      .values({ outbox_id: row.id, customer_id: 1, kind, detail: null, occurred_at: at })
      .execute();
  }
}

for (const dialect of DIALECTS) {
  describe(`a backtest of a stored-segment flow with an exit event (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      await addCustomer(db, 1, T0 - 100 * DAY, { email: 'one@example.com', phone: '+447700900001' });
      await addCustomer(db, 2, T0 - 100 * DAY, { email: 'two@example.com' });
      await addCustomer(db, 3, T0 - 100 * DAY, { email: 'three@example.com' });
      await db
        .insertInto('customer_consents')
        .values([
          { customer_id: 1, channel: 'email', granted: 1, updated_at: T0 - 10 * DAY, source: 'test' },
          { customer_id: 1, channel: 'sms', granted: 1, updated_at: T0 - 10 * DAY, source: 'test' },
        ])
        .execute();
      // Customer 1 enters exactly at `from` (the period is half-open [from, to): included) ...
      await event(db, 'seg-1', 1, 'segment_entered', 'champions', T0, { kind: 'rfm' });
      // ... and closes the account a day later: the journey exits when the 2-day wait ends.
      await event(db, 'close-1', 1, 'track', 'Account Closed', T0 + DAY);
      // Customer 2 entered a `champions` segment of another kind: not `rfm:champions`.
      await event(db, 'seg-2', 2, 'segment_entered', 'champions', T0 + DAY, { kind: 'other' });
      // Customer 3 enters exactly at `to`: outside the period.
      await event(db, 'seg-3', 3, 'segment_entered', 'champions', TO, { kind: 'rfm' });
      // Customer 1's past engagement: one click on an SMS before the period's end, and two opens of
      // an e-mail at `to` itself, which the backtest does not know yet (read strictly before `to`).
      const old = await saveFlow(db, { ...flow, key: 'older-flow' }, T0 - 30 * DAY);
      const journey = await campaignDb(db)
        .insertInto('journeys')
        .values({
          flow_id: old.flow.id,
          version: 1,
          customer_id: 1,
          occurrence: 'old',
          arm: 'treatment',
          entered_at: T0 - 20 * DAY,
          step_id: null,
          step_started_at: T0 - 20 * DAY,
          wake_at: null,
          status: 'completed',
          exit_reason: null,
          updated_at: T0 - 20 * DAY,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await engaged(db, journey.id, old.flow.id, 'sms', ['clicked'], T0 - 20 * DAY);
      await engaged(db, journey.id, old.flow.id, 'email', ['opened', 'opened'], TO);
    });
    after(() => t.drop());

    test('who enters, which channel, when they exit: the whole report, worked out by hand', async () => {
      const report = await backtestFlow(t.store.db, flow, { from: T0, to: TO });
      // Customer 1: s1 at T0 on SMS (email and SMS both consented and addressed; SMS has 1 open or
      // click before `to`, e-mail 0), not held out (share 0), no cap reached (the one message sent
      // 20 days before is outside 7 days) and 10:00 UTC is not quiet. The wait ends at T0 + 2 days,
      // when `Account Closed` (T0 + 1 day, after entering, before now) ends the journey: no s2.
      assert.deepEqual(report, {
        key: 'champions-thanks',
        from: T0,
        to: TO,
        thresholds: null,
        notes: [],
        entrants: [
          {
            customerId: 1,
            externalId: null,
            enteredAt: T0,
            occurrence: 'event:seg-1',
            arm: 'treatment',
            end: { status: 'exited', reason: 'event', at: T0 + 2 * DAY },
            messages: [
              {
                stepId: 's1',
                at: T0,
                channel: 'sms',
                template: 't1',
                purpose: 'marketing',
                outcome: 'would_send',
                reason: null,
              },
            ],
          },
        ],
        totals: {
          entrants: 1,
          treatment: 1,
          control: 0,
          notEntered: 0,
          wouldSend: 1,
          heldOut: 0,
          deferred: 0,
          skipped: {},
        },
      });
    });

    test('without the exit event the journey goes on to s2 at T0 + 2 days and completes', async () => {
      const report = await backtestFlow(t.store.db, { ...flow, exitWhen: [] }, { from: T0, to: TO });
      const [one] = report.entrants;
      assert.deepEqual(one?.end, { status: 'completed', at: T0 + 2 * DAY });
      assert.deepEqual(
        one?.messages.map((m) => [m.stepId, m.at, m.channel, m.outcome]),
        [
          ['s1', T0, 'sms', 'would_send'],
          ['s2', T0 + 2 * DAY, 'email', 'would_send'],
        ],
      );
    });
  });
}
