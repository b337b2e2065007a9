import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import officeCrypto from 'officecrypto-tool';
import { duckOne } from '../../test/duck.js';
import { cliIn, DIALECTS, freshDatabase, type TestDb, tempDir } from '../../test/setup.js';
import { formatsThatFit } from '../cli/input-file.js';
import { ComebackError } from '../errors.js';
import { samplePath } from '../shared/paths.js';
import type { Db } from '../store/index.js';
import { importFile } from './import.js';

const NOW = Date.UTC(2026, 0, 1);
const MEMBERS = samplePath('kr', 'cafe24-members.xlsx');
const CAFE24 = samplePath('kr', 'cafe24-orders.xlsx');
const MOVED = samplePath('kr', 'cafe24-orders-moved.csv');
const SMARTSTORE = samplePath('kr', 'smartstore-orders.xlsx');
const PASSWORD = 'comeback-kr-2025';
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/kr');
const KST_MS = 9 * 3_600_000;

/**
 * The independent path: the workbook read with exceljs's in-memory reader (and decrypted with
 * officecrypto-tool) and written as a CSV for DuckDB, header row found by its first column's name.
 * Date cells are written as their wall-clock text; nothing of Comeback's reading code is used.
 */
async function sheetAsCsv(file: string, out: string, firstHeader: string, password?: string): Promise<string> {
  let buffer: Buffer = readFileSync(file);
  if (password) buffer = await officeCrypto.decrypt(buffer, { password });
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(buffer as unknown as ArrayBuffer);
  const sheet = book.worksheets[0]!;
  const lines: string[] = [];
  let width = 0;
  sheet.eachRow((row) => {
    const values = (row.values as unknown[]).slice(1);
    if (lines.length === 0 && values[0] !== firstHeader) return;
    if (lines.length === 0) width = values.length;
    const cells = Array.from({ length: width }, (_, i) => {
      const v = values[i];
      const text =
        v instanceof Date
          ? v.toISOString().slice(0, 19).replace('T', ' ')
          : v === undefined || v === null
            ? ''
            : String(v);
      return `"${text.replace(/"/g, '""')}"`;
    });
    lines.push(cells.join(','));
  });
  writeFileSync(out, `${lines.join('\n')}\n`);
  return out;
}

/** Everything an import writes, reduced to numbers: a second import must leave it identical. */
async function snapshot(db: Db) {
  const one = async (query: string) =>
    Number((await sql<{ v: number }>`${sql.raw(query)}`.execute(db)).rows[0]?.v ?? 0);
  return {
    customers: await one('select count(*) as v from customers'),
    identities: await one('select count(*) as v from customer_identities'),
    consents: await one('select count(*) as v from customer_consents'),
    granted: await one('select coalesce(sum(granted), 0) as v from customer_consents'),
    consentTimes: await one('select coalesce(sum(updated_at), 0) as v from customer_consents'),
    orders: await one('select count(*) as v from orders'),
    lines: await one('select count(*) as v from order_lines'),
    products: await one('select count(*) as v from products'),
    total: await one('select coalesce(sum(total_minor), 0) as v from orders'),
    refunded: await one('select coalesce(sum(refunded_minor), 0) as v from orders'),
    lineTotal: await one('select coalesce(sum(total_minor), 0) as v from order_lines'),
    paid: await one(`select count(*) as v from orders where status = 'paid'`),
  };
}

async function count(db: Db, query: string): Promise<number> {
  return Number((await sql<{ v: number }>`${sql.raw(query)}`.execute(db)).rows[0]?.v ?? 0);
}

/** Asserts that `run` fails with `FILE:LINE: field: reason` at that place. */
async function refused(run: Promise<unknown>, line: number, field: string, reason: RegExp): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ComebackError, String(error));
    assert.equal(error.kind, 'bad_input');
    assert.equal(error.location?.line, line, error.message);
    assert.equal(error.location?.field, field, error.message);
    assert.match(error.message, reason);
    return true;
  });
}

