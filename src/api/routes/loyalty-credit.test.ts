import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { creditProgramConfig } from '../../../test/credit-fixtures.js';
import { addCustomer } from '../../../test/loyalty-fixtures.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../../test/setup.js';
import { auditLedger, enrolMember, saveProgram } from '../../loyalty/index.js';
import type { ApiApp } from '../app.types.js';
import { buildApp } from '../build-app.js';
import { createApiKey } from '../keys.queries.js';

const NOW = Date.UTC(2026, 2, 1, 12);

for (const dialect of DIALECTS) {
  describe(`store credit over the API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let app: ApiApp;
    let read = '';
    let write = '';
    let member = 0;
    const call = (method: 'GET' | 'POST', url: string, key: string | null, payload?: unknown) =>
      app.inject({
        method,
        url: `/api/v1${url}`,
        headers: key === null ? {} : { authorization: `Bearer ${key}` },
        payload: payload as object,
      });

    before(async () => {
      t = await freshDatabase(dialect.name);
      const db = t.store.db;
      read = (await createApiKey(db, { scope: 'read', name: 'support', now: NOW })).key;
      write = (await createApiKey(db, { scope: 'write', name: 'helpdesk', now: NOW })).key;
      const program = await saveProgram(db, creditProgramConfig(), { now: NOW - 86_400_000 });
      member = await addCustomer(db, { email: 'credit@example.com' });
      assert.ok((await enrolMember(db, program, { customerId: member, now: NOW - 3_600_000 })).ok);
      app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
    });
    after(async () => {
      await app?.close();
      await t?.drop();
    });

    test('staff credit a member with a write key; the read key sees balance, code and who did it', async () => {
      const adjust = `/loyalty/members/${member}/credit/adjust`;
      const body = { amountMinor: 750, reason: 'late delivery', idempotencyKey: 'ticket-42' };
      assert.equal((await call('POST', adjust, null, body)).statusCode, 401);
      assert.equal((await call('POST', adjust, read, body)).statusCode, 403);
      const first = await call('POST', adjust, write, body);
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(first.json(), {
        customerId: member,
        currency: 'GBP',
        amountMinor: 750,
        balanceMinor: 750,
        applied: true,
      });
      const retry = await call('POST', adjust, write, body);
      assert.deepEqual([retry.statusCode, retry.json().applied, retry.json().balanceMinor], [200, false, 750]);
      const down = await call('POST', adjust, write, { amountMinor: -250, reason: 'correction' });
      assert.equal(down.statusCode, 200, down.body);

      assert.equal((await call('GET', `/loyalty/members/${member}/credit`, null)).statusCode, 401);
      const credit = await call('GET', `/loyalty/members/${member}/credit`, read);
      assert.equal(credit.statusCode, 200, credit.body);
      const status = credit.json();
      assert.equal(status.accounts.length, 1);
      assert.deepEqual([status.accounts[0].currency, status.accounts[0].balanceMinor], ['GBP', 500]);
      assert.match(status.accounts[0].code, /^CR-[2-9A-HJKMNP-Z]{12}$/);
      assert.deepEqual(
        status.entries.map((e: { amountMinor: number; reason: string; actor: string }) => [
          e.amountMinor,
          e.reason,
          e.actor,
        ]),
        [
          [-250, 'correction', 'key:helpdesk'],
          [750, 'late delivery', 'key:helpdesk'],
        ],
      );
      // The member's status carries the same balance and code for the storefront and hosted page.
      const memberStatus = (await call('GET', `/loyalty/members/${member}`, read)).json();
      // The member's status carries the spendable balance and the code (the due expiry is in the credit view).
      const { dueExpiryMinor, ...spendable } = status.accounts[0];
      assert.equal(dueExpiryMinor, 0);
      assert.deepEqual(memberStatus.credit, spendable);
      assert.deepEqual((await auditLedger(t.store.db)).problems, []);
    });

    test('bad input answers 4xx naming the field, never 500; nothing is written', async () => {
      const adjust = `/loyalty/members/${member}/credit/adjust`;
      const before = (await call('GET', `/loyalty/members/${member}/credit`, read)).json();
      const cases: Array<[unknown, number, string]> = [
        [{ amountMinor: 0, reason: 'x' }, 400, 'amountMinor'],
        [{ amountMinor: 1.5, reason: 'x' }, 400, 'amountMinor'],
        [{ amountMinor: '5.00', reason: 'x' }, 400, 'amountMinor'],
        [{ amountMinor: 1e13, reason: 'x' }, 400, 'amountMinor'],
        [{ amountMinor: -501, reason: 'too much' }, 400, 'amountMinor'],
        [{ reason: 'x' }, 400, 'amountMinor'],
        [{ amountMinor: 100 }, 400, 'reason'],
        [{ amountMinor: 100, reason: '   ' }, 400, 'reason'],
        [{ amountMinor: 100, reason: 'x', currency: 'ZZZ' }, 400, 'currency'],
        [{ amountMinor: 100, reason: 'x', currency: 'dollars' }, 400, 'currency'],
        [{ amountMinor: 100, reason: 'x', asOf: 'yesterday' }, 400, 'asOf'],
        [{ amountMinor: 999, reason: 'late delivery', idempotencyKey: 'ticket-42' }, 409, ''],
      ];
      for (const [payload, status, field] of cases) {
        const response = await call('POST', adjust, write, payload);
        assert.equal(response.statusCode, status, `${JSON.stringify(payload)}: ${response.body}`);
        if (field) assert.equal(response.json().error.field, field, JSON.stringify(payload));
      }
      const stranger = await addCustomer(t.store.db);
      const notMember = await call('POST', `/loyalty/members/${stranger}/credit/adjust`, write, {
        amountMinor: 100,
        reason: 'x',
      });
      assert.equal(notMember.statusCode, 404, notMember.body);
      assert.equal((await call('GET', `/loyalty/members/${stranger}/credit`, read)).statusCode, 404);
      assert.equal((await call('GET', `/loyalty/members/${member}/credit?entries=-1`, read)).statusCode, 400);
      assert.deepEqual((await call('GET', `/loyalty/members/${member}/credit`, read)).json(), before);
    });
  });
}
