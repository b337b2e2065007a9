import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { hasIdentity, mergeCustomers } from './identity.js';

const NOW = Date.UTC(2026, 0, 15, 12);

for (const dialect of DIALECTS) {
  describe(`mergeCustomers and hasIdentity on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

    test('a merge moves identities, anonymous ids and groups, keeps the newer consent, fills gaps, keeps the earlier first sight', async () => {
      const db = t.store.db;
      const from = await addCustomer(db, {
        email: 'from@example.com',
        phone: '+15550100',
        firstName: 'Fran',
        lastName: 'From',
        birthday: '1990-01-02',
        firstSeenAt: NOW - 1000,
        createdAt: NOW,
      });
      const into = await addCustomer(db, {
        email: 'into@example.com',
        lastName: 'Into',
        firstSeenAt: NOW,
        createdAt: NOW,
      });
      await db
        .insertInto('customer_identities')
        .values({ source: 'api', external_id: 'u-from', customer_id: from })
        .execute();
      await db
        .insertInto('anonymous_ids')
        .values({ anonymous_id: 'anon-from', customer_id: from, linked_at: NOW })
        .execute();
      await db
        .insertInto('customer_consents')
        .values([
          // from's e-mail consent is newer than into's: it wins; its SMS consent is older: into's stays.
          { customer_id: from, channel: 'email', granted: 0, updated_at: NOW + 10, source: 'from-src' },
          { customer_id: from, channel: 'sms', granted: 1, updated_at: NOW - 10, source: 'from-src' },
          { customer_id: into, channel: 'email', granted: 1, updated_at: NOW, source: 'into-src' },
          { customer_id: into, channel: 'sms', granted: 0, updated_at: NOW, source: 'into-src' },
        ])
        .execute();
      await db
        .insertInto('customer_groups')
        .values([
          { customer_id: from, group_id: 'g-both', traits: '{"from":1}', updated_at: NOW },
          { customer_id: from, group_id: 'g-from', traits: '{}', updated_at: NOW },
          { customer_id: into, group_id: 'g-both', traits: '{"into":1}', updated_at: NOW },
        ])
        .execute();
      assert.deepEqual(await mergeCustomers(db, from, into), { ok: true });
      assert.equal((await db.selectFrom('customers').select('id').where('id', '=', from).execute()).length, 0);
      const kept = await db
        .selectFrom('customers')
        .select(['email', 'phone', 'first_name', 'last_name', 'birthday', 'first_seen_at'])
        .where('id', '=', into)
        .executeTakeFirstOrThrow();
      // into's own e-mail and last name stay; what it lacked comes from `from`; first seen is the earlier.
      assert.deepEqual(
        { ...kept, first_seen_at: Number(kept.first_seen_at) },
        {
          email: 'into@example.com',
          phone: '+15550100',
          first_name: 'Fran',
          last_name: 'Into',
          birthday: '1990-01-02',
          first_seen_at: NOW - 1000,
        },
      );
      const identities = await db
        .selectFrom('customer_identities')
        .select(['source', 'external_id'])
        .where('customer_id', '=', into)
        .where('external_id', 'in', ['u-from', 'from@example.com'])
        .orderBy('external_id')
        .execute();
      assert.deepEqual(
        identities.map((i) => [i.source, i.external_id]),
        [
          ['email', 'from@example.com'],
          ['api', 'u-from'],
        ],
      );
      const anon = await db
        .selectFrom('anonymous_ids')
        .select('customer_id')
        .where('anonymous_id', '=', 'anon-from')
        .executeTakeFirstOrThrow();
      assert.equal(Number(anon.customer_id), into);
      const consents = await db
        .selectFrom('customer_consents')
        .select(['channel', 'granted', 'updated_at', 'source'])
        .where('customer_id', '=', into)
        .orderBy('channel')
        .execute();
      assert.deepEqual(
        consents.map((c) => [c.channel, Number(c.granted), Number(c.updated_at), c.source]),
        [
          ['email', 0, NOW + 10, 'from-src'],
          ['sms', 0, NOW, 'into-src'],
        ],
      );
      const groups = await db
        .selectFrom('customer_groups')
        .select(['group_id', 'traits'])
        .where('customer_id', '=', into)
        .orderBy('group_id')
        .execute();
      // A group both were in keeps into's traits.
      assert.deepEqual(
        groups.map((g) => [g.group_id, g.traits]),
        [
          ['g-both', '{"into":1}'],
          ['g-from', '{}'],
        ],
      );
      // Merging a customer into itself, or one that is gone, is nothing to do.
      assert.deepEqual(await mergeCustomers(db, into, into), { ok: true });
      assert.deepEqual(await mergeCustomers(db, from, into), { ok: true });
    });

    test('a loyalty member is never merged away: refused with the reason, both customers kept', async () => {
      const db = t.store.db;
      const customer = (email: string) => addCustomer(db, { email, firstSeenAt: NOW, createdAt: NOW });
      const member = await customer('member@example.com');
      const other = await customer('other@example.com');
      await sql`insert into loyalty_members (customer_id, enrolled_at, balance, pending, settled_at, lifetime_earned,
        gross_earned, tier, tier_since, tier_review_at, referral_code, last_activity_at)
        values (${member}, ${NOW}, 0, 0, ${NOW}, 0, 0, 'base', ${NOW}, ${NOW}, 'MERGE001', ${NOW})`.execute(db);
      assert.deepEqual(await mergeCustomers(db, member, other), {
        ok: false,
        reason: `customer ${member} is a loyalty member; merge them by hand`,
      });
      const left = await db.selectFrom('customers').select('id').where('id', 'in', [member, other]).execute();
      assert.equal(left.length, 2);
      // The other way round is allowed: the member stays, the other customer is merged into it.
      assert.deepEqual(await mergeCustomers(db, other, member), { ok: true });
    });

    test('hasIdentity: whether the customer holds an identity of that source, not another’s or another source', async () => {
      const db = t.store.db;
      const customer = (email: string) => addCustomer(db, { email, firstSeenAt: NOW, createdAt: NOW });
      const holder = await customer('holder@example.com');
      const bystander = await customer('bystander@example.com');
      await db
        .insertInto('customer_identities')
        .values({ source: 'shopify', external_id: 'sh-holder', customer_id: holder })
        .execute();
      assert.equal(await hasIdentity(db, holder, 'shopify'), true);
      assert.equal(await hasIdentity(db, holder, 'api'), false);
      assert.equal(await hasIdentity(db, bystander, 'shopify'), false);
    });
  });
}
