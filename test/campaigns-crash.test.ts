import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  advanceJourneys,
  deliverDue,
  enrolNewEntrants,
  recoverOutbox,
  resendUncertain,
  saveFlow,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const N = 120;
const SECRET = 'crash-test-secret';

for (const dialect of DIALECTS) {
  describe(`a delivery worker killed with SIGKILL mid-batch (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink({ delayMs: 15 });
      const db = t.store.db;
      const now = Date.now();
      for (let id = 1; id <= N; id++) {
        await db
          .insertInto('customers')
          .values({ id, source: 'test', email: `c${id}@example.com`, first_seen_at: now, created_at: now })
          .execute();
        await db
          .insertInto('customer_consents')
          .values({ customer_id: id, channel: 'email', granted: 1, updated_at: now - 1000, source: 'test' })
          .execute();
      }
      await saveTemplate(
        db,
        {
          key: 'hello',
          channel: 'email',
          purpose: 'transactional',
          subject: 'Hello {{ customer.id }}',
          body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
        },
        now,
      );
      const parsed = validateFlow({
        key: 'hello',
        name: 'Hello',
        trigger: { type: 'event', events: ['Signed Up'] },
        holdoutShare: 0,
        steps: [{ id: 's', type: 'send', channels: ['email'], template: 'hello', purpose: 'transactional' }],
      });
      assert.ok(parsed.ok);
      await saveFlow(db, parsed.flow, now);
      await setFlowEnabled(db, 'hello', true, now);
      for (let id = 1; id <= N; id++) {
        await db
          .insertInto('events')
          .values({
            message_id: `signup-${id}`,
            type: 'track',
            event: 'Signed Up',
            customer_id: id,
            properties: '{}',
            occurred_at: now,
            received_at: now,
          })
          .execute();
      }
      await enrolNewEntrants(db, now + 1);
      const advanced = await advanceJourneys(db, { now: now + 1, linkSecret: SECRET, limit: N });
      assert.equal(advanced.queued, N);
    });

    after(async () => {
      await sink.close();
      await t.drop();
    });

    test('resumes with no duplicate and no message lost silently; uncertain ones are resent on request with the same Message-ID', async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'campaigns-worker-child.ts'), t.url, String(sink.port)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await sink.waitFor(40, 60_000);
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const atKill = sink.received.length;
      assert.ok(atKill < N, 'the worker was killed before it finished');

      const db = t.store.db;
      // After the dead worker's lease runs out, what it held becomes uncertain, not pending.
      const later = Date.now() + 61_000;
      const recovered = await recoverOutbox(db, later);
      const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      for (;;) {
        const done = await deliverDue(db, { email }, { now: () => later, random: () => 0.5, limit: 50 });
        if (done.claimed === 0) break;
      }

      const ids = sink.received.map((m) => m.parsed.messageId);
      assert.equal(new Set(ids).size, ids.length, 'a message arrived twice');
      const rows = await campaignDb(db).selectFrom('outbox').select(['message_id', 'status']).execute();
      assert.equal(rows.length, N);
      const received = new Set(ids);
      const uncertain = rows.filter((r) => r.status === 'uncertain');
      assert.equal(uncertain.length, recovered.uncertain);
      for (const r of rows) {
        assert.ok(r.status === 'sent' || r.status === 'uncertain', `row in ${r.status}`);
        if (r.status === 'sent') assert.ok(received.has(r.message_id), `sent but never received: ${r.message_id}`);
      }
      // Nothing is lost silently: every message arrived, or is reported uncertain.
      const missing = rows.filter((r) => !received.has(r.message_id));
      for (const r of missing) assert.equal(r.status, 'uncertain');
      // The child sends 2 at a time: only those being handed over can be uncertain, never its whole batch of 20.
      assert.ok(uncertain.length <= 2, `${uncertain.length} uncertain: at most the in-flight ones`);

      // On request, uncertain messages go again with the same Message-ID, so a receiver can drop a repeat.
      assert.equal(await resendUncertain(db, later + 1), uncertain.length);
      for (;;) {
        const done = await deliverDue(db, { email }, { now: () => later + 2, random: () => 0.5, limit: 50 });
        if (done.claimed === 0) break;
      }
      email.close?.();
      const all = new Set(sink.received.map((m) => m.parsed.messageId));
      assert.equal(all.size, N, 'every message has arrived');
      for (const r of uncertain) assert.ok(all.has(r.message_id));
    });
  });
}
