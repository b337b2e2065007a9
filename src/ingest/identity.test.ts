import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { addCustomer } from '../../test/segments-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { mergeCustomers } from './identity.js';

const NOW = Date.UTC(2026, 0, 15, 12);

for (const dialect of DIALECTS) {
  describe(`mergeCustomers on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(async () => t?.drop());

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
  });
}
