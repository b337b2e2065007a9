import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import {
  createCampaign,
  flowReport,
  saveTemplate,
  sendCampaign,
  smtpSender,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { parseRule, saveSegment } from '../src/segments/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T10:00:00Z');
const AT = T0 + 2 * 3_600_000; // scheduled two hours later
const SECRET = 'campaign-test-secret';
const HOLDOUT = 0.2;
const SPLIT = 0.5;

/** The hash draw as holdout.ts documents it (first 48 bits of SHA-256 of `key:customer` over 2^48), written out here. */
const draw = (text: string) => createHash('sha256').update(text).digest().readUIntBE(0, 6) / 2 ** 48;

const body = (line: string) => `<mjml><mj-body><mj-section><mj-column>
<mj-text>${line}</mj-text>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

for (const dialect of DIALECTS) {
  describe(`one-off campaigns to a saved segment (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let sender: ReturnType<typeof smtpSender>;
    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      sender = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, maxConnections: 2 });
      const db = t.store.db;
      // Customers 1…200: 1…160 in GB, the rest in FR; e-mail consent for all but multiples of 10.
      for (let id = 1; id <= 200; id++) {
        await addCustomer(db, id, T0 - 100 * DAY, {
          email: `c${id}@example.com`,
          first_name: `N${id}`,
          country: id <= 160 ? 'GB' : 'FR',
        });
        await db
          .insertInto('customer_consents')
          .values({
            customer_id: id,
            channel: 'email',
            granted: id % 10 === 0 ? 0 : 1,
            updated_at: T0 - DAY,
            source: 'test',
          })
          .execute();
      }
      for (const [key, subject] of [
        ['spring-a', 'Spring is here'],
        ['spring-b', 'New for spring, {{ customer.first_name }}'],
      ] as const) {
        await saveTemplate(db, { key, channel: 'email', purpose: 'marketing', subject, body: body(subject) }, T0 - DAY);
      }
      await saveSegment(db, 'uk', parseRule({ field: 'country', op: 'eq', value: 'GB' }), { asOf: T0, now: T0 });
    });
    after(async () => {
      await sender.close?.();
      await sink?.close();
      await t?.drop();
    });

    test('scheduled, split A/B, held out, consent respected, sent once, reported per variant', async () => {
      const db = t.store.db;
      const created = await createCampaign(
        db,
        { key: 'spring', segment: 'uk', templates: ['spring-a', 'spring-b'], split: SPLIT, holdoutShare: HOLDOUT },
        T0,
      );
      assert.equal(created.created, true);
      assert.equal(created.campaign.kind, 'campaign');

      const sent = await sendCampaign(db, 'spring', { now: T0, at: AT });
      const control = Array.from({ length: 160 }, (_, i) => i + 1).filter((id) => draw(`spring:${id}`) < HOLDOUT);
      assert.deepEqual(sent, {
        key: 'spring',
        at: AT,
        audience: 160,
        entered: 160,
        treatment: 160 - control.length,
        control: control.length,
      });
      // Within binomial noise of the setting: 160 × 0.2 = 32, sd ≈ 5.1.
      assert.ok(Math.abs(control.length - 32) < 4 * Math.sqrt(160 * 0.2 * 0.8));
      // Sending again enters nobody twice.
      assert.equal((await sendCampaign(db, 'spring', { now: T0 + 60_000 })).entered, 0);

      const tick = (now: number) =>
        workerTick(db, { now: () => now, random: () => 0.5, linkSecret: SECRET, senders: { email: sender } });
      await tick(T0 + 3_600_000); // before the scheduled time: nothing leaves
      assert.equal(sink.received.length, 0);
      await tick(AT);
      await tick(AT + 60_000);

      const expected = new Map<string, string>();
      for (let id = 1; id <= 160; id++) {
        if (control.includes(id) || id % 10 === 0) continue;
        expected.set(
          `c${id}@example.com`,
          draw(`spring:ab:${id}`) < SPLIT ? 'Spring is here' : `New for spring, N${id}`,
        );
      }
      await sink.waitFor(expected.size);
      await new Promise((r) => setTimeout(r, 200));
      const got = new Map(sink.received.map((m) => [m.envelopeTo[0]!, m.parsed.subject ?? '']));
      assert.deepEqual(
        [...got.entries()].sort((a, b) => a[0].localeCompare(b[0])),
        [...expected.entries()].sort((a, b) => a[0].localeCompare(b[0])),
      );

      // Orders the day after: two variant-A treated customers and one variant-A control customer.
      const variantA = (id: number) => draw(`spring:ab:${id}`) < SPLIT;
      const treatedA = Array.from({ length: 160 }, (_, i) => i + 1).filter(
        (id) => !control.includes(id) && variantA(id),
      );
      const controlA = control.filter(variantA);
      const buyers = [treatedA[0]!, treatedA[1]!, controlA[0]!];
      for (const [n, id] of buyers.entries()) {
        await db
          .insertInto('orders')
          .values({
            source: 'test',
            external_id: `o-${n}`,
            customer_id: id,
            email: null,
            placed_at: AT + DAY,
            placed_offset: 0,
            placed_date: '2026-06-02',
            currency: 'GBP',
            subtotal_minor: 3000,
            shipping_minor: 0,
            tax_minor: 0,
            discount_minor: 0,
            total_minor: 3000,
            refunded_minor: 0,
            status: 'paid',
            discount_codes: '',
            country: 'GB',
            cancelled_at: null,
            imported_at: AT + DAY,
          })
          .execute();
      }
      const report = await flowReport(db, 'spring', AT + 10 * DAY);
      assert.deepEqual(report.entrants, { treatment: 160 - control.length, control: control.length });
      const a = report.steps.find((s) => s.stepId === 'variant-a')!;
      const b = report.steps.find((s) => s.stepId === 'variant-b')!;
      assert.equal(a.treated.sent + b.treated.sent, expected.size);
      assert.equal(a.treated.sent, [...expected.values()].filter((s) => s === 'Spring is here').length);
      assert.equal(a.treated.skipped.no_consent ?? 0, treatedA.filter((id) => id % 10 === 0).length);
      assert.equal(a.heldOut, controlA.length);
      // The variant's own lift: 2 of its treated entrants bought, 1 of its held-out ones.
      assert.equal(a.lift.treatment.entrants, treatedA.length);
      assert.equal(a.lift.control.entrants, controlA.length);
      assert.equal(a.lift.treatment.converters, 2);
      assert.equal(a.lift.control.converters, 1);
      assert.equal(b.lift.treatment.converters, 0);
      assert.equal(report.lift.treatment.converters, 2);
      assert.equal(report.lift.control.converters, 1);
    });

    test('the API creates, sends and reports; bad input names the field', async () => {
      const app = await buildApp({ store: t.store, now: () => T0, rateLimit: false });
      try {
        const write = { authorization: `Bearer ${(await createApiKey(t.store.db, { scope: 'write', now: T0 })).key}` };
        const post = (url: string, payload: Record<string, unknown>) =>
          app.inject({ method: 'POST', url, headers: write, payload });
        const bad = await post('/api/v1/campaigns', { key: 'x', segment: 'uk', templates: ['spring-a'], split: 1.5 });
        assert.equal(bad.statusCode, 400);
        assert.match(bad.body, /split/);
        const badTopic = await post('/api/v1/campaigns', {
          key: 'x',
          segment: 'uk',
          templates: ['spring-a'],
          topic: 'promotions',
        });
        assert.equal(badTopic.statusCode, 400);
        assert.match(badTopic.body, /topic/);
        const topical = await post('/api/v1/campaigns', {
          key: 'autumn',
          segment: 'uk',
          templates: ['spring-a'],
          topic: 'new_products',
        });
        assert.equal(topical.statusCode, 201, topical.body);
        const autumn = await campaignDb(t.store.db)
          .selectFrom('flow_versions')
          .innerJoin('flows', 'flows.id', 'flow_versions.flow_id')
          .select('flow_versions.definition')
          .where('flows.key', '=', 'autumn')
          .executeTakeFirstOrThrow();
        assert.equal(JSON.parse(autumn.definition).steps[0].topic, 'new_products');
        const noSegment = await post('/api/v1/campaigns', { key: 'x', segment: 'nobody', templates: ['spring-a'] });
        assert.equal(noSegment.statusCode, 404);
        assert.match(noSegment.body, /nobody/);
        const flowKey = await post('/api/v1/campaigns', { key: 'win-back', segment: 'uk', templates: ['spring-a'] });
        assert.equal(flowKey.statusCode, 400);
        const made = await post('/api/v1/campaigns', { key: 'summer', segment: 'uk', templates: ['spring-a'] });
        assert.equal(made.statusCode, 201, made.body);
        const past = await post('/api/v1/campaigns/summer/send', { at: '2026-05-01T00:00:00Z' });
        assert.equal(past.statusCode, 400);
        assert.match(past.body, /in the past/);
        const sent = await post('/api/v1/campaigns/summer/send', {});
        assert.equal(sent.statusCode, 200, sent.body);
        assert.equal(sent.json().audience, 160);
        const report = await app.inject({ url: '/api/v1/campaigns/summer/report?asOf=2026-06-01', headers: write });
        assert.equal(report.statusCode, 200);
        assert.equal(report.json().entrants.treatment + report.json().entrants.control, 160);
        const list = await app.inject({ url: '/api/v1/campaigns', headers: write });
        assert.deepEqual(
          list.json().campaigns.map((c: { key: string }) => c.key),
          ['autumn', 'spring', 'summer'],
        );
        const stored = await campaignDb(t.store.db)
          .selectFrom('flows')
          .select('kind')
          .where('key', '=', 'summer')
          .executeTakeFirst();
        assert.equal(stored?.kind, 'campaign');
      } finally {
        await app.close();
      }
    });
  });
}
