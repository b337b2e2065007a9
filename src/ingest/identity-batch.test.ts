import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { DIALECTS, freshDatabase, tempDir } from '../../test/setup.js';
import { type Db, dialectOf } from '../store/index.js';
import { changeEmail } from './identity.js';
import { type ImportOptions, importFile } from './index.js';

const NOW = Date.UTC(2026, 0, 1);

/** Every table, every column, every id, rows sorted: two stores compare equal only if they are. */
async function everything(db: Db): Promise<Record<string, string[]>> {
  const tables =
    dialectOf(db) === 'postgres'
      ? await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master
          where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
  const out: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    if (name.startsWith('kysely_migration')) continue;
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    out[name] = rows.rows.map((row) => JSON.stringify(row)).sort();
  }
  return out;
}

// State before the batch: customers by id only, by e-mail only, by both, and one whose e-mail moved.
const FIRST = `order_id,placed_at,customer_id,email,phone,first_name,last_name,country,currency,total
p1,2025-01-01 10:00:00,C1,,,Ann,,GB,GBP,10.00
p2,2025-01-02 10:00:00,,old@x.test,,,,,GBP,11.00
p3,2025-01-03 10:00:00,C3,c3@x.test,,,,,GBP,12.00
p4,2025-01-04 10:00:00,,moved@x.test,,,,,GBP,13.00
p5,2025-01-05 10:00:00,C5,,,,,,GBP,14.00
`;

// One batch in which every precedence rule of identity.ts and the import's key cache meets another.
const SECOND = `order_id,placed_at,customer_id,email,phone,first_name,last_name,country,currency,total
s01,2025-02-01 10:00:00,C1,a-mail@x.test,07700900001,Zoe,Smith,,GBP,1.00
s02,2025-02-01 11:00:00,C1,other@x.test,,Zed,,,GBP,2.00
s03,2025-02-01 12:00:00,,other@x.test,,,,,GBP,3.00
s04,2025-02-02 10:00:00,N1,n1@x.test,,Bob,,United Kingdom,GBP,4.00
s05,2025-02-02 11:00:00,N1,n1@x.test,,Rob,Jones,,GBP,5.00
s06,2025-02-02 12:00:00,N2,n1@x.test,,,,,GBP,6.00
s07,2025-02-03 10:00:00,N3,c3@x.test,,Cy,,FR,GBP,7.00
s08,2025-02-03 11:00:00,,moved@x.test,,Dee,,,GBP,8.00
s09,2025-02-03 12:00:00,C5,old@x.test,,Eve,,,GBP,9.00
s10,2025-02-04 10:00:00,N4,,,Cat,,,GBP,10.00
s11,2025-02-04 11:00:00,N5,n5@x.test,,,,,GBP,11.00
s12,2025-02-04 12:00:00,N4,n5@x.test,,,,,GBP,12.00
s13,2025-02-04 13:00:00,,n5@x.test,,,,,GBP,13.00
s14,2025-02-05 10:00:00,N6,c3@x.test,,,,,GBP,14.00
s15,2025-02-05 11:00:00,C3,newc3@x.test,,Cyd,Cee,,GBP,15.00
s16,2025-02-05 12:00:00,,a-mail@x.test,,,,,GBP,16.00
s17,2025-02-06 10:00:00,C5,e5@x.test,,,,,GBP,17.00
s18,2025-02-06 11:00:00,,e5@x.test,,,,,GBP,18.00
s19,2025-02-06 12:00:00,N7,Upper@X.test,,,,,GBP,19.00
s20,2025-02-07 10:00:00,N8,old@x.test,,,,,GBP,20.00
s21,2025-02-07 11:00:00,,not-an-email,,,,,GBP,21.00
s22,2025-01-15 10:00:00,N1,,,,,,GBP,22.00
`;

// Shopify's customers export: consents stated at the import's now, so a later row of a tie wins.
const CUSTOMERS = `Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Accepts SMS Marketing,Phone,Total Orders
'901,Dee,,n1@x.test,yes,no,,1
'902,,,dup@x.test,yes,,,0
'902,Dia,,dup@x.test,no,yes,,0
'903,,,dup@x.test,,no,,0
'904,,,,yes,,,0
`;

const SHOPIFY_HEADER =
  'Name,Email,Financial Status,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Billing Name,Billing Country,Refunded Amount,Vendor,Id';
