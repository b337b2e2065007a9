import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NOW, parseText, rejects } from '../../../test/parse-format.js';
import { ComebackError } from '../../errors.js';
import { cafe24 } from './cafe24.js';
import type { ParsedItem } from './format.js';
import { smartstore } from './smartstore.js';

/** KST is UTC+9 with no daylight saving: a wall-clock time is nine hours after the same digits in UTC. */
const kst = (y: number, m: number, d: number, h: number, min = 0) => Date.UTC(y, m - 1, d, h - 9, min);

function orders(items: ParsedItem[]) {
  return items.flatMap((i) => (i.kind === 'order' ? [i.order] : []));
}

/** Asserts that `run` stops at the header line with exactly `message`. */
async function headerRefused(run: Promise<unknown>, line: number, message: string): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ComebackError, String(error));
    assert.equal(error.kind, 'bad_input');
    assert.equal(error.message, message);
    assert.equal(error.location?.line, line);
    assert.equal(error.location?.field, 'header');
    return true;
  });
}

describe('Cafe24 order rows, value by value', () => {
  test('an order of two lines: stated total, shipping once, a free gift, channel and payment', async () => {
    const items = await parseText(
      cafe24,
      '주문번호,품목별 주문번호,주문일시,주문자ID,주문 상태,주문경로,결제수단,상품명,상품옵션,수량,판매가,품목별 결제금액,총배송비(KRW),총결제금액(KRW)\n' +
        '20250102-0000001,20250102-0000001-01,2025-01-02 10:00:00,kim1,배송완료,PC쇼핑몰,카드,티셔츠,블랙 / L,2,5000,10000,3000,12000\n' +
        '20250102-0000001,20250102-0000001-02,2025-01-02 10:00:00,kim1,배송완료,PC쇼핑몰,카드,사은품,,1,0,0,3000,12000\n' +
        '20250102-0000002,20250102-0000002-01,2025-01-02 11:00:00,kim1,배송완료,PC쇼핑몰,카드,모자,,1,"9,000",8000,0,8000\n',
    );
    assert.deepEqual(rejects(items), []);
    const [first, second] = orders(items);
    // A line's own payment (품목별 결제금액, 8,000) is its total: 1,000 under its price is the line's discount.
    assert.deepEqual(second?.lines, [
      {
        lineNo: 1,
        sku: undefined,
        title: '모자',
        quantity: 1,
        unitPriceMinor: 9000,
        discountMinor: 1000,
        totalMinor: 8000,
        kind: 'product',
      },
    ]);
    assert.deepEqual([second?.subtotalMinor, second?.discountMinor, second?.totalMinor], [9000, 1000, 8000]);
    // The order as stated: lines 10,000 + 0, shipping 3,000 (once, though on both rows), paid 12,000
    // (1,000 of points or an order coupon): the stated total wins over lines + shipping = 13,000, and the
    // order's discount is subtotal + shipping - total = 10,000 + 3,000 - 12,000 = 1,000.
    // A free gift (price 0, paid 0) is a line, not an error.
    assert.deepEqual(first, {
      externalId: '20250102-0000001',
      customer: { externalId: 'kim1', email: undefined, phone: undefined, firstName: undefined },
      email: undefined,
      placedAt: kst(2025, 1, 2, 10),
      placedOffset: 540,
      currency: 'KRW',
      subtotalMinor: 10_000,
      shippingMinor: 3000,
      taxMinor: 0,
      discountMinor: 1000,
      totalMinor: 12_000,
      refundedMinor: 0,
      status: 'paid',
      discountCodes: [],
      country: 'KR',
      cancelledAt: undefined,
      acquisition: { paymentMethod: '카드', channel: 'PC쇼핑몰' },
      lines: [
        {
          lineNo: 1,
          sku: undefined,
          title: '티셔츠 (블랙 / L)',
          quantity: 2,
          unitPriceMinor: 5000,
          discountMinor: 0,
          totalMinor: 10_000,
          kind: 'product',
        },
        {
          lineNo: 2,
          sku: undefined,
          title: '사은품',
          quantity: 1,
          unitPriceMinor: 0,
          discountMinor: 0,
          totalMinor: 0,
          kind: 'product',
        },
      ],
    });
  });

  test('the other names of the columns: 매출경로, 상품판매가, 총결제금액 without (KRW), no line payment', async () => {
    const items = await parseText(
      cafe24,
      '주문번호,주문일시,주문자ID,주문상태,매출경로,상품명,수량,상품판매가,상품별 추가할인금액,총결제금액\n' +
        'B-1,2025-03-04 09:30:00,park2,배송중,모바일웹,양말,3,2000,500,5500\n',
    );
    assert.deepEqual(rejects(items), []);
    const [order] = orders(items);
    // Without 품목별 결제금액 a line pays its price × quantity less its own discount: 6,000 - 500 = 5,500.
    assert.deepEqual(order?.lines, [
      {
        lineNo: 1,
        sku: undefined,
        title: '양말',
        quantity: 3,
        unitPriceMinor: 2000,
        discountMinor: 500,
        totalMinor: 5500,
        kind: 'product',
      },
    ]);
    assert.equal(order?.totalMinor, 5500);
    assert.equal(order?.subtotalMinor, 6000);
    assert.equal(order?.discountMinor, 500);
    assert.equal(order?.shippingMinor, 0);
    assert.equal(order?.placedAt, kst(2025, 3, 4, 9, 30));
    assert.deepEqual(order?.acquisition, { paymentMethod: undefined, channel: '모바일웹' });
  });

  test('a header with no price or no payment column stops at the header line naming what it needs', async () => {
    await headerRefused(
      parseText(cafe24, '※ 안내\n주문번호,주문일시,주문상태,수량,총결제금액(KRW)\nA,2025-01-02,배송완료,1,1000\n'),
      2,
      'missing column: one of "판매가", "상품구매금액(KRW)"',
    );
    await headerRefused(
      parseText(cafe24, '주문번호,주문일시,주문상태,수량,판매가\nA,2025-01-02,배송완료,1,1000\n'),
      1,
      'missing column: one of "총결제금액(KRW)", "품목별 결제금액"',
    );
  });

  test('a negative price or line payment rejects the whole order at the line that has it', async () => {
    const header = '주문번호,품목별 주문번호,주문일시,주문자ID,주문 상태,수량,판매가,품목별 결제금액,총결제금액(KRW)\n';
    const items = await parseText(
      cafe24,
      header +
        'N-1,N-1-01,2025-01-02 10:00:00,kim1,배송완료,1,1000,1000,1000\n' +
        'N-1,N-1-02,2025-01-02 10:00:00,kim1,배송완료,1,-1000,1000,1000\n' +
        'N-2,N-2-01,2025-01-02 11:00:00,kim1,배송완료,1,1000,-500,1000\n' +
        'N-3,N-3-01,2025-01-02 12:00:00,kim1,배송완료,1,1000,1000,1000\n' +
        'N-4,N-4-01,2025-01-02 13:00:00,kim1,배송완료,1,1000,천원,1000\n',
    );
    assert.deepEqual(rejects(items), [
      [3, '품목별 결제금액', 'is negative'],
      [4, '품목별 결제금액', 'is negative'],
      [6, '품목별 결제금액', '"천원" is not an amount in won (write 30000, 30,000 or 30,000원)'],
    ]);
    // The reject carries every row of its order (two of N-1), for the rejects file.
    const [first] = items.filter((i) => i.kind === 'reject');
    assert.equal(first?.kind === 'reject' ? first.rows.length : 0, 2);
    assert.deepEqual(
      orders(items).map((o) => [o.externalId, o.totalMinor]),
      [['N-3', 1000]],
    );
  });
});

