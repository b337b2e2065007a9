import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/api/build-app.js';
import { messageLinkSecret } from '../src/api/keys.queries.js';
import {
  createCampaign,
  flowReport,
  httpSender,
  saveMessagingSettings,
  saveTemplate,
  sendCampaign,
  smtpSender,
  workerTick,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { parseRule, saveSegment } from '../src/segments/index.js';
import { addCustomer } from './campaign-fixtures.js';
import { type JsonGateway, startJsonGateway } from './json-gateway.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T10:00:00Z');
const TARGET = 'https://shop.example/sale?x=1&y=2';

for (const dialect of DIALECTS) {
  describe(`open pixel, signed clicks and SMS delivery receipts (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let sink: SmtpSink;
    let sms: JsonGateway;
    let secret: string;
    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      sms = await startJsonGateway();
      const db = t.store.db;
      secret = await messageLinkSecret(db);
      for (const id of [1, 2]) {
        await addCustomer(db, id, T0 - DAY, { email: `c${id}@example.com`, phone: `+44770090000${id}`, country: 'GB' });
        await db
          .insertInto('customer_consents')
          .values([
            { customer_id: id, channel: 'email', granted: 1, updated_at: T0 - DAY, source: 'test' },
            { customer_id: id, channel: 'sms', granted: 1, updated_at: T0 - DAY, source: 'test' },
          ])
          .execute();
      }
      await saveMessagingSettings(db, { publicUrl: 'https://shop.example/comeback' });
      await saveTemplate(
        db,
        {
          key: 'sale',
          channel: 'email',
          purpose: 'marketing',
          subject: 'Sale',
          body: `<mjml><mj-body><mj-section><mj-column>
<mj-text><a href="${TARGET.replace('&', '&amp;')}">The sale</a></mj-text>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`,
        },
        T0 - DAY,
      );
      await saveTemplate(
        db,
        {
          key: 'sale-sms',
          channel: 'sms',
          purpose: 'marketing',
          subject: null,
          body: 'Sale today. Stop: {{ links.unsubscribe }}',
        },
        T0 - DAY,
      );
      await saveSegment(db, 'all', parseRule({ all: [] }), { asOf: T0, now: T0 });
    });
    after(async () => {
      await sink?.close();
      await sms?.close();
      await t?.drop();
    });

    test('an e-mail’s links go through signed redirects and a pixel; both are recorded, forgeries refused', async () => {
      const db = t.store.db;
      await createCampaign(db, { key: 'mail', segment: 'all', templates: ['sale'], holdoutShare: 0 }, T0);
      await sendCampaign(db, 'mail', { now: T0 });
      const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      await workerTick(db, { now: () => T0, random: () => 0.5, linkSecret: secret, senders: { email } });
      await sink.waitFor(2);
      await email.close?.();
      const html = String(sink.received.find((m) => m.envelopeTo[0] === 'c1@example.com')!.parsed.html);
      assert.ok(!html.includes('href="https://shop.example/sale'), 'the raw link is rewritten');
      const click = /href="https:\/\/shop\.example\/comeback(\/m\/c\/[^"]+)"/.exec(html)?.[1];
      const pixel = /src="https:\/\/shop\.example\/comeback(\/m\/o\/[^"]+)"/.exec(html)?.[1];
      assert.ok(click && pixel, html);
      assert.match(html, /\/m\/u\//, 'the unsubscribe link stays direct');

      const app = await buildApp({ store: t.store, now: () => T0 + 3_600_000, rateLimit: false });
      try {
        const opened = await app.inject({ url: pixel });
        assert.equal(opened.statusCode, 200);
        assert.equal(opened.headers['content-type'], 'image/gif');
        const clicked = await app.inject({ url: click });
        assert.equal(clicked.statusCode, 302);
        assert.equal(clicked.headers.location, TARGET);
        // A token whose target was changed no longer matches its signature: refused, not redirected.
        const [payload, mac] = click.slice('/m/c/'.length).split('.') as [string, string];
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        const forged = Buffer.from(JSON.stringify({ ...claims, u: 'https://evil.example/' })).toString('base64url');
        const refused = await app.inject({ url: `/m/c/${forged}.${mac}` });
        assert.equal(refused.statusCode, 400);
        assert.equal(refused.headers.location, undefined);
        // A pixel token is not a click token.
        assert.equal((await app.inject({ url: pixel.replace('/m/o/', '/m/c/') })).statusCode, 400);
      } finally {
        await app.close();
      }
      const step = (await flowReport(db, 'mail', T0 + DAY)).steps[0]!;
      assert.deepEqual([step.treated.sent, step.opened, step.clicked], [2, 1, 1]);
      const events = await campaignDb(db)
        .selectFrom('message_events')
        .select(['kind', 'detail'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.kind, e.detail]),
        [
          ['opened', null],
          ['clicked', TARGET],
        ],
      );
    });

    test('signed SMS receipts are recorded once; a permanent failure suppresses the number', async () => {
      const db = t.store.db;
      await createCampaign(
        db,
        { key: 'text', segment: 'all', templates: ['sale-sms'], channels: ['sms'], holdoutShare: 0 },
        T0,
      );
      await sendCampaign(db, 'text', { now: T0 });
      const sender = httpSender({ url: `${sms.url}/messages`, bearer: 'x', now: () => T0 });
      await workerTick(db, { now: () => T0, random: () => 0.5, linkSecret: secret, senders: { sms: sender } });
      const sent = await campaignDb(db)
        .selectFrom('outbox')
        .select(['customer_id', 'provider_id', 'to_address'])
        .where('channel', '=', 'sms')
        .orderBy('customer_id')
        .execute();
      assert.equal(sent.length, 2);
      assert.ok(sent.every((r) => r.provider_id?.startsWith('sms-')));

      const app = await buildApp({ store: t.store, now: () => T0 + 60_000, rateLimit: false });
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
        // The provider's key is HMAC-SHA256(link secret, "sms-receipts") (README), never the link secret.
        const receiptKey = createHmac('sha256', secret).update('sms-receipts').digest('hex');
        const receipt = async (body: Record<string, unknown>, key = receiptKey) => {
          const raw = JSON.stringify(body);
          const signature = `sha256=${createHmac('sha256', key).update(raw).digest('hex')}`;
          const response = await fetch(`${base}/m/r/sms`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-comeback-signature': signature },
            body: raw,
          });
          const text = await response.text();
          return { statusCode: response.status, body: text, json: () => JSON.parse(text) };
        };
        assert.equal(
          (await receipt({ providerId: sent[0]!.provider_id, status: 'delivered' }, secret)).statusCode,
          401,
          'the link secret itself signs no receipt',
        );
        const delivered = await receipt({ providerId: sent[0]!.provider_id, status: 'delivered' });
        assert.equal(delivered.statusCode, 200, delivered.body);
        assert.equal(delivered.json().suppressed, false);
        assert.equal(
          (await receipt({ providerId: sent[0]!.provider_id, status: 'delivered' })).json().alreadyRecorded,
          true,
        );
        assert.equal(
          (await receipt({ providerId: sent[1]!.provider_id, status: 'failed' }, 'wrong-secret')).statusCode,
          401,
        );
        const unknown = await receipt({ providerId: 'sms-999', status: 'failed' });
        assert.equal(unknown.statusCode, 404);
        const bad = await receipt({ providerId: sent[1]!.provider_id, status: 'lost' });
        assert.equal(bad.statusCode, 400);
        assert.match(bad.body, /"field":"status"/);
        const failed = await receipt({
          providerId: sent[1]!.provider_id,
          status: 'failed',
          permanent: true,
          error: 'unknown number',
        });
        assert.equal(failed.json().suppressed, true);
      } finally {
        await app.close();
      }
      const suppressed = await campaignDb(db)
        .selectFrom('suppressions')
        .select(['channel', 'address', 'reason'])
        .execute();
      assert.deepEqual(suppressed, [{ channel: 'sms', address: sent[1]!.to_address, reason: 'bounce' }]);
    });
  });
}