// Orders of one shopper out of date order, each stating consent at its own date: the newest wins.
const ORDERS = `${SHOPIFY_HEADER}
#o1,m@x.test,paid,yes,GBP,5.00,0.00,0.00,5.00,,0.00,2025-03-05 10:00:00 +0000,1,P,5.00,SKU-1,0.00,Mo Ray,GB,0.00,V,o1
#o2,m@x.test,paid,no,GBP,5.00,0.00,0.00,5.00,,0.00,2025-03-01 10:00:00 +0000,1,P,5.00,SKU-1,0.00,Mo Ray,GB,0.00,V,o2
#o3,m@x.test,paid,no,GBP,5.00,0.00,0.00,5.00,,0.00,2025-03-05 10:00:00 +0000,1,P,5.00,SKU-1,0.00,,,0.00,V,o3
#o4,dup@x.test,paid,yes,GBP,5.00,0.00,0.00,5.00,,0.00,2024-12-01 10:00:00 +0000,1,P,5.00,SKU-1,0.00,Di Up,FR,0.00,V,o4
#o5,n5@x.test,paid,yes,GBP,5.00,0.00,0.00,5.00,,0.00,2026-06-01 10:00:00 +0000,1,P,5.00,SKU-1,0.00,,,0.00,V,o5
`;