describe('Cafe24 refunds, cancellations and members, value by value', () => {
  test('a return refunds its line’s stated amount, a cancellation its payment; called off before payment is cancelled', async () => {
    const items = await parseText(
      cafe24,
      '주문번호,품목별 주문번호,주문일시,결제일시(입금확인일),주문자ID,주문 상태,수량,판매가,품목별 결제금액,실제 환불금액,총결제금액(KRW),사용한 쿠폰명\n' +
        'R-1,R-1-01,2025-01-02 10:00:00,2025-01-02 10:05:00,kim1,반품완료,1,10000,10000,"-9,000",25000,"신규회원 1,000원 할인"\n' +
        'R-1,R-1-02,2025-01-02 10:00:00,2025-01-02 10:05:00,kim1,배송완료,1,15000,15000,,25000,"신규회원 1,000원 할인"\n' +
        'R-2,R-2-01,2025-01-02 12:00:00,,kim1,취소완료,1,3000,3000,,3000,\n' +
        'C-1,C-1-01,2025-01-03 10:00:00,2025-01-03 11:00:00,kim1,입금전 취소 - 관리자,1,5000,5000,,5000,\n' +
        'D-1,D-1-01,2025-01-04 10:00:00,,kim1,배송완료,1,5000,5000,,10000,\n' +
        'D-1,D-1-01,2025-01-04 10:00:00,,kim1,배송완료,1,5000,5000,,10000,\n',
    );
    assert.deepEqual(
      orders(items).map((o) => [o.externalId, o.totalMinor, o.refundedMinor, o.status, o.cancelledAt, o.discountCodes]),
      [
        // 9,000 of the returned 10,000 line came back (its 실제 환불금액, the sign dropped): part of 25,000.
        ['R-1', 25_000, 9000, 'partially_refunded', undefined, ['신규회원 1,000원 할인']],
        // A cancelled line without 실제 환불금액 refunds what it paid: all of the order.
        ['R-2', 3000, 3000, 'refunded', undefined, []],
        // Called off before payment: nothing refunded, cancelled at the 결제일시 column's time.
        ['C-1', 5000, 0, 'cancelled', kst(2025, 1, 3, 11), []],
      ],
    );
    assert.deepEqual(rejects(items), [[7, '품목별 주문번호', 'line 1 of order D-1 appears twice (D-1-01)']]);
  });

  test('members: ids, mobiles, birthdays, consent dated by its own column, else sign-up, else the import', async () => {
    const items = await parseText(
      cafe24,
      '아이디,이름,휴대전화,이메일,생년월일,SMS 수신여부,이메일 수신여부,SMS 수신동의일,회원가입일\n' +
        'kim1,김민수,010-1234-5678,Kim@Example.com,1990-04-17,T,수신거부,2024-05-01 09:00:00,2024-01-02 10:00:00\n' +
        'lee2,,,,0000-00-00,,Y,,\n' +
        ',,,,,,,,\n' +
        'park3,,,not-an-email,,,,,\n' +
        'choi4,,,,,maybe,,,\n',
    );
    const source = 'cafe24-members';
    assert.deepEqual(items.slice(0, 2), [
      {
        kind: 'customer',
        line: 2,
        customer: {
          externalId: 'kim1',
          email: 'kim@example.com',
          phone: '+821012345678',
          firstName: '김민수',
          birthday: '1990-04-17',
          country: 'KR',
          consents: [
            { channel: 'sms', granted: true, at: kst(2024, 5, 1, 9), source },
            { channel: 'email', granted: false, at: kst(2024, 1, 2, 10), source },
          ],
        },
      },
      {
        kind: 'customer',
        line: 3,
        customer: {
          externalId: 'lee2',
          email: undefined,
          phone: undefined,
          firstName: undefined,
          birthday: undefined,
          country: 'KR',
          consents: [{ channel: 'email', granted: true, at: NOW, source }],
        },
      },
    ]);
    assert.deepEqual(rejects(items), [
      [4, '아이디', 'is empty'],
      [5, '이메일', '"not-an-email" is not an e-mail address'],
      [6, 'SMS 수신여부', '"maybe" is neither a yes (T, Y, 수신, 동의) nor a no (F, N, 수신거부, 미동의)'],
    ]);
  });

  test('members under the other column names: 회원아이디, 회원명, 휴대폰, E-mail, 생일, 뉴스메일 수신여부, 가입일', async () => {
    const items = await parseText(
      cafe24,
      '회원아이디,회원명,휴대폰,E-mail,생일,SMS 수신동의,뉴스메일 수신여부,가입일\n' +
        'jung5,정하나,010-9876-5432,jung@example.kr,1985-12-01,수신,수신거부,2023-03-04 08:00:00\n',
    );
    const source = 'cafe24-members';
    // No consent date columns: both consents are dated by the sign-up, 08:00 KST on 2023-03-04.
    assert.deepEqual(items, [
      {
        kind: 'customer',
        line: 2,
        customer: {
          externalId: 'jung5',
          email: 'jung@example.kr',
          phone: '+821098765432',
          firstName: '정하나',
          birthday: '1985-12-01',
          country: 'KR',
          consents: [
            { channel: 'sms', granted: true, at: kst(2023, 3, 4, 8), source },
            { channel: 'email', granted: false, at: kst(2023, 3, 4, 8), source },
          ],
        },
      },
    ]);
  });
});

