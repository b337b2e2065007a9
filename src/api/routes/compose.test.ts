import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addCustomer } from '../../../test/campaign-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { saveMessagingSettings, saveTemplate } from '../../campaigns/index.js';
import { campaignDb } from '../../campaigns/tables.js';
import { parseRule, saveSegment } from '../../segments/index.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T10:00:00Z');
/** The hold-out draw as holdout.ts documents it (first 48 bits of SHA-256 of `key:customer` over 2^48), written out here. */
const draw = (text: string) => createHash('sha256').update(text).digest().readUIntBE(0, 6) / 2 ** 48;

const EMAIL = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ customer.first_name }}</mj-text>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

for (const dialect of DIALECTS) {
  describe(`composer API: previews, flow edits, campaign audiences (${dialect.name})`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: Awaited<ReturnType<typeof buildApp>>;
    const keys = { read: '', write: '' };
    const as = (scope: 'read' | 'write') => ({ authorization: `Bearer ${keys[scope]}` });
    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      await saveMessagingSettings(db, { storeName: 'Shop & Co', publicUrl: 'https://shop.test' });
      // GB customers 1…6 and FR customer 7. E-mail consent: 1, 2 and 5 granted, 3 refused, 4 none;
      // 5's address is suppressed (a bounce); 6 has no e-mail address.
      for (let id = 1; id <= 7; id++) {
        await addCustomer(db, id, NOW - 100 * DAY, {
          email: id === 6 ? null : `c${id}@example.com`,
          first_name: id === 1 ? '<b>Ann & "Bo"</b>' : `N${id}`,
          country: id <= 6 ? 'GB' : 'FR',
        });
      }
      for (const [id, granted] of [
        [1, 1],
        [2, 1],
        [3, 0],
        [5, 1],
      ] as const) {
        await db
          .insertInto('customer_consents')
          .values({ customer_id: id, channel: 'email', granted, updated_at: NOW - DAY, source: 'test' })
          .execute();
      }
      await campaignDb(db)
        .insertInto('suppressions')
        .values({
          channel: 'email',
          address: 'c5@example.com',
          reason: 'bounce',
          source: 'test',
          created_at: NOW - DAY,
        })
        .execute();
      await saveTemplate(
        db,
        { key: 'hello', channel: 'email', purpose: 'marketing', subject: 'Hi {{ customer.first_name }}', body: EMAIL },
        NOW - DAY,
      );
      await saveTemplate(
        db,
        {
          key: 'code',
          channel: 'sms',
          purpose: 'transactional',
          body: 'Hi {{ customer.first_name }}, code {{ coupon.code }}',
        },
        NOW - DAY,
      );
      await saveTemplate(
        db,
        { key: 'broken', channel: 'sms', purpose: 'transactional', body: 'Hi {{ customer.nickname }}' },
        NOW - DAY,
      );
      await saveSegment(db, 'uk', parseRule({ field: 'country', op: 'eq', value: 'GB' }), { asOf: NOW, now: NOW });
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      keys.read = (await createApiKey(db, { scope: 'read', now: NOW })).key;
      keys.write = (await createApiKey(db, { scope: 'write', now: NOW })).key;
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('every new route needs a key; saving a flow needs a write key', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/templates'],
        ['POST', '/api/v1/templates/hello/preview'],
        ['PUT', '/api/v1/flows/welcome'],
        ['GET', '/api/v1/segments/saved'],
        ['POST', '/api/v1/campaigns/audience'],
        ['GET', '/api/v1/campaigns/sends'],
      ] as const) {
        const res = await app.inject({ method, url, ...(method === 'GET' ? {} : { payload: {} }) });
        assert.equal(res.statusCode, 401, `${method} ${url}`);
      }
      await app.inject({ url: '/api/v1/flows', headers: as('read') }); // installs the built-in flows
      const welcome = (await app.inject({ url: '/api/v1/flows/welcome', headers: as('read') })).json() as {
        definition: unknown;
      };
      const res = await app.inject({
        method: 'PUT',
        url: '/api/v1/flows/welcome',
        headers: as('read'),
        payload: welcome.definition as object,
      });
      assert.equal(res.statusCode, 403);
    });

    test('templates are listed with their newest version', async () => {
      const res = await app.inject({ url: '/api/v1/templates', headers: as('read') });
      assert.equal(res.statusCode, 200);
      const ours = (res.json() as { templates: { key: string; version: number; channel: string }[] }).templates.filter(
        (x) => ['broken', 'code', 'hello'].includes(x.key),
      );
      assert.deepEqual(
        ours.map((x) => [x.key, x.version, x.channel]),
        [
          ['broken', 1, 'sms'],
          ['code', 1, 'sms'],
          ['hello', 1, 'email'],
        ],
      );
    });

    test('a preview escapes the customer’s name in HTML, not in the subject or text', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/templates/hello/preview',
        headers: as('read'),
        payload: { customer: '1' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const p = res.json() as {
        subject: string;
        html: string;
        text: string;
        customer: { id: number; sample: boolean };
        length: unknown;
      };
      assert.equal(p.subject, 'Hi <b>Ann & "Bo"</b>');
      assert.ok(p.html.includes('Hello &lt;b&gt;Ann &amp; &#34;Bo&#34;&lt;/b&gt;'), p.html);
      assert.ok(!p.html.includes('<b>Ann'));
      assert.match(p.text, /Hello <b>Ann & "Bo"<\/b>/);
      assert.deepEqual(p.customer, { id: 1, name: '<b>Ann & "Bo"</b>', sample: false, korean: false });
      assert.equal(p.length, null);
    });

    test('an SMS preview counts characters and parts; no customer means the sample one', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/templates/code/preview',
        headers: as('read'),
        payload: { customer: 'c2@example.com' },
      });
      assert.equal(res.statusCode, 200, res.body);
      // "Hi N2, code PREVIEW-CODE": 24 GSM characters, one part, 24 EUC-KR bytes.
      assert.deepEqual((res.json() as { text: string; length: unknown }).text, 'Hi N2, code PREVIEW-CODE');
      assert.deepEqual((res.json() as { length: unknown }).length, {
        characters: 24,
        encoding: 'gsm7',
        units: 24,
        segments: 1,
        eucKrBytes: 24,
        koreanType: 'SMS',
      });
      const sample = await app.inject({ method: 'POST', url: '/api/v1/templates/code/preview', headers: as('read') });
      assert.equal(sample.statusCode, 200, sample.body);
      assert.equal((sample.json() as { text: string }).text, 'Hi Alex, code PREVIEW-CODE');
      assert.equal((sample.json() as { customer: { sample: boolean } }).customer.sample, true);
    });

    test('preview refusals name the field; a Liquid error is a 400 with Liquid’s message', async () => {
      const post = (url: string, payload?: object) =>
        app.inject({ method: 'POST', url, headers: as('read'), ...(payload ? { payload } : {}) });
      const noTemplate = await post('/api/v1/templates/nope/preview');
      assert.equal(noTemplate.statusCode, 404);
      assert.equal((noTemplate.json() as { error: { field: string } }).error.field, 'key');
      const noCustomer = await post('/api/v1/templates/hello/preview', { customer: '999' });
      assert.equal(noCustomer.statusCode, 404);
      assert.equal((noCustomer.json() as { error: { field: string } }).error.field, 'customer');
      const extra = await post('/api/v1/templates/hello/preview', { customer: '1', colour: 'red' });
      assert.equal(extra.statusCode, 400);
      assert.equal((extra.json() as { error: { field: string } }).error.field, 'colour');
      const broken = await post('/api/v1/templates/broken/preview', { customer: '1' });
      assert.equal(broken.statusCode, 400);
      assert.match(
        (broken.json() as { error: { message: string } }).error.message,
        /template broken: .*customer\.nickname/,
      );
    });

    test('an edited flow is validated, names the field, and saves a new version only when valid', async () => {
      await app.inject({ url: '/api/v1/flows', headers: as('read') });
      const get = async () =>
        (await app.inject({ url: '/api/v1/flows/welcome', headers: as('read') })).json() as {
          version: number;
          name: string;
          definition: { name: string; steps: { next?: string }[] } & Record<string, unknown>;
        };
      const before = await get();
      const put = (payload: object, key = 'welcome') =>
        app.inject({ method: 'PUT', url: `/api/v1/flows/${key}`, headers: as('write'), payload });

      const dangling = structuredClone(before.definition);
      dangling.steps[0]!.next = 'nowhere';
      const bad = await put(dangling);
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal((bad.json() as { error: { field: string } }).error.field, 'steps.0.next');
      assert.equal((await get()).version, before.version, 'a refused edit saves nothing');

      const wrongKey = await put({ ...before.definition, key: 'other' });
      assert.equal(wrongKey.statusCode, 400);
      assert.equal((wrongKey.json() as { error: { field: string } }).error.field, 'key');
      const unknown = await put({ ...before.definition, key: 'no-such-flow' }, 'no-such-flow');
      assert.equal(unknown.statusCode, 404);

      const renamed = await put({ ...before.definition, name: 'Welcome, edited' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.deepEqual(
        [
          (renamed.json() as { version: number }).version,
          (renamed.json() as { created: boolean }).created,
          (renamed.json() as { name: string }).name,
        ],
        [before.version + 1, true, 'Welcome, edited'],
      );
      const again = await put({ ...before.definition, name: 'Welcome, edited' });
      assert.deepEqual(
        [(again.json() as { version: number }).version, (again.json() as { created: boolean }).created],
        [before.version + 1, false],
      );
    });

    test('a segment’s audience counts who a message could not reach, and the held-out members', async () => {
      const saved = await app.inject({ url: '/api/v1/segments/saved', headers: as('read') });
      assert.deepEqual(
        (saved.json() as { segments: { name: string }[] }).segments.map((s) => s.name),
        ['uk'],
      );
      const share = 0.5;
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/campaigns/audience',
        headers: as('read'),
        payload: { segment: 'uk', key: 'june', holdoutShare: share },
      });
      assert.equal(res.statusCode, 200, res.body);
      const heldOut = [1, 2, 3, 4, 5, 6].filter((id) => draw(`june:${id}`) < share).length;
      assert.deepEqual(res.json(), {
        segment: 'uk',
        asOf: NOW,
        members: 6,
        heldOut,
        reachable: 2,
        excluded: { no_address: 1, no_consent: 2, suppressed: 1 },
      });
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/v1/campaigns/audience',
        headers: as('read'),
        payload: { segment: 'nobody' },
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal((unknown.json() as { error: { field: string } }).error.field, 'segment');
      const badChannel = await app.inject({
        method: 'POST',
        url: '/api/v1/campaigns/audience',
        headers: as('read'),
        payload: { segment: 'uk', channels: ['fax'] },
      });
      assert.equal(badChannel.statusCode, 400);
      assert.match(String((badChannel.json() as { error: { field: string } }).error.field), /^channels/);
    });

    test('a campaign sent lists the customers it entered', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/campaigns',
        headers: as('write'),
        payload: { key: 'june', segment: 'uk', templates: ['hello'], holdoutShare: 0.5 },
      });
      assert.equal(created.statusCode, 201, created.body);
      const list = async () =>
        (
          (await app.inject({ url: '/api/v1/campaigns/sends', headers: as('read') })).json() as {
            campaigns: { key: string; entered: number; heldOut: number; sendAt: number | null }[];
          }
        ).campaigns;
      assert.deepEqual(
        (await list()).map((c) => [c.key, c.entered, c.sendAt]),
        [['june', 0, null]],
      );
      const at = NOW + 3_600_000;
      const sent = await app.inject({
        method: 'POST',
        url: '/api/v1/campaigns/june/send',
        headers: as('write'),
        payload: { at: new Date(at).toISOString() },
      });
      assert.equal(sent.statusCode, 200, sent.body);
      const heldOut = [1, 2, 3, 4, 5, 6].filter((id) => draw(`june:${id}`) < 0.5).length;
      assert.deepEqual(
        (await list()).map((c) => [c.key, c.entered, c.heldOut, c.sendAt]),
        [['june', 6, heldOut, at]],
      );
    });
  });
}