for (const dialect of DIALECTS) {
  describe(`Korean store imports on ${dialect.name}`, { skip: dialect.skip }, () => {
    let t: TestDb;
    let dir: string;
    before(async () => {
      t = await freshDatabase(dialect.name);
      dir = tempDir();
    });
    after(async () => t?.drop());

    test('Cafe24 members: ids, E.164 mobiles, birthdays and SMS / e-mail consent as the sheet says', async () => {
      const summary = await importFile(t.store.db, MEMBERS, { format: 'cafe24', now: NOW });
      const csv = await sheetAsCsv(MEMBERS, join(dir, 'members.csv'), '아이디');
      const raw = `read_csv('${csv}', all_varchar = true, header = true)`;
      const expected = await duckOne(`
        select count(*) as members,
          count(*) filter (where "생년월일" is not null) as birthdays,
          count(*) filter (where "SMS 수신여부" = 'T') as sms_yes,
          count(*) filter (where "SMS 수신여부" = 'F') as sms_no,
          count(*) filter (where "이메일 수신여부" = 'T') as mail_yes
        from ${raw}`);
      assert.equal(summary.rows, expected.members);
      assert.equal(summary.customersCreated, expected.members);
      const db = t.store.db;
      assert.equal(
        await count(db, 'select count(*) as v from customers where birthday is not null'),
        expected.birthdays,
      );
      assert.equal(
        await count(db, `select count(*) as v from customer_consents where channel = 'sms' and granted = 1`),
        expected.sms_yes,
      );
      assert.equal(
        await count(db, `select count(*) as v from customer_consents where channel = 'sms' and granted = 0`),
        expected.sms_no,
      );
      assert.equal(
        await count(db, `select count(*) as v from customer_consents where channel = 'email' and granted = 1`),
        expected.mail_yes,
      );
      // One member by hand: the sheet's first row.
      const first = await duckOne(`select * from ${raw} limit 1`);
      const row = await db
        .selectFrom('customers')
        .innerJoin('customer_identities', 'customer_identities.customer_id', 'customers.id')
        .select(['phone', 'birthday', 'first_name', 'email', 'address'])
        .where('customer_identities.source', '=', 'cafe24')
        .where('customer_identities.external_id', '=', String(first.아이디))
        .executeTakeFirstOrThrow();
      assert.equal(row.phone, `+82${String(first.휴대전화).replace(/\D/g, '').slice(1)}`);
      assert.equal(row.birthday, first.생년월일);
      assert.equal(row.first_name, first.이름);
      assert.equal(row.email, first.이메일);
      // The member's address is not collected.
      assert.equal(await count(db, 'select count(*) as v from customers where address is not null'), 0);
    });

    test('Cafe24 orders: orders, lines, totals once per order, refunds and statuses match DuckDB over the sheet', async () => {
      const summary = await importFile(t.store.db, CAFE24, { format: 'cafe24', now: NOW });
      const csv = await sheetAsCsv(CAFE24, join(dir, 'cafe24.csv'), '주문번호');
      const raw = `read_csv('${csv}', all_varchar = true, header = true)`;
      const orders = `(select "주문번호" as id,
          any_value(cast("총결제금액(KRW)" as bigint)) as total,
          coalesce(any_value(cast("총 실제 환불금액" as bigint)), 0) as refund,
          bool_and("주문 상태" like '입금전 취소%') as unpaid,
          bool_and("주문 상태" = '입금전' or "주문 상태" like '입금전 취소%') as pending,
          count(distinct "총결제금액(KRW)") as totals_stated,
          min(cast("주문일시" as timestamp)) as placed
        from ${raw} group by 1)`;
      const e = await duckOne(`
        select count(*) as orders, sum(total) as total, sum(refund) filter (where not unpaid) as refunded,
          count(*) filter (where not unpaid and refund > 0) as refunded_count,
          count(*) filter (where unpaid) as cancelled,
          count(*) filter (where pending and not unpaid) as pending,
          count(*) filter (where not pending and refund = 0) as paid,
          count(*) filter (where not pending and refund > 0 and refund < total) as partial,
          count(*) filter (where not pending and refund > 0 and refund >= total) as refunded_orders,
          sum(total - refund) filter (where not pending and refund < total) as sales_net,
          sum(total) filter (where unpaid) as cancelled_net,
          sum(total - refund) filter (where pending and not unpaid) as pending_net,
          max(totals_stated) as totals_stated,
          epoch_ms(min(placed)) as first_placed_wall
        from ${orders}`);
      const lines = await duckOne(`select count(*) as n, sum(cast("품목별 결제금액" as bigint)) as paid from ${raw}`);
      const refundLines = await duckOne(
        `select sum(cast("실제 환불금액" as bigint)) as v from ${raw} where "주문 상태" in ('취소 완료', '반품 완료')`,
      );
      assert.equal(e.totals_stated, 1, 'each order states one total, repeated on its lines');
      assert.equal(summary.orders, e.orders);
      assert.equal(summary.lines, lines.n);
      assert.equal(summary.rows, lines.n);
      const db = t.store.db;
      const source = `from orders where source = 'cafe24'`;
      assert.equal(await count(db, `select sum(total_minor) as v ${source}`), e.total);
      assert.equal(await count(db, `select sum(refunded_minor) as v ${source}`), e.refunded);
      // The per-line refunds of the sheet add up to its order refunds (the file is consistent with itself).
      assert.equal(refundLines.v, e.refunded);
      assert.equal(
        await count(
          db,
          `select sum(l.total_minor) as v from order_lines l join orders o on o.id = l.order_id where o.source = 'cafe24'`,
        ),
        lines.paid,
      );
      assert.equal(await count(db, `select count(*) as v ${source} and status = 'cancelled'`), e.cancelled);
      assert.equal(await count(db, `select count(*) as v ${source} and status = 'pending'`), e.pending);
      assert.equal(await count(db, `select count(*) as v ${source} and status = 'paid'`), e.paid);
      assert.equal(await count(db, `select count(*) as v ${source} and status = 'partially_refunded'`), e.partial);
      assert.equal(await count(db, `select count(*) as v ${source} and status = 'refunded'`), e.refunded_orders);
      assert.equal(
        await count(
          db,
          `select sum(total_minor - refunded_minor) as v ${source} and status in ('paid', 'partially_refunded')`,
        ),
        e.sales_net,
      );
      // The reconciliation names the stored orders that are not sales, so it meets the revenue of `stats`.
      const [krw] = summary.reconciliation;
      const notSale = (status: string) => krw!.notSales.find((n) => n.status === status);
      assert.deepEqual(notSale('cancelled'), { status: 'cancelled', count: e.cancelled, minor: e.cancelled_net });
      assert.deepEqual(notSale('pending'), { status: 'pending', count: e.pending, minor: e.pending_net });
      // Cafe24 states refunds on its orders, not as refund records: the summary says how many and how much.
      assert.equal(summary.refunds, 0);
      assert.deepEqual(krw!.refundedOnOrders, { count: Number(e.refunded_count), minor: Number(e.refunded) });
      assert.equal(
        krw!.storedNetMinor - krw!.notSales.reduce((sum, n) => sum + n.minor, 0),
        e.sales_net,
        'the stored net less what is not a sale is the sales net',
      );
      // KST wall-clock time: the instant is nine hours before the same digits read as UTC.
      assert.equal(await count(db, `select min(placed_at) as v ${source}`), Number(e.first_placed_wall) - KST_MS);
      assert.equal(await count(db, `select count(*) as v ${source} and placed_offset <> 540`), 0);
      // Buyers: the member id, else the mobile number; members were imported first, so they are the same people.
      const buyers = await duckOne(`
        select count(distinct coalesce("주문자ID", '+82' || substr(regexp_replace("주문자 휴대전화", '\\D', '', 'g'), 2))) as n,
          count(distinct "주문자ID") as members from ${raw}`);
      assert.equal(
        await count(db, `select count(distinct customer_id) as v ${source} and customer_id is not null`),
        buyers.n,
      );
      assert.equal(summary.customersCreated, Number(buyers.n) - Number(buyers.members));
      assert.equal(await count(db, `select count(*) as v ${source} and customer_id is null`), 0);
      // Delivery-only columns are never stored: no recipient phone or address anywhere.
      const recipients = await duckOne(
        `select list(distinct '+82' || substr(regexp_replace("수령인 휴대전화", '\\D', '', 'g'), 2)) as phones from ${raw}`,
      );
      const phones = recipients.phones as unknown as string[];
      const stored = await db.selectFrom('customers').select('phone').execute();
      assert.equal(stored.filter((s) => s.phone && phones.includes(s.phone)).length, 0);
      assert.equal(
        await count(db, 'select count(*) as v from customers where address is not null or postcode is not null'),
        0,
      );
    });

    test('Cafe24 with moved and re-spaced columns, 30,000원 amounts and dotted dates (CSV, UTF-8 BOM)', async () => {
      const summary = await importFile(t.store.db, MOVED, { format: 'cafe24', now: NOW });
      const raw = `read_csv('${MOVED}', all_varchar = true, header = true)`;
      const won = (col: string) => `cast(replace(replace("${col}", ',', ''), '원', '') as bigint)`;
      const e = await duckOne(`
        select count(*) as orders, sum(total) as total, sum(refund) as refunded, epoch_ms(min(placed)) as first_wall
        from (select "주문 번호", any_value(${won('총 결제금액(KRW)')}) as total,
            case when bool_and("주문상태" like '입금전 취소%') then 0 else coalesce(any_value(${won('총실제환불금액')}), 0) end as refund,
            min(strptime("주문 일시", '%Y.%m.%d %H:%M')) as placed
          from ${raw} group by 1)`);
      const lines = await duckOne(`select count(*) as n, sum(${won('품목별결제금액')}) as paid from ${raw}`);
      assert.equal(summary.orders, e.orders);
      assert.equal(summary.lines, lines.n);
      const ids = await duckOne(`select string_agg(distinct "주문 번호", ',') as ids from ${raw}`);
      const inFile = String(ids.ids).split(',');
      const db = t.store.db;
      const mine = db.selectFrom('orders').where('source', '=', 'cafe24').where('external_id', 'in', inFile);
      const stored = await mine
        .select((eb) => [
          eb.fn.sum<number>('total_minor').as('total'),
          eb.fn.sum<number>('refunded_minor').as('refunded'),
          eb.fn.min<number>('placed_at').as('first'),
        ])
        .executeTakeFirstOrThrow();
      assert.equal(Number(stored.total), e.total);
      assert.equal(Number(stored.refunded), e.refunded);
      assert.equal(Number(stored.first), Number(e.first_wall) - KST_MS);
      const lineSum = await db
        .selectFrom('order_lines')
        .innerJoin('orders', 'orders.id', 'order_lines.order_id')
        .where('orders.source', '=', 'cafe24')
        .where('orders.external_id', 'in', inFile)
        .select((eb) => eb.fn.sum<number>('order_lines.total_minor').as('v'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(lineSum.v), lines.paid);
    });

    test('SmartStore, encrypted: refused without the password and with a wrong one, nothing stored', async () => {
      const before = await snapshot(t.store.db);
      await refused(
        importFile(t.store.db, SMARTSTORE, { format: 'smartstore', now: NOW }),
        1,
        'password',
        /password-protected: pass --password or set COMEBACK_XLSX_PASSWORD/,
      );
      await refused(
        importFile(t.store.db, SMARTSTORE, { format: 'smartstore', now: NOW, password: 'not-the-password' }),
        1,
        'password',
        /the password does not open the workbook/,
      );
      assert.deepEqual(await snapshot(t.store.db), before);
    });

    test('SmartStore with the password: lines, orders, shipping once per bundle, refunds, buyers match DuckDB', async () => {
      const summary = await importFile(t.store.db, SMARTSTORE, { format: 'smartstore', now: NOW, password: PASSWORD });
      const csv = await sheetAsCsv(SMARTSTORE, join(dir, 'smartstore.csv'), '상품주문번호', PASSWORD);
      const raw = `read_csv('${csv}', all_varchar = true, header = true)`;
      const e = await duckOne(`
        with r as (select *, "주문상태" = '미결제취소' as unpaid,
            "주문상태" in ('취소', '반품') and "주문세부상태" in ('취소완료', '반품완료') as refund
          from ${raw}),
        ship as (select "배송비 묶음번호", any_value(unpaid) as unpaid,
            any_value(cast("배송비 합계" as bigint) - cast("배송비 할인액" as bigint)) as fee from r group by 1)
        select (select count(*) from r) as lines,
          (select count(distinct "주문번호") from r) as orders,
          (select sum(cast("최종 상품별 총 주문금액" as bigint)) from r where not unpaid)
            + (select sum(fee) from ship where not unpaid) as total,
          (select sum(fee) from ship where not unpaid) as shipping,
          (select sum(cast("최종 상품별 총 주문금액" as bigint)) from r where refund) as refunded,
          (select count(distinct coalesce(case when "구매자ID" like '%*%' then null else "구매자ID" end,
              '+82' || substr(regexp_replace("구매자연락처", '\\D', '', 'g'), 2))) from r) as buyers,
          (select epoch_ms(min(cast("주문일시" as timestamp))) from r) as first_wall`);
      assert.equal(summary.lines, e.lines);
      assert.equal(summary.rows, e.lines, 'the notice rows and the header are not rows');
      assert.equal(summary.orders, e.orders);
      const db = t.store.db;
      const source = `from orders where source = 'smartstore'`;
      assert.equal(await count(db, `select sum(total_minor) as v ${source}`), e.total);
      assert.equal(await count(db, `select sum(shipping_minor) as v ${source}`), e.shipping);
      assert.equal(await count(db, `select sum(refunded_minor) as v ${source}`), e.refunded);
      assert.equal(await count(db, `select count(distinct customer_id) as v ${source}`), e.buyers);
      assert.equal(await count(db, `select min(placed_at) as v ${source}`), Number(e.first_wall) - KST_MS);
      // A masked Naver id is no identity.
      assert.equal(await count(db, `select count(*) as v from customer_identities where external_id like '%*%'`), 0);
      assert.equal(await count(db, `select count(*) as v from customers where address is not null`), 0);
    });

    test('re-importing every sample changes nothing', async () => {
      const db = t.store.db;
      const before = await snapshot(db);
      assert.ok(before.orders > 300);
      await importFile(db, MEMBERS, { format: 'cafe24', now: NOW + 86_400_000 });
      await importFile(db, CAFE24, { format: 'cafe24', now: NOW + 86_400_000 });
      await importFile(db, MOVED, { format: 'cafe24', now: NOW + 86_400_000 });
      const again = await importFile(db, SMARTSTORE, {
        format: 'smartstore',
        now: NOW + 86_400_000,
        password: PASSWORD,
      });
      assert.equal(again.customersCreated, 0);
      assert.deepEqual(
        again.reconciliation.map((r) => r.unexplainedMinor),
        [0],
      );
      assert.deepEqual(await snapshot(db), before);
    });

    test('malformed files are refused with FILE:LINE: field: reason and nothing is stored', async () => {
      const db = t.store.db;
      const before = await snapshot(db);
      await refused(
        importFile(db, join(FIXTURES, 'cafe24-bad-amount.csv'), { format: 'cafe24', now: NOW }),
        5,
        '총결제금액(KRW)',
        /"3만원" is not an amount in won/,
      );
      await refused(
        importFile(db, join(FIXTURES, 'cafe24-unknown-status.xlsx'), { format: 'cafe24', now: NOW }),
        4,
        '주문 상태',
        /"배송 분실" is not a Cafe24 order status/,
      );
      const header =
        '주문번호,품목별 주문번호,주문일시,주문자ID,주문 상태,수량,판매가,품목별 결제금액,총결제금액(KRW)\n';
      const cases: Array<[string, string, number, string, RegExp]> = [
        [
          'disagree.csv',
          `${header}A-1,A-1-01,2025-01-02 10:00:00,kim1,배송 완료,1,"10,000","10,000","13,000원"\nA-1,A-1-02,2025-01-02 10:00:00,kim1,배송 완료,1,"5,000","5,000","18,000원"\n`,
          3,
          '총결제금액(KRW)',
          /18000 differs from 13000 on line 2/,
        ],
        [
          'apart.csv',
          `${header}A-1,A-1-01,2025-01-02 10:00:00,kim1,배송 완료,1,10000,10000,13000\nA-2,A-2-01,2025-01-03 10:00:00,kim1,배송 완료,1,10000,10000,13000\nA-1,A-1-02,2025-01-02 10:00:00,kim1,배송 완료,1,10000,10000,13000\n`,
          4,
          '주문번호',
          /rows of order A-1 are not together \(it began at line 2\)/,
        ],
        [
          'fraction.csv',
          `${header}A-1,A-1-01,2025-01-02 10:00:00,kim1,배송 완료,1,10000.5,10000,13000\n`,
          2,
          '판매가',
          /"10000.5" is not a whole number of won/,
        ],
        [
          'date.csv',
          `${header}A-1,A-1-01,2025-02-30 10:00:00,kim1,배송 완료,1,10000,10000,13000\n`,
          2,
          '주문일시',
          /"2025-02-30 10:00:00" is not a date/,
        ],
        [
          'refund.csv',
          `${header.replace('\n', ',총 실제 환불금액\n')}A-1,A-1-01,2025-01-02 10:00:00,kim1,취소 완료,1,10000,10000,13000,14000\n`,
          2,
          '실제 환불금액',
          /refunds of 14000 won are more than the order's payment of 13000/,
        ],
        ['notices.csv', `${'※ 안내\n'.repeat(31)}${header}`, 1, 'header', /no header row in the first 30 rows/],
      ];
      for (const [name, text, line, field, reason] of cases) {
        const file = join(dir, name);
        writeFileSync(file, text);
        await refused(importFile(db, file, { format: 'cafe24', now: NOW }), line, field, reason);
      }
      assert.deepEqual(await snapshot(db), before);
    });
  });
}

describe('Korean exports without a database', () => {
  test('a header below notice rows, KST serial dates, 30,000원 and a CP949 CSV', async () => {
    const t = await freshDatabase('sqlite');
    try {
      const dir = tempDir();
      // Two notice rows, then a SmartStore header with its words spaced otherwise; an Excel serial date.
      const file = join(dir, 'serial.csv');
      // 45658.5 is 2025-01-01 12:00 wall-clock (45658 days after 1899-12-30).
      writeFileSync(
        file,
        '※ 주문 내역\n※ 개인정보 주의\n상품 주문번호,주문 번호,구매자ID,구매자 연락처,주문 일시,주문 상태,수량,상품 가격,최종 상품별 총 주문금액\n' +
          '1001,O-1,lee****,010-2345-6789,45658.5,배송완료,2,"15,000원","30,000원"\n',
      );
      const summary = await importFile(t.store.db, file, { format: 'smartstore', now: NOW });
      assert.equal(summary.rows, 1);
      const order = await t.store.db.selectFrom('orders').selectAll().executeTakeFirstOrThrow();
      assert.equal(order.placed_at, Date.UTC(2025, 0, 1, 12) - KST_MS);
      assert.equal(order.placed_date, '2025-01-01');
      assert.equal(order.total_minor, 30_000);
      assert.equal(order.currency, 'KRW');
      const identity = await t.store.db.selectFrom('customer_identities').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([identity.source, identity.external_id], ['smartstore', '+821023456789']);

      // CP949 (EUC-KR), as Korean Excel saves "CSV": detected and decoded.
      const cp949 = join(FIXTURES, 'smartstore-cp949.csv');
      const text = iconv.decode(readFileSync(cp949), 'cp949');
      assert.ok(text.includes('구매자명'), 'the fixture is CP949');
      // Rows start 상품주문번호,주문번호,"택배,등기,소포",구매자명,…
      const names = [...text.matchAll(/\n\d+,\d+,"[^"]*",([^,]+),/g)].map((m) => m[1]);
      const kr = await importFile(t.store.db, cp949, { format: 'smartstore', now: NOW });
      assert.equal(kr.rows, names.length);
      const stored = await t.store.db
        .selectFrom('customers')
        .select('first_name')
        .where('source', '=', 'smartstore')
        .execute();
      const decoded = stored.filter((r) => r.first_name !== null && names.includes(r.first_name));
      assert.ok(decoded.length >= 1, 'Korean names decoded from CP949');
      assert.equal(
        decoded.length,
        stored.length - 1,
        "every SmartStore customer but the first file's has a name of the CP949 file",
      );
    } finally {
      await t.drop();
    }
  });

  test('the header sniffer tells a Cafe24 sheet, a member sheet and an encrypted SmartStore sheet apart', async () => {
    assert.deepEqual(await formatsThatFit(CAFE24), ['cafe24']);
    assert.deepEqual(await formatsThatFit(MEMBERS), ['cafe24']);
    assert.deepEqual(await formatsThatFit(MOVED), ['cafe24']);
    assert.deepEqual(await formatsThatFit(SMARTSTORE, { password: PASSWORD }), ['smartstore']);
    assert.deepEqual(await formatsThatFit(SMARTSTORE), []);
  });

  test('the command line reads COMEBACK_XLSX_PASSWORD; without it the error names the file, line and field', () => {
    const dir = tempDir();
    const cli = cliIn(dir, 'kr.db');
    const without = cli('import', SMARTSTORE, '--format', 'smartstore');
    assert.equal(without.code, 1);
    assert.equal(
      without.err.trim(),
      `comeback: ${SMARTSTORE}:1: password: the workbook is password-protected: pass --password or set COMEBACK_XLSX_PASSWORD`,
    );
    process.env.COMEBACK_XLSX_PASSWORD = PASSWORD;
    try {
      const withEnv = cli('import', SMARTSTORE, '--format', 'smartstore', '--json');
      assert.equal(withEnv.code, 0, withEnv.err);
      const [summary] = JSON.parse(withEnv.out) as Array<{ orders: number; format: string }>;
      assert.equal(summary?.format, 'smartstore');
      assert.ok((summary?.orders ?? 0) > 100);
      const wrong = cli('import', SMARTSTORE, '--format', 'smartstore', '--password', 'wrong-one');
      assert.equal(wrong.code, 1);
      assert.match(wrong.err, /smartstore-orders\.xlsx:1: password: the password does not open the workbook/);
    } finally {
      delete process.env.COMEBACK_XLSX_PASSWORD;
    }
  });

  test('comeback demo --store kr loads the four Korean samples into a Korean store', async () => {
    const dir = tempDir();
    const cli = cliIn(dir, 'unused.db');
    const bad = cli('demo', '--store', 'jp', '--no-serve', '--file', join(dir, 'x.db'));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--store jp: use retail or kr/);
    const run = cli('demo', '--store', 'kr', '--no-serve', '--file', join(dir, 'kr.db'));
    assert.equal(run.code, 0, run.err);
    // The generator writes 160 + 40 Cafe24 orders and 120 SmartStore orders (scripts/kr-samples.ts).
    assert.match(run.out, /^Loaded 320 orders /);
    // Without the server the demo's store is the same: fitted and segmented.
    assert.match(run.err, /^Segmented \d+ customers \(RFM, personas, lifecycle\)\.$/m);
    // It says how to point later commands at its file, and that works as printed.
    const file = join(dir, 'kr.db');
    assert.ok(run.out.includes(`add --db sqlite:${file} (or export COMEBACK_DB=sqlite:${file})`), run.out);
    const stats = cli('stats', '--db', `sqlite:${file}`);
    assert.equal(stats.code, 0, stats.err);
    const { openStore } = await import('../store/index.js');
    const store = await openStore(`sqlite:${join(dir, 'kr.db')}`);
    try {
      const db = store.db;
      assert.equal(await count(db, 'select count(*) as v from orders'), 320);
      assert.equal(
        await count(db, `select count(*) as v from orders where currency <> 'KRW' or placed_offset <> 540`),
        0,
      );
      assert.equal(
        (await count(db, `select count(*) as v from customers where source = 'cafe24' and birthday is not null`)) > 0,
        true,
      );
      const settings = await sql<{
        value: string;
      }>`select value from messaging_settings where name = 'messaging'`.execute(db);
      assert.equal(JSON.parse(settings.rows[0]!.value).timeZone, 'Asia/Seoul');
    } finally {
      await store.close();
    }
  });
});
