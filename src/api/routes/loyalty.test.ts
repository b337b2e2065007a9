import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addCustomer, addOrder, testProgramConfig } from '../../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import type { LoyaltyTables } from '../../loyalty/index.js';
import { adjust, auditLedger, enrolMember, loadProgram, saveProgram } from '../../loyalty/index.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const NOW = Date.UTC(2026, 2, 1, 12);

for (const dialect of DIALECTS) {
  describe(`loyalty over the API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let read = '';
    let write = '';
    let customerId = 0;
    const call = (method: 'GET' | 'POST', url: string, key: string, payload?: unknown) =>
      app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${key}` },
        payload: payload as object,
      });

    before(async () => {
      t = await freshDatabase(dialect.name);
      read = (await createApiKey(t.store.db, { scope: 'read', name: 'support', now: NOW })).key;
      write = (await createApiKey(t.store.db, { scope: 'write', name: 'site', now: NOW })).key;
      const customer = await t.store.db
        .insertInto('customers')
        .values({ source: 'api', email: 'member@example.com', first_seen_at: NOW, created_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow();
      customerId = Number(customer.id);
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('without a program the endpoints say how to start one', async () => {
      const response = await call('GET', '/loyalty', read);
      assert.equal(response.statusCode, 404);
      assert.match(response.json().error.message, /loyalty init/);
    });

    test('a member earns for an action once per key, redeems in one step, and cannot overdraw', async () => {
      const program = await saveProgram(t.store.db, testProgramConfig(), { now: NOW });
      const enrolled = await enrolMember(t.store.db, program, { customerId, now: NOW });
      assert.ok(enrolled.ok);
      assert.equal(
        (await call('POST', `/loyalty/members/${customerId}/earn`, read, { action: 'review' })).statusCode,
        403,
      );
      const bad = await call('POST', `/loyalty/members/${customerId}/earn`, write, { action: 'dance' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.field, 'action');
      for (let i = 0; i < 2; i++) {
        const earned = await call('POST', `/loyalty/members/${customerId}/earn`, write, {
          action: 'custom:contest',
          idempotencyKey: 'contest-entry-1',
        });
        assert.equal(earned.statusCode, 200, earned.body);
      }
      for (const ref of ['r1', 'r2']) {
        const earned = await call('POST', `/loyalty/members/${customerId}/earn`, write, {
          action: 'review',
          reference: ref,
        });
        assert.equal(earned.statusCode, 200, earned.body);
      }
      const status = await call('GET', `/loyalty/members/${customerId}`, read);
      assert.equal(status.statusCode, 200);
      const before = status.json();
      assert.equal(before.available, 50 + 30 + 20 + 20, 'signup on enrolment, the contest once, two reviews');
      const redeemed = await call('POST', `/loyalty/members/${customerId}/redeem`, write, { reward: 'five-off' });
      assert.equal(redeemed.statusCode, 200, redeemed.body);
      assert.match(JSON.stringify(redeemed.json()), /"code":"[A-Z0-9-]{6,}"/);
      const after = (await call('GET', `/loyalty/members/${customerId}`, read)).json();
      assert.equal(after.available, before.available - 100);
      const tooDear = await call('POST', `/loyalty/members/${customerId}/redeem`, write, { reward: 'five-off' });
      assert.equal(tooDear.statusCode, 422, tooDear.body);
      assert.equal(tooDear.json().error.code, 'insufficient_points');
      assert.equal((await call('GET', `/loyalty/members/${customerId}`, read)).json().available, after.available);
      const unknown = await call('POST', `/loyalty/members/${customerId}/redeem`, write, { reward: 'yacht' });
      assert.equal(unknown.statusCode, 404);
      const report = await call('GET', '/loyalty', read);
      assert.equal(report.statusCode, 200, report.body);
      assert.equal(report.json().members, 1);
      const missing = await call('GET', '/loyalty/members/999999', read);
      assert.equal(missing.statusCode, 404);
      assert.match(
        missing.json().error.message,
        /a number here is Comeback's id; name the store's customer as source:id/,
      );
      // The store's own id, as source:id, names the same member (and so does the e-mail, or #id).
      await t.store.db
        .insertInto('customer_identities')
        .values({ source: 'shop', external_id: 'C-1001', customer_id: customerId })
        .execute();
      for (const ref of ['shop:C-1001', 'C-1001', 'member@example.com', `%23${customerId}`]) {
        const named = await call('GET', `/loyalty/members/${ref}`, read);
        assert.equal(named.statusCode, 200, `${ref}: ${named.body}`);
        assert.equal(named.json().customerId, customerId);
        assert.equal(named.json().storeId, 'C-1001');
      }
      assert.equal((await call('GET', '/loyalty/members/shop:nobody', read)).statusCode, 404);
      const credit = await call('POST', '/loyalty/members/shop:C-1001/credit/adjust', write, {
        amountMinor: 100,
        reason: 'by store id',
      });
      assert.equal(credit.statusCode, 200, credit.body);
      assert.equal(
        (await call('GET', '/loyalty/members/shop:C-1001/credit', read)).json().accounts[0].balanceMinor,
        100,
      );
      // The entries are booked at NOW: a status as of the day before would hold them as its own.
      const early = await call('GET', `/loyalty/members/${customerId}?asOf=2025-12-31`, read);
      assert.equal(early.statusCode, 400, early.body);
      assert.equal(early.json().error.field, 'asOf');
      assert.match(
        early.json().error.message,
        /^asOf: 2025-12-31 is before the member's ledger, booked up to \d{4}-\d{2}-\d{2} \(syncs, redemptions, reviews\); read the member as of that day or later$/,
      );
      const onTheDay = await call(
        'GET',
        `/loyalty/members/${customerId}?asOf=${new Date(NOW).toISOString().slice(0, 10)}`,
        read,
      );
      assert.equal(onTheDay.statusCode, 200, onTheDay.body);
    });

    test('a redemption key: same request, same code; another reward or customer, 409; an earn entry key still debits', async () => {
      const program = await loadProgram(t.store.db);
      const other = await addCustomer(t.store.db);
      assert.ok((await enrolMember(t.store.db, program, { customerId: other, now: NOW })).ok);
      for (const id of [customerId, other]) {
        const credited = await adjust(t.store.db, program, { customerId: id, points: 500, reason: 'test', now: NOW });
        assert.ok(credited.ok);
      }
      const balance = async (id: number) => (await call('GET', `/loyalty/members/${id}`, read)).json().available;
      const start = await balance(customerId);
      const redeem = (id: number, reward: string, idempotencyKey: string) =>
        call('POST', `/loyalty/members/${id}/redeem`, write, { reward, idempotencyKey });
      const first = await redeem(customerId, 'ship', 'api-k');
      assert.equal(first.statusCode, 200, first.body);
      const again = await redeem(customerId, 'ship', 'api-k');
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().code, first.json().code);
      assert.equal(again.json().created, false);
      const otherReward = await redeem(customerId, 'ten-percent', 'api-k');
      assert.equal(otherReward.statusCode, 409, otherReward.body);
      assert.equal(otherReward.json().error.code, 'conflict');
      const otherCustomer = await redeem(other, 'ship', 'api-k');
      assert.equal(otherCustomer.statusCode, 409, otherCustomer.body);
      assert.ok(!otherCustomer.body.includes(first.json().code), "never another customer's code");
      assert.equal(await balance(customerId), start - 60, 'one debit for the three calls with the key');
      assert.equal(await balance(other), 550, '50 for signing up and 500 by hand, untouched');
      // The key of this member's sign-up entry, as a redemption key: the debit is posted all the same.
      const signupKey = await redeem(customerId, 'ship', `rule:signup:${customerId}`);
      assert.equal(signupKey.statusCode, 200, signupKey.body);
      assert.equal(await balance(customerId), start - 120);
      assert.deepEqual((await auditLedger(t.store.db)).problems, []);
    });

    test("reads default to the store's latest data; a write far past it needs asOf (409)", async () => {
      await addOrder(t.store.db, { customerId, placedAt: Date.UTC(2025, 5, 1, 10), subtotalMinor: 1_000 });
      const report = await call('GET', '/loyalty', read);
      assert.equal(report.statusCode, 200, report.body);
      assert.ok(report.json().asOf >= Date.UTC(2025, 5, 1, 10) && report.json().asOf <= Date.UTC(2025, 5, 3));
      // The member's ledger runs to 2026 (the entries above, booked at NOW): read as of its latest entry, as
      // `loyalty member` and the customer's pages read it, not as of 2025-06-02 with 2026 points in it.
      const member = await call('GET', `/loyalty/members/${customerId}`, read);
      assert.equal(member.statusCode, 200, member.body);
      assert.ok(member.json().asOf >= NOW, `read forward to the ledger, not ${member.json().asOf}`);
      const onLedgerDay = await call('GET', `/loyalty/members/${customerId}?asOf=2026-03-01`, read);
      assert.equal(onLedgerDay.statusCode, 200, onLedgerDay.body);
      assert.equal(member.json().available, onLedgerDay.json().available);
      assert.deepEqual(member.json().tier, onLedgerDay.json().tier);
      // A member whose ledger ends with the store's data: a write now, far past both, needs a date.
      const quiet = await addCustomer(t.store.db);
      const program = await loadProgram(t.store.db);
      assert.ok((await enrolMember(t.store.db, program, { customerId: quiet, now: Date.UTC(2025, 5, 1, 12) })).ok);
      const stale = await call('POST', `/loyalty/members/${quiet}/redeem`, write, { reward: 'ship' });
      assert.equal(stale.statusCode, 409, stale.body);
      assert.equal(stale.json().error.field, 'asOf');
      assert.match(stale.json().error.message, /data ends on 2025-06-0[12]/);
      const earn = await call('POST', `/loyalty/members/${quiet}/earn`, write, {
        action: 'review',
        reference: 'x',
      });
      assert.equal(earn.statusCode, 409, earn.body);
      // One whose ledger is already booked to now (its live entries, or a sync as of today) may be
      // written now, as the CLI writes it at its latest entry: nothing is settled against a new clock.
      const live = await call('POST', `/loyalty/members/${customerId}/earn`, write, {
        action: 'share',
        reference: 'booked to now',
      });
      assert.equal(live.statusCode, 200, live.body);
      // A day typed as asOf is that day, at its last millisecond, not the next day's midnight.
      const typed = await call('POST', `/loyalty/members/${quiet}/earn`, write, {
        action: 'review',
        reference: 'typed day',
        asOf: '2025-06-02',
      });
      assert.equal(typed.statusCode, 200, typed.body);
      const booked = await t.store.db
        .withTables<LoyaltyTables>()
        .selectFrom('loyalty_ledger')
        .select('occurred_at')
        .where('customer_id', '=', quiet)
        .where('kind', '=', 'earn')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.equal(Number(booked.occurred_at), Date.UTC(2025, 5, 3) - 1);
      // Read as of the store's data, long before today: the answer says what the member's own pages show now.
      const shown = (await call('GET', `/loyalty/members/${quiet}`, read)).json();
      assert.equal(shown.asOf, Date.UTC(2025, 5, 3) - 1, 'as of the typed earn, the latest entry');
      assert.deepEqual(shown.today, {
        asOf: NOW,
        available: shown.available,
        availableValueMinor: shown.availableValueMinor,
        tier: 'blue',
      });
      assert.equal(
        (await call('GET', `/loyalty/members/${customerId}`, read)).json().today,
        undefined,
        'read as of today already',
      );
      const explicit = await call('POST', `/loyalty/members/${customerId}/redeem`, write, {
        reward: 'ship',
        asOf: '2026-03-01T12:00:00Z',
      });
      assert.equal(explicit.statusCode, 200, explicit.body);
      assert.equal(explicit.json().issuedAt, NOW);
      const ahead = await call('POST', `/loyalty/members/${customerId}/redeem`, write, {
        reward: 'ship',
        asOf: '2026-03-02',
      });
      assert.equal(ahead.statusCode, 400, ahead.body);
      assert.equal(ahead.json().error.field, 'asOf');
      assert.match(ahead.json().error.message, /^asOf: 2026-03-02 is after today \(2026-03-01\)/);
      const badDate = await call('POST', `/loyalty/members/${customerId}/redeem`, write, {
        reward: 'ship',
        asOf: 'soon',
      });
      assert.equal(badDate.statusCode, 400);
      assert.equal(badDate.json().error.field, 'asOf');
    });
  });
}
