import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { testProgramConfig } from '../../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { enrolMember, saveProgram } from '../../loyalty/index.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const SHOP = 'https://shop.example';
const VICTIM = 'victim@example.com';

/** The store's side of signing a customer in, from the README's recipe (not the product's helper). */
const sign = (secret: string, userId: string) =>
  `${userId}.${createHmac('sha256', secret).update(userId).digest('hex')}`;

// The security review's account-takeover and consent findings, replayed over real HTTP on loopback.
for (const dialect of DIALECTS) {
  describe(`storefront identity and consent from a browser on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let base = '';
    let server = '';
    let pub = '';
    let secret = '';
    let victim = 0;
    const call = async (
      method: 'GET' | 'POST',
      path: string,
      key: string,
      { body, member }: { body?: unknown; member?: string } = {},
    ) => {
      const response = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          origin: SHOP,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(member ? { 'x-comeback-member': sign(secret, member) } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      return { status: response.status, text, json: () => JSON.parse(text) };
    };
    /** The victim's row, identities, consents and events: what an attack must leave as it was. */
    const victimState = async () => ({
      customer: await t.store.db
        .selectFrom('customers')
        .select(['email', 'phone', 'first_name'])
        .where('id', '=', victim)
        .executeTakeFirst(),
      identities: (
        await t.store.db
          .selectFrom('customer_identities')
          .select(['source', 'external_id'])
          .where('customer_id', '=', victim)
          .orderBy('source')
          .orderBy('external_id')
          .execute()
      ).map((r) => `${r.source}:${r.external_id}`),
      consents: (
        await t.store.db
          .selectFrom('customer_consents')
          .select(['channel', 'granted', 'source'])
          .where('customer_id', '=', victim)
          .orderBy('channel')
          .execute()
      ).map((r) => `${r.channel}:${Number(r.granted)}:${r.source}`),
      events: Number(
        (
          await t.store.db
            .selectFrom('events')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('customer_id', '=', victim)
            .executeTakeFirstOrThrow()
        ).n,
      ),
      anonymousIds: (
        await t.store.db.selectFrom('anonymous_ids').select('anonymous_id').where('customer_id', '=', victim).execute()
      ).map((r) => r.anonymous_id),
    });
    const customerOf = async (userId: string) => {
      const row = await t.store.db
        .selectFrom('customer_identities')
        .select('customer_id')
        .where('source', '=', 'api')
        .where('external_id', '=', userId)
        .executeTakeFirst();
      return row ? Number(row.customer_id) : undefined;
    };

    before(async () => {
      t = await freshDatabase(dialect.name);
      server = (await createApiKey(t.store.db, { scope: 'write', name: 'server', now: NOW })).key;
      const created = await createApiKey(t.store.db, { scope: 'publishable', origins: [SHOP], now: NOW });
      pub = created.key;
      secret = created.memberSecret!;
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      await app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      // The victim, told by the store's server: an address, a phone, e-mail consent withdrawn.
      const told = await call('POST', '/identify', server, {
        body: {
          userId: 'vic',
          anonymousId: 'vic-browser',
          traits: { email: VICTIM, phone: '+447700900001', firstName: 'Vera', consent: { email: false, sms: true } },
          timestamp: new Date(NOW - 60_000).toISOString(),
        },
      });
      assert.equal(told.status, 200, told.text);
      victim = (await customerOf('vic'))!;
      const program = await saveProgram(t.store.db, testProgramConfig(), { now: NOW - 1000 });
      // Enrolment credits the signup action: 50 points (testProgramConfig).
      assert.ok((await enrolMember(t.store.db, program, { customerId: victim, now: NOW - 500 })).ok);
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('a signed-in member cannot take over the customer whose e-mail they send', async () => {
      const before = await victimState();
      assert.deepEqual(before.consents, ['email:0:events', 'sms:1:events']);
      // identify with the victim's address, as a member the store has not seen yet.
      const identify = await call('POST', '/identify', pub, {
        member: 'mallory',
        body: { userId: 'mallory', anonymousId: 'm-browser', traits: { email: VICTIM, phone: '+447700900999' } },
      });
      assert.equal(identify.status, 200, identify.text);
      // track with the address in context.traits, for another new member id.
      const track = await call('POST', '/track', pub, {
        member: 'mallory2',
        body: { userId: 'mallory2', event: 'Product Viewed', context: { traits: { email: VICTIM } } },
      });
      assert.equal(track.status, 200, track.text);
      // the e-mail capture, signed in as a third new member id, and in a batch.
      const subscribe = await call('POST', '/storefront/subscribe', pub, {
        member: 'mallory3',
        body: { email: VICTIM, consent: true, anonymousId: 'm3-browser' },
      });
      assert.equal(subscribe.status, 200, subscribe.text);
      const batch = await call('POST', '/batch', pub, {
        member: 'mallory4',
        body: { batch: [{ type: 'identify', userId: 'mallory4', traits: { email: VICTIM } }] },
      });
      assert.equal(batch.status, 200, batch.text);
      for (const user of ['mallory', 'mallory2', 'mallory3', 'mallory4']) {
        const id = await customerOf(user);
        assert.notEqual(id, victim, `${user} resolves to their own customer, not the victim`);
        const me = await call('GET', '/storefront/me', pub, { member: user });
        assert.ok(me.status === 200 || me.status === 404, me.text);
        if (me.status === 200) assert.equal(me.json().member, null, `${user} sees no balance`);
        const redeem = await call('POST', '/storefront/me/redeem', pub, { member: user, body: { reward: 'ship' } });
        assert.notEqual(redeem.status, 200, redeem.text);
      }
      // mallory's own customer took her phone, not the victim's address.
      const own = await t.store.db
        .selectFrom('customers')
        .select(['email', 'phone'])
        .where('id', '=', (await customerOf('mallory'))!)
        .executeTakeFirstOrThrow();
      assert.deepEqual(own, { email: null, phone: '+447700900999' });
      assert.deepEqual(await victimState(), before);
      const me = await call('GET', '/storefront/me', pub, { member: 'vic' });
      assert.equal(me.json().member.available, 50, 'the victim still has the signup credit');
    });

    test('from a browser: no consent traits, traits only with the signed-in userId, no alias or group', async () => {
      const before = await victimState();
      const consent = await call('POST', '/identify', pub, {
        member: 'mallory',
        body: { userId: 'mallory', traits: { consent: { email: true } } },
      });
      assert.equal(consent.status, 403, consent.text);
      assert.equal(consent.json().error.field, 'traits.consent');
      const accepts = await call('POST', '/batch', pub, {
        member: 'mallory',
        body: { batch: [{ type: 'identify', userId: 'mallory', traits: { accepts_marketing: true } }] },
      });
      assert.equal(accepts.status, 403, accepts.text);
      assert.equal(accepts.json().error.field, 'batch[0].traits.accepts_marketing');
      // Signed in, but the traits ride on the victim's anonymous id: refused.
      const anonymous = await call('POST', '/identify', pub, {
        member: 'mallory',
        body: { anonymousId: 'vic-browser', traits: { phone: '+447700900999' } },
      });
      assert.equal(anonymous.status, 403, anonymous.text);
      assert.equal(anonymous.json().error.field, 'traits');
      for (const type of ['alias', 'group']) {
        const r = await call('POST', '/batch', pub, {
          member: 'mallory',
          body: { batch: [{ type, userId: 'mallory', previousId: 'vic', groupId: 'g1' }] },
        });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json().error.field, 'batch[0].type');
      }
      assert.deepEqual(await victimState(), before);
    });

    test('a member sets their own free address and phone from the browser', async () => {
      const r = await call('POST', '/identify', pub, {
        member: 'mallory',
        body: { userId: 'mallory', traits: { email: 'Mallory@Example.com', phone: '+447700900998' } },
      });
      assert.equal(r.status, 200, r.text);
      const own = await t.store.db
        .selectFrom('customers')
        .select(['email', 'phone'])
        .where('id', '=', (await customerOf('mallory'))!)
        .executeTakeFirstOrThrow();
      assert.deepEqual(own, { email: 'mallory@example.com', phone: '+447700900998' });
    });

    test('the e-mail capture cannot switch a customer’s consent back on, nor tell that the address is known', async () => {
      const before = await victimState();
      const subscribe = (email: string, extra: Record<string, unknown> = {}, member?: string) =>
        call('POST', '/storefront/subscribe', pub, { member, body: { email, consent: true, ...extra } });
      const known = await subscribe(' Victim@Example.com ', { anonymousId: 'attacker-browser', messageId: 'f1' });
      const fresh = await subscribe('fresh@example.com', { anonymousId: 'fresh-browser', messageId: 'f2' });
      assert.equal(known.status, 200, known.text);
      assert.equal(fresh.status, 200, fresh.text);
      assert.equal(known.text, fresh.text, 'the same answer for a known and a new address');
      assert.deepEqual(known.json(), { subscribed: false, pending: true, duplicate: false });
      assert.deepEqual(
        await victimState(),
        before,
        'the withdrawn consent stays withdrawn; only a confirmation is asked',
      );
      for (const table of ['anonymous_ids', 'events'] as const) {
        const rows = await t.store.db
          .selectFrom(table)
          .select('anonymous_id')
          .where('anonymous_id', '=', 'attacker-browser')
          .execute();
        assert.deepEqual(rows, [], `no ${table} row for the attempt`);
      }
      // The new address is a customer without consent until the address confirms (double opt-in).
      const created = await t.store.db
        .selectFrom('customers')
        .select('id')
        .where('email', '=', 'fresh@example.com')
        .executeTakeFirstOrThrow();
      const consents = await t.store.db
        .selectFrom('customer_consents')
        .select(['channel', 'granted', 'source'])
        .where('customer_id', '=', created.id)
        .execute();
      assert.deepEqual(consents, []);
      const asked = await t.store.db
        .withTables<{ storefront_opt_ins: { email: string; customer_id: number; confirmed_at: number | null } }>()
        .selectFrom('storefront_opt_ins')
        .select(['email', 'confirmed_at'])
        .orderBy('email')
        .execute();
      assert.deepEqual(asked, [
        { email: 'fresh@example.com', confirmed_at: null },
        { email: 'victim@example.com', confirmed_at: null },
      ]);
      // A former address of the victim is theirs too: the store's server moves vic to a new address.
      const moved = await call('POST', '/identify', server, {
        body: { userId: 'vic', traits: { email: 'vera@example.com' } },
      });
      assert.equal(moved.status, 200, moved.text);
      const movedState = await victimState();
      const former = await subscribe(VICTIM);
      assert.deepEqual(former.json(), { subscribed: false, pending: true, duplicate: false });
      assert.equal(
        await t.store.db.selectFrom('customers').select('id').where('email', '=', VICTIM).executeTakeFirst(),
        undefined,
      );
      assert.deepEqual(await victimState(), movedState);
      // The victim, signed in by the store, subscribes their own address: confirmed through the e-mail too.
      const own = await subscribe('vera@example.com', { messageId: 'f3' }, 'vic');
      assert.deepEqual(own.json(), { subscribed: false, pending: true, duplicate: false });
      assert.deepEqual(await victimState(), movedState);
    });

    test('the store’s server keeps its authority: a server identify ties a new userId to the e-mail’s owner', async () => {
      const r = await call('POST', '/identify', server, { body: { userId: 'vic-app', traits: { email: VICTIM } } });
      assert.equal(r.status, 200, r.text);
      assert.equal(await customerOf('vic-app'), victim);
    });
  });
}