describe('Korean sheets: notices, the header row, and rows of one order together', () => {
  test('notice rows are headers; an empty order id, an order that comes back and a row too wide are refused alone', async () => {
    const items = await parseText(
      cafe24,
      '※ 안내\n※ 개인정보\n' +
        '주문번호,주문일시,주문상태,수량,판매가,총결제금액(KRW)\n' +
        'A,2025-01-02,배송완료,1,1000,1000\n' +
        ',2025-01-02,배송완료,1,1000,1000\n' +
        'A,2025-01-02,배송완료,1,1000,1000\n' +
        'B,2025-01-02,배송완료,1,2000,2000,,\n' +
        'C,2025-01-02,배송완료,1,1000,1000,x\n',
    );
    assert.deepEqual(
      items.map((i) =>
        i.kind === 'order'
          ? ['order', i.line, i.order.externalId, i.order.totalMinor]
          : i.kind === 'reject'
            ? ['reject', i.line, i.field, i.message]
            : [i.kind, i.line],
      ),
      [
        ['header', 1],
        ['header', 2],
        ['order', 4, 'A', 1000],
        ['reject', 5, '주문번호', 'is empty'],
        [
          'reject',
          6,
          '주문번호',
          'the rows of order A are not together (it began at line 4): sort the sheet by 주문번호',
        ],
        // Empty cells past the header's width are no columns.
        ['order', 7, 'B', 2000],
        ['reject', 8, 'row', 'has 7 columns, the header has 6'],
      ],
    );
  });

  test('no header row: an empty file, or none in the first 30 rows, stops naming what was looked for', async () => {
    const refused = async (text: string, line: number, message: string) =>
      assert.rejects(parseText(cafe24, text), (error: unknown) => {
        assert.ok(error instanceof ComebackError);
        assert.deepEqual([error.message, error.location?.line, error.location?.field], [message, line, 'header']);
        return true;
      });
    await refused('', 1, 'the file is empty');
    await refused(
      // Blank lines are no rows: the first row is line 3.
      `\n\n※ 안내\n${'※\n'.repeat(29)}주문번호,주문일시\n`,
      3,
      'no header row in the first 30 rows (looked for "주문번호" and "주문일시", or "아이디", or "회원아이디")',
    );
    // The 30th row may be the header.
    const items = await parseText(cafe24, `${'※\n'.repeat(29)}아이디\nkim1\n`);
    assert.deepEqual(items.at(-1), {
      kind: 'customer',
      line: 31,
      customer: {
        externalId: 'kim1',
        email: undefined,
        phone: undefined,
        firstName: undefined,
        birthday: undefined,
        country: 'KR',
        consents: [],
      },
    });
    assert.equal(items.length, 30);
  });
});