describe('set-based identity resolution', () => {
  for (const dialect of DIALECTS) {
    it(`${dialect.name}: one batch resolves every record as one by one would (every table, every id)`, {
      skip: dialect.skip,
    }, async () => {
      const dir = tempDir();
      const files = { first: FIRST, second: SECOND, customers: CUSTOMERS, orders: ORDERS };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.csv`), text);
      const rows = await freshDatabase(dialect.name);
      const sets = await freshDatabase(dialect.name);
      try {
        const run = async (db: Db, copy: boolean) => {
          const summaries = [];
          const go = (name: string, options: Omit<ImportOptions, 'now' | 'copy'>) =>
            importFile(db, join(dir, `${name}.csv`), { ...options, now: NOW, copy });
          summaries.push(await go('first', { format: 'csv' }));
          const moved = await db.selectFrom('customers').select('id').where('email', '=', 'moved@x.test').execute();
          const changed = await changeEmail(db, Number(moved[0]!.id), 'new-d@x.test', { mergeable: async () => false });
          assert.equal(changed.kind, 'changed');
          summaries.push(await go('second', { format: 'csv', batchSize: 1000 }));
          summaries.push(await go('customers', { format: 'shopify', batchSize: 1000 }));
          summaries.push(await go('orders', { format: 'shopify', batchSize: 1000 }));
          // Again, in batches of two: records resolved by an earlier batch of the same import.
          summaries.push(await go('second', { format: 'csv', batchSize: 2 }));
          summaries.push(await go('orders', { format: 'shopify', batchSize: 2 }));
          return summaries.map((s) => ({ ...s, file: '' }));
        };
        const a = await run(rows.store.db, false);
        const b = await run(sets.store.db, true);
        assert.deepEqual(b, a, 'the same summaries');
        const expected = await everything(rows.store.db);
        assert.deepEqual(await everything(sets.store.db), expected);

        // By hand from the rules of identity.ts and the cache, a few of the outcomes both paths share.
        const db = sets.store.db;
        const customer = async (email: string) =>
          db.selectFrom('customers').selectAll().where('email', '=', email).executeTakeFirst();
        const owner = async (externalId: string) =>
          (
            await db
              .selectFrom('customer_identities')
              .select('customer_id')
              .where('source', 'in', ['csv', 'shopify'])
              .where('external_id', '=', externalId)
              .executeTakeFirst()
          )?.customer_id;
        // 5 before; N1, N4, N5, N7 new in the batch; 902 and 904 from the customers export (903 is 902's
        // by e-mail), m@ from the orders.
        assert.equal(expected.customers!.length, 12);
        assert.equal(a[1]!.customersCreated, 4);
        const ann = (await customer('a-mail@x.test'))!;
        assert.deepEqual(
          [ann.first_name, ann.last_name, ann.phone, ann.country],
          ['Ann', 'Smith', '07700900001', 'GB'],
        );
        assert.equal(Number(await owner('C1')), Number(ann.id));
        assert.equal(await customer('other@x.test'), undefined, 'other@ was only ever a cache hit');
        const bob = (await customer('n1@x.test'))!;
        assert.deepEqual([bob.first_name, bob.last_name, bob.country], ['Bob', null, 'GB']);
        assert.equal(await owner('N2'), undefined, 'N2 came with a known e-mail: not claimed');
        assert.equal(Number(await owner('901')), Number(bob.id));
        const cee = (await customer('c3@x.test'))!;
        assert.deepEqual([cee.first_name, cee.last_name, cee.country], ['Cy', 'Cee', 'FR']);
        assert.equal(Number(await owner('N3')), Number(cee.id));
        assert.equal(await owner('N6'), undefined);
        assert.equal((await customer('new-d@x.test'))!.first_name, 'Dee', 'found by its former e-mail');
        const eve = await db
          .selectFrom('customers')
          .selectAll()
          .where('id', '=', Number(await owner('C5')))
          .executeTakeFirstOrThrow();
        assert.deepEqual([eve.email, eve.first_name], [null, 'Eve'], 'old@ is taken, e5@ only a cache hit');
        assert.equal(await owner('N8'), undefined, "old@ was already E's key in the cache");
        const cat = (await customer('n5@x.test'))!;
        assert.equal(cat.first_name, null, 'n5@ is N5, not N4 (Cat)');
        assert.equal(Number(await owner('N5')), Number(cat.id));
        assert.notEqual(Number(await owner('N4')), Number(cat.id));
        const consents = async (email: string) =>
          (
            await db
              .selectFrom('customer_consents as k')
              .innerJoin('customers as c', 'c.id', 'k.customer_id')
              .select(['k.channel', 'k.granted', 'k.updated_at'])
              .where('c.email', '=', email)
              .orderBy('k.channel')
              .execute()
          ).map((k) => [k.channel, Number(k.granted), Number(k.updated_at)]);
        // 902 e-mail yes then no, sms yes, then 903 sms no, all at now (a tie: the later row wins); o4 is older.
        assert.deepEqual(await consents('dup@x.test'), [
          ['email', 0, NOW],
          ['sms', 0, NOW],
        ]);
        // o1 yes and o3 no on 03-05 (the later row wins the tie), o2 no on 03-01.
        assert.deepEqual(await consents('m@x.test'), [['email', 0, Date.UTC(2025, 2, 5, 10)]]);
        assert.equal(Number(bob.first_seen_at), Date.UTC(2025, 0, 15, 10), 's22 is older than s04');
      } finally {
        await rows.drop();
        await sets.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  for (const dialect of DIALECTS) {
    it(`${dialect.name}: two imports meeting the same new shoppers at once make one customer each, no error`, {
      skip: dialect.skip,
    }, async () => {
      // Same shoppers, same order in both files (as two exports of one store would list them); on
      // PostgreSQL the second import's batches find the first's customers committed after their look-up.
      const dir = tempDir();
      const t = await freshDatabase(dialect.name);
      try {
        const header = 'order_id,placed_at,customer_id,email,currency,total';
        const file = (prefix: string) => {
          const lines = Array.from({ length: 300 }, (_, i) => {
            const day = String(1 + (i % 28)).padStart(2, '0');
            return `${prefix}${i},2025-04-${day} 10:00:00,K${i % 150},shopper${i}@x.test,GBP,1.00`;
          });
          const path = join(dir, `${prefix}.csv`);
          writeFileSync(path, `${header}\n${lines.join('\n')}\n`);
          return path;
        };
        const [a, b] = [file('a'), file('b')];
        const options = { format: 'csv', now: NOW, batchSize: 25 } as const;
        const [x, y] = await Promise.all([importFile(t.store.db, a, options), importFile(t.store.db, b, options)]);
        assert.equal(x.orders + y.orders, 600);
        const db = t.store.db;
        const customers = await db.selectFrom('customers').select(['id', 'email']).execute();
        // K0…K149 claim shopper0…149 first; shopper150…299 come with a known id: 150 customers in all.
        assert.equal(customers.length, 150);
        assert.equal(x.customersCreated + y.customersCreated, 150);
        const identities = await db.selectFrom('customer_identities').select('customer_id').execute();
        assert.equal(identities.length, 150);
        const orders = await db.selectFrom('orders').select(['customer_id']).where('customer_id', 'is', null).execute();
        assert.equal(orders.length, 0);
      } finally {
        await t.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
