import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ApiApp } from '../src/api/app.types.js';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey } from '../src/api/keys.queries.js';
import {
  enrolNewEntrants,
  saveFlow,
  saveMessagingSettings,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  workerTick,
} from '../src/campaigns/index.js';
import { consentLedger } from '../src/hosted/index.js';
import { DIALECTS, freshDatabase, type TestDb } from './setup.js';
import { type SmtpSink, startSmtpSink } from './smtp-sink.js';

// The storefront's e-mail capture is double opt-in: the form grants nothing and sends one confirmation
// e-mail (through the outbox and SMTP) with a signed, expiring, one-use link; the link, followed over
// HTTP, shows a button whose POST grants e-mail consent (source storefront, the ledger noting the double
// opt-in), records Signed Up and so starts the welcome flow. Forged, expired and reused links are refused;
// capturing the same address again does not send a second e-mail within 10 minutes, nor a fourth in a day.

const T = Date.parse('2026-06-01T10:00:00Z');
const MINUTE = 60_000;
const DAY = 86_400_000;
const SHOP = 'https://shop.example';

for (const dialect of DIALECTS) {
  describe(`storefront e-mail capture: double opt-in (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let sink: SmtpSink;
    let email: ReturnType<typeof smtpSender>;
    let base = '';
    let pub = '';
    let server = '';
    let clock = T;

    const capture = (address: string, extra: Record<string, unknown> = {}) =>
      fetch(`${base}/api/v1/storefront/subscribe`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pub}`, origin: SHOP, 'content-type': 'application/json' },
        body: JSON.stringify({ email: address, consent: true, ...extra }),
      });
    const deliver = () =>
      workerTick(t.store.db, { now: () => clock, random: () => 0.5, linkSecret: 'unused', senders: { email } });
    const mailsTo = (address: string) => sink.received.filter((m) => m.envelopeTo.includes(address));
    const linkIn = (text: string) => {
      const match = /https?:\/\/\S+\/o\/(\S+)/.exec(text);
      assert.ok(match, `a confirmation link in ${text}`);
      return `/o/${match[1]}`;
    };
    const customerOf = async (address: string) =>
      Number(
        (await t.store.db.selectFrom('customers').select('id').where('email', '=', address).executeTakeFirstOrThrow())
          .id,
      );
    const consentOf = (id: number) =>
      t.store.db
        .selectFrom('customer_consents')
        .select(['channel', 'granted', 'source'])
        .where('customer_id', '=', id)
        .execute();
    const tracked = async (id: number) =>
      (
        await t.store.db
          .selectFrom('events')
          .select('event')
          .where('customer_id', '=', id)
          .where('type', '=', 'track')
          .execute()
      ).map((e) => e.event);

    before(async () => {
      t = await freshDatabase(dialect.name);
      sink = await startSmtpSink();
      email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true });
      const db = t.store.db;
      await saveMessagingSettings(db, {
        storeName: 'Corner Shop',
        timeZone: 'Europe/London',
        publicUrl: 'https://corner.example',
        quietHours: null,
        cap: null,
      });
      pub = (await createApiKey(db, { scope: 'publishable', origins: [SHOP], now: T })).key;
      server = (await createApiKey(db, { scope: 'write', now: T })).key;
      await saveTemplate(
        db,
        {
          key: 'welcome',
          channel: 'email',
          purpose: 'marketing',
          subject: 'Welcome',
          body: '<mjml><mj-body><mj-section><mj-column><mj-text>Welcome <a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
        },
        T - DAY,
      );
      const { flow } = await saveFlow(
        db,
        {
          key: 'welcome',
          name: 'Welcome',
          trigger: { type: 'event', events: ['Signed Up'] },
          exitWhen: [{ type: 'unsubscribed' }],
          holdoutShare: 0,
          attributionDays: 5,
          reentry: { type: 'never' },
          steps: [{ id: 'hello', type: 'send', channels: ['email'], template: 'welcome', purpose: 'marketing' }],
        },
        T - DAY,
      );
      await setFlowEnabled(db, flow.key, true, T - DAY);
      app = await buildApp({ store: t.store, now: () => clock, rateLimit: false });
      await app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });

    after(async () => {
      await app?.close();
      email?.close?.();
      await sink?.close();
      await t?.drop();
    });

    test('capture grants nothing and sends one e-mail; its link, followed over HTTP, grants consent with its source and starts the welcome flow', async () => {
      const db = t.store.db;
      clock = T;
      const r = await capture(' New@Example.com ', { locale: 'ko', messageId: 'form-1', anonymousId: 'anon-1' });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { subscribed: false, pending: true, duplicate: false });
      const id = await customerOf('new@example.com');
      assert.deepEqual(await consentOf(id), [], 'no consent before the address is confirmed');
      assert.deepEqual(await tracked(id), [], 'no Signed Up yet');
      assert.equal((await enrolNewEntrants(db, clock + 1)).entered, 0, 'no welcome series yet');

      const sent = await deliver();
      assert.equal(sent.delivered.sent, 1);
      const mails = mailsTo('new@example.com');
      assert.equal(mails.length, 1);
      assert.match(mails[0]!.parsed.subject ?? '', /Corner Shop 이메일 수신 동의/);
      const path = linkIn(mails[0]!.parsed.text ?? '');

      clock = T + DAY;
      // Opening the link (as a mail scanner would) changes nothing: it shows the address and a button.
      const shown = await fetch(`${base}${path}`);
      assert.equal(shown.status, 200);
      const page = await shown.text();
      assert.match(page, /new@example\.com/);
      assert.match(page, /네, 구독할게요/);
      assert.deepEqual(await consentOf(id), []);
      const confirmed = await fetch(`${base}${path}`, { method: 'POST' });
      assert.equal(confirmed.status, 200);
      assert.match(await confirmed.text(), /구독이 확인되었습니다/);
      assert.deepEqual(await consentOf(id), [{ channel: 'email', granted: 1, source: 'storefront' }]);
      const ledger = await consentLedger(db, id);
      assert.deepEqual(
        ledger.map((l) => [l.subject, l.granted, l.source, l.detail, l.occurredAt]),
        [
          [
            'email',
            true,
            'storefront',
            'double opt-in: requested 2026-06-01T10:00:00.000Z, confirmed 2026-06-02T10:00:00.000Z',
            T + DAY,
          ],
        ],
      );
      assert.deepEqual(await tracked(id), ['Signed Up']);
      assert.equal((await enrolNewEntrants(db, clock + 1)).entered, 1, 'the welcome series starts');

      // The link answers once: a second POST and a second look are refused as used.
      const reused = await fetch(`${base}${path.replace('lang=ko', 'lang=en')}`, { method: 'POST' });
      assert.equal(reused.status, 409);
      assert.match(await reused.text(), /already been confirmed/);
      assert.equal((await fetch(`${base}${path}`)).status, 409);
      assert.deepEqual(await tracked(id), ['Signed Up'], 'one Signed Up');
      assert.equal((await consentLedger(db, id)).length, 1, 'one ledger row');
      // Subscribed now: capturing the address again sends nothing more.
      await capture('new@example.com');
      await deliver();
      assert.deepEqual(
        mailsTo('new@example.com').map((m) => m.parsed.subject),
        [mails[0]!.parsed.subject, 'Welcome'],
        'the welcome e-mail, and no second confirmation',
      );
    });

    test('an existing customer’s address: confirmed by its owner only through the e-mail; forged and expired links are refused', async () => {
      const db = t.store.db;
      clock = T + 10 * DAY;
      const known = await fetch(`${base}/api/v1/identify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'ann', traits: { email: 'ann@example.com' } }),
      });
      assert.equal(known.status, 200);
      const ann = await customerOf('ann@example.com');
      const r = await capture('ann@example.com', { anonymousId: 'stranger' });
      assert.deepEqual(await r.json(), { subscribed: false, pending: true, duplicate: false });
      assert.deepEqual(await consentOf(ann), []);
      await deliver();
      const [mail] = mailsTo('ann@example.com');
      assert.ok(mail);
      assert.match(mail.parsed.subject ?? '', /Please confirm your subscription to Corner Shop/);
      const path = linkIn(mail.parsed.text ?? '');
      const token = path.slice(3).replace(/\?.*$/, '');
      // Forged: the signature of another payload (another customer), or a changed signature.
      const [payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const otherPayload = Buffer.from(JSON.stringify({ ...claims, c: claims.c + 1 })).toString('base64url');
      for (const forged of [`${otherPayload}.${signature}`, `${payload}.${signature!.slice(0, -2)}AA`]) {
        const answer = await fetch(`${base}/o/${forged}`, { method: 'POST' });
        assert.equal(answer.status, 400);
        assert.match(await answer.text(), /not valid/);
      }
      assert.deepEqual(await consentOf(ann), []);
      // Expired: 7 days after it was asked for.
      clock = T + 17 * DAY;
      const late = await fetch(`${base}/o/${token}`, { method: 'POST' });
      assert.equal(late.status, 410);
      assert.deepEqual(await consentOf(ann), []);
      assert.deepEqual(await tracked(ann), []);
      // A new request (the old one expired), confirmed in time, grants ann's consent.
      const again = await capture('ann@example.com');
      assert.equal(again.status, 200);
      await deliver();
      const mails = mailsTo('ann@example.com');
      assert.equal(mails.length, 2);
      const fresh = await fetch(`${base}${linkIn(mails[1]!.parsed.text ?? '')}`, { method: 'POST' });
      assert.equal(fresh.status, 200);
      assert.match(await fresh.text(), /Subscription confirmed/);
      assert.deepEqual(await consentOf(ann), [{ channel: 'email', granted: 1, source: 'storefront' }]);
      assert.deepEqual(await tracked(ann), ['Signed Up']);
      void db;
    });

    test('repeated capture does not spam: one e-mail per 10 minutes, three per day, per address', async () => {
      const start = T + 30 * DAY;
      const at = [0, 1, 9, 10, 11, 25, 40, 60].map((m) => start + m * MINUTE);
      for (const when of at) {
        clock = when;
        const r = await capture('spam@example.com');
        assert.deepEqual(await r.json(), { subscribed: false, pending: true, duplicate: false });
      }
      await deliver();
      // Sent at 0, 10 and 25 minutes; the rest fall within 10 minutes of one or past three in a day.
      assert.equal(mailsTo('spam@example.com').length, 3);
      clock = start + DAY + MINUTE;
      await capture('spam@example.com');
      await deliver();
      assert.equal(mailsTo('spam@example.com').length, 4, 'a day later the address may ask again');
    });

    test('a server key records consent at once, as the store’s own server vouches for it', async () => {
      clock = T + 40 * DAY;
      const r = await fetch(`${base}/api/v1/storefront/subscribe`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'backend@example.com', consent: true }),
      });
      assert.deepEqual(await r.json(), { subscribed: true, duplicate: false });
      assert.deepEqual(await consentOf(await customerOf('backend@example.com')), [
        { channel: 'email', granted: 1, source: 'storefront' },
      ]);
    });
  });
}