describe('SmartStore order rows, value by value', () => {
  // A spacer column without a name sits before the buyer's columns (a blank header cell).
  const header =
    '상품주문번호,주문번호,,구매자명,구매자ID,구매자연락처,주문일시,주문상태,주문세부상태,상품명,수량,상품가격,최종 상품별 총 주문금액,배송비 묶음번호,배송비 합계\n';
  const row = (
    item: string,
    order: string,
    status: string,
    detail: string,
    title: string,
    qty: number,
    price: number,
  ) =>
    `${item},${order},,이영희,lee****,010-2345-6789,2025-01-01 12:00:00,${status},${detail},${title},${qty},${price},${qty * price},B-${order},3000\n`;

  test('lines numbered by product order number (shorter first), requested returns still paid, shipping once', async () => {
    const items = await parseText(
      smartstore,
      header +
        row('2025010110003', 'O1', '배송완료', '', '상품C', 1, 3000) +
        row('999', 'O1', '배송완료', '', '상품Z', 1, 1000) +
        row('2025010110001', 'O1', '반품', '반품요청', '상품A', 1, 2000) +
        row('2025010110002', 'O1', '반품', '반품완료', '상품B', 2, 4000) +
        row('2025010110004', 'O1', '반품', '수거완료 환불보류', '상품D', 1, 500),
    );
    assert.deepEqual(rejects(items), []);
    const [order] = orders(items);
    // Product order numbers sort by length, then as text: 999, …001, …002, …003, …004, whatever the
    // sheet's order. Only 상품B's return is complete (반품완료): 8,000 refunded. 반품요청 is a request, and
    // 수거완료 환불보류 (picked up, refund on hold) ends in 보류: both still paid.
    assert.deepEqual(
      order?.lines.map((l) => [l.lineNo, l.title, l.quantity, l.unitPriceMinor, l.totalMinor, l.discountMinor]),
      [
        [1, '상품Z', 1, 1000, 1000, 0],
        [2, '상품A', 1, 2000, 2000, 0],
        [3, '상품B', 2, 4000, 8000, 0],
        [4, '상품C', 1, 3000, 3000, 0],
        [5, '상품D', 1, 500, 500, 0],
      ],
    );
    // Lines 1,000 + 2,000 + 8,000 + 3,000 + 500 = 14,500, shipping 3,000 once for the bundle: 17,500.
    assert.equal(order?.subtotalMinor, 14_500);
    assert.equal(order?.shippingMinor, 3000);
    assert.equal(order?.totalMinor, 17_500);
    assert.equal(order?.refundedMinor, 8000);
    assert.equal(order?.status, 'partially_refunded');
    assert.equal(order?.discountMinor, 0);
    assert.equal(order?.placedAt, kst(2025, 1, 1, 12));
    // The Naver id is masked: the buyer is the mobile number, read past the unnamed column.
    assert.deepEqual(order?.customer, { externalId: '+821023456789', phone: '+821023456789', firstName: '이영희' });
  });

  test('shipping once per bundle, across orders too, less its discount; option prices, SKUs, channel and device', async () => {
    const items = await parseText(
      smartstore,
      '상품주문번호,주문번호,구매자ID,주문일시,주문상태,결제위치,판매채널,결제수단,상품번호,판매자 상품코드,옵션관리코드,상품명,옵션정보,수량,상품가격,옵션가격,최종 상품별 할인액,최종 상품별 총 주문금액,배송비 묶음번호,배송비 합계,배송비 할인액\n' +
        '5001,S1,naver1,2025-02-01 10:00:00,배송완료,MOBILE,스마트스토어,신용카드,P1,SC1,OC1,셔츠,색상: 블랙,2,10000,1000,-2000,20000,BUN1,3000,1000\n' +
        '5002,S2,naver1,2025-02-01 10:00:00,배송완료,,,,P2,SC2,,바지,,1,5000,,,5000,BUN1,3000,1000\n' +
        '5003,S3,naver1,2025-02-01 11:00:00,미결제취소,,,,P3,,,모자,,1,4000,,,4000,BUN3,2500,0\n' +
        '5004,S4,naver1,2025-02-01 12:00:00,배송완료,,,,P4,,,양말,,1,1000,,,1000,BUN4,1000,2000\n' +
        '5001,S5,naver1,2025-02-01 13:00:00,배송완료,,,,P5,,,장갑,,1,1000,,,1000,BUN5,0,0\n' +
        '5006,S6,naver1,2025-02-01 14:00:00,배송완료,,,,P6,,,장갑,,1,1000,,,1000,BUN6,0,0\n',
    );
    assert.deepEqual(rejects(items), [
      [5, '배송비 할인액', 'is more than 배송비 합계'],
      [6, '상품주문번호', '5001 appears twice'],
    ]);
    const [s1, s2, s3, s6] = orders(items);
    // Free shipping (0 less 0) is no error.
    assert.deepEqual([s6?.externalId, s6?.shippingMinor, s6?.totalMinor], ['S6', 0, 1000]);
    // S1: a unit is 10,000 + 1,000 of its option; 2 units less 2,000 (the sign dropped) paid 20,000; the
    // bundle's shipping 3,000 less 1,000 = 2,000. Total 22,000; the order's discount
    // 22,000 + 2,000 - 22,000 = 2,000.
    assert.deepEqual(
      [s1?.subtotalMinor, s1?.shippingMinor, s1?.totalMinor, s1?.discountMinor, s1?.status],
      [22_000, 2000, 22_000, 2000, 'paid'],
    );
    assert.deepEqual(s1?.lines, [
      {
        lineNo: 1,
        sku: 'OC1',
        title: '셔츠 (색상: 블랙)',
        quantity: 2,
        unitPriceMinor: 11_000,
        discountMinor: 2000,
        totalMinor: 20_000,
        kind: 'product',
      },
    ]);
    assert.deepEqual(s1?.acquisition, { paymentMethod: '신용카드', channel: '스마트스토어 / MOBILE' });
    assert.deepEqual(s1?.customer, { externalId: 'naver1', phone: undefined, firstName: undefined });
    // S2 is in S1's bundle: its shipping was taken there. Its SKU is the seller's code (no option code).
    assert.deepEqual([s2?.shippingMinor, s2?.totalMinor, s2?.lines[0]?.sku], [0, 5000, 'SC2']);
    assert.deepEqual(s2?.acquisition, { paymentMethod: undefined, channel: undefined });
    // S3, called off before payment: no total, no shipping, cancelled when placed; SKU the product number.
    assert.deepEqual(
      [s3?.totalMinor, s3?.shippingMinor, s3?.status, s3?.cancelledAt, s3?.lines[0]?.sku],
      [0, 0, 'cancelled', kst(2025, 2, 1, 11), 'P3'],
    );
  });

  test('an order awaiting payment stays pending whatever its detail says', async () => {
    const items = await parseText(smartstore, header + row('3001', 'O2', '결제대기', '입금대기중', '상품E', 1, 7000));
    const [order] = orders(items);
    assert.equal(order?.status, 'pending');
    assert.equal(order?.refundedMinor, 0);
    assert.equal(order?.totalMinor, 10_000);
  });
});
