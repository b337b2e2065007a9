import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropWhenClosed } from '../../test/pg-drop.js';
import { DIALECTS, freshDatabase, type TestDb } from '../../test/setup.js';
import { engagement } from './engagement.queries.js';

const at = (iso: string) => Date.parse(`${iso}Z`);
const JANUARY = { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 1, 1) };

for (const dialect of DIALECTS) {
  describe(`engagement from events on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    before(async () => {
      t = await freshDatabase(dialect.name);
    });
    after(() => dropWhenClosed(t));

    test('no events: no engagement figures', async () => {
      assert.equal(await engagement(t.store.db, JANUARY), null);
    });

    test('unique opens and clicks per delivered e-mail, visits per customer per month', async () => {
      const db = t.store.db;
      const ids: number[] = [];
      for (const email of ['one@x.test', 'two@x.test']) {
        const row = await db
          .insertInto('customers')
          .values({ source: 'test', email, first_seen_at: 0, created_at: 0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        ids.push(Number(row.id));
      }
      const [one, two] = ids;
      let n = 0;
      const add = async (
        type: string,
        event: string | null,
        customer: number | null,
        when: string,
        extra: { emailId?: string; session?: string } = {},
      ) => {
        n += 1;
        await db
          .insertInto('events')
          .values({
            message_id: `m${n}`,
            type,
            event,
            customer_id: customer,
            anonymous_id: customer === null ? 'anon-1' : null,
            session_id: extra.session ?? null,
            properties: JSON.stringify(extra.emailId ? { email_id: extra.emailId } : {}),
            occurred_at: at(when),
            received_at: at(when),
          })
          .execute();
      };
      // Customer one gets e-mails e1 and e2, opens e1 twice and clicks it; customer two gets e1 and opens it.
      await add('track', 'Email Delivered', one!, '2024-01-02T08:00:00', { emailId: 'e1' });
      await add('track', 'Email Delivered', one!, '2024-01-10T08:00:00', { emailId: 'e2' });
      await add('track', 'Email Opened', one!, '2024-01-02T09:00:00', { emailId: 'e1' });
      await add('track', 'Email Opened', one!, '2024-01-03T09:00:00', { emailId: 'e1' });
      await add('track', 'Email Link Clicked', one!, '2024-01-03T09:01:00', { emailId: 'e1' });
      await add('track', 'Email Delivered', two!, '2024-01-02T08:00:00', { emailId: 'e1' });
      await add('track', 'Email Opened', two!, '2024-01-05T20:00:00', { emailId: 'e1' });
      // Visits: customer one in sessions s1 (two pages) and s2; customer two without sessions on two days.
      await add('page', 'Home', one!, '2024-01-02T10:00:00', { session: 's1' });
      await add('page', 'Product', one!, '2024-01-02T10:05:00', { session: 's1' });
      await add('page', 'Home', one!, '2024-01-15T10:00:00', { session: 's2' });
      await add('page', 'Home', two!, '2024-01-20T10:00:00');
      await add('page', 'Cart', two!, '2024-01-20T11:00:00');
      await add('screen', 'Home', two!, '2024-01-21T11:00:00');
      // Not counted: an anonymous visitor, and an open in February.
      await add('page', 'Home', null, '2024-01-20T10:00:00', { session: 's9' });
      await add('track', 'Email Opened', two!, '2024-02-05T20:00:00', { emailId: 'e1' });

      const e = await engagement(db, JANUARY);
      assert.ok(e);
      assert.equal(e.emailsDelivered, 3);
      assert.equal(e.emailsOpened, 2);
      assert.equal(e.emailsClicked, 1);
      assert.equal(e.emailOpenRate, 2 / 3);
      assert.equal(e.emailClickRate, 1 / 3);
      assert.equal(e.visits, 4);
      assert.equal(e.visitors, 2);
      assert.equal(e.visitsPerCustomerPerMonth, 4 / 2 / (31 / (365.25 / 12)));
    });
  });
}
