import { type KoreanLineStatus, koreanLineStatus, koreanOrderStatus } from '../order-status.js';
import type { ConsentInput, CustomerInput, LineInput } from '../records.js';
import { normaliseEmail } from '../records.js';
import type { SourceRow } from '../source.js';
import { cell, FieldError, type Format, integer, type ParseContext, type ParsedItem, toReject } from './format.js';
import {
  atLine,
  fit,
  KRW,
  type KrHeader,
  KST,
  krDate,
  krMobile,
  krTimestamp,
  lineTitle,
  onceAcrossRows,
  optionalKrTimestamp,
  orderRowGroups,
  platformId,
  readKoreanSheet,
  won,
} from './korean.js';

/** Marks of the order spreadsheet's header row and of the member download's. */
const ORDER_MARKS = ['주문번호', '주문일시'] as const;
const MEMBER_MARKS = ['아이디'] as const;
const MEMBER_MARKS_ALT = ['회원아이디'] as const;

/**
 * Cafe24's order spreadsheet (주문 엑셀 다운로드, columns chosen by the admin in 다운로드 양식관리: one
 * row per line item, order amounts repeated on each line) and member download (회원 다운로드: member id,
 * birthday, SMS and e-mail consent). Both are .xlsx or .csv; which one is told by the header row, found
 * below any notice rows. Amounts are KRW, times KST unless `--tz` says otherwise. The buyer is the
 * member id (주문자ID), else the mobile number in E.164. Recipient, address and resident-number columns
 * are never read.
 */
export const cafe24: Format = {
  name: 'cafe24',
  layout: 'csv',
  description: 'Cafe24 order spreadsheet (one row per line item) or member download (.xlsx or .csv)',
  timeZone: KST,
  encoding: 'utf8-or-cp949',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    yield* readKoreanSheet(rows, ctx, [
      { marks: ORDER_MARKS, read: parseOrders },
      { marks: MEMBER_MARKS, read: parseMembers },
      { marks: MEMBER_MARKS_ALT, read: parseMembers },
    ]);
  },
};

async function* parseOrders(header: KrHeader, rows: AsyncIterable<SourceRow>, ctx: ParseContext) {
  const c = {
    order: header.require('주문번호'),
    item: header.find('품목별 주문번호'),
    orderedAt: header.require('주문일시'),
    paidAt: header.find('결제일시(입금확인일)', '결제일시', '입금확인일'),
    name: header.find('주문자명', '주문자 이름'),
    memberId: header.find('주문자ID', '주문자 아이디', '회원아이디'),
    mobile: header.find('주문자 휴대전화', '주문자 휴대폰', '주문자 휴대폰번호', '주문자 연락처'),
    email: header.find('주문자 이메일', '주문자 E-mail'),
    channel: header.find('주문경로', '매출경로'),
    payment: header.find('결제수단'),
    status: header.require('주문 상태', '주문상태', '주문상태코드'),
    sku: header.find('상품품목코드', '상품자체코드', '상품코드', '상품번호'),
    title: header.find('주문상품명', '상품명(한국어 쇼핑몰)', '상품명'),
    option: header.find('상품옵션', '옵션'),
    quantity: header.require('수량'),
    price: header.find('판매가', '상품판매가'),
    gross: header.find('상품구매금액(KRW)', '상품구매금액'),
    lineDiscount: header.find('상품별 추가할인금액', '상품별추가할인금액(KRW)'),
    linePaid: header.find('품목별 결제금액', '품목별 결제금액(KRW)'),
    subtotal: header.find('총 상품구매금액(KRW)', '총 상품구매금액'),
    shipping: header.find('총배송비(KRW)', '총 배송비(KRW)', '총배송비', '총 배송비'),
    total: header.find('총결제금액(KRW)', '총 결제금액(KRW)', '총결제금액', '총 결제금액'),
    lineRefund: header.find('실제 환불금액', '실제환불금액(KRW)'),
    orderRefund: header.find('총 실제 환불금액', '총 실제환불금액(KRW)'),
    coupon: header.find('사용한 쿠폰명', '쿠폰명'),
  };
  if (c.price === undefined && c.gross === undefined) header.requireOne('판매가', '상품구매금액(KRW)');
  if (c.total === undefined && c.linePaid === undefined) header.requireOne('총결제금액(KRW)', '품목별 결제금액');

  function build(orderId: string, all: SourceRow[]): ParsedItem {
    const head = all[0]!;
    const f = head.fields;
    const placed = krTimestamp(cell(f, c.orderedAt), '주문일시', ctx.timeZone);
    const lineNos = new Set<number>();
    const states: KoreanLineStatus[] = [];
    let refundFromLines = 0;
    const lines: LineInput[] = all.map((row, i) =>
      atLine(row.line, () => {
        const r = row.fields;
        const statusText = cell(r, c.status);
        const state = koreanLineStatus(statusText);
        if (!state) throw new FieldError('주문 상태', `"${statusText}" is not a Cafe24 order status`);
        states.push(state);
        const quantity = integer(cell(r, c.quantity), '수량');
        if (quantity <= 0) throw new FieldError('수량', `${quantity} is not a positive quantity`);
        const gross = c.gross !== undefined ? won(cell(r, c.gross), '상품구매금액(KRW)') : undefined;
        const price = c.price !== undefined ? won(cell(r, c.price), '판매가') : Math.round(gross! / quantity);
        const grossMinor = gross ?? price * quantity;
        const paidText = cell(r, c.linePaid);
        const discount = won(cell(r, c.lineDiscount), '상품별 추가할인금액', 0);
        const total = paidText !== '' ? won(paidText, '품목별 결제금액') : grossMinor - discount;
        if (price < 0 || total < 0) throw new FieldError('품목별 결제금액', 'is negative');
        const itemId = cell(r, c.item);
        const suffix = /-(\d{1,4})$/.exec(itemId);
        const lineNo = suffix ? Number(suffix[1]) : i + 1;
        if (lineNos.has(lineNo)) {
          throw new FieldError(
            '품목별 주문번호',
            `line ${lineNo} of order ${orderId} appears twice (${itemId || 'no id'})`,
          );
        }
        lineNos.add(lineNo);
        if (state === 'refunded') {
          const refundText = cell(r, c.lineRefund);
          refundFromLines += refundText !== '' ? Math.abs(won(refundText, '실제 환불금액')) : total;
        }
        return {
          lineNo,
          sku: cell(r, c.sku) || undefined,
          title: lineTitle(cell(r, c.title), cell(r, c.option)),
          quantity,
          unitPriceMinor: price,
          discountMinor: grossMinor - total,
          totalMinor: total,
          kind: 'product',
        };
      }),
    );
    lines.sort((a, b) => a.lineNo - b.lineNo);
    const shipping = onceAcrossRows(all, c.shipping, '총배송비(KRW)');
    const stated = onceAcrossRows(all, c.total, '총결제금액(KRW)');
    const subtotalStated = onceAcrossRows(all, c.subtotal, '총 상품구매금액(KRW)');
    const orderRefund = onceAcrossRows(all, c.orderRefund, '총 실제 환불금액');
    const shippingMinor = shipping.present ? shipping.value : 0;
    // Lines called off before payment are not in what was paid.
    const payable = lines.filter((_, i) => states[i] !== 'unpaid_cancel');
    const total = stated.present ? stated.value : payable.reduce((s, l) => s + l.totalMinor, 0) + shippingMinor;
    if (total < 0) throw new FieldError('총결제금액(KRW)', 'is negative');
    const subtotal = subtotalStated.present
      ? subtotalStated.value
      : lines.reduce((s, l) => s + l.unitPriceMinor * l.quantity, 0);
    // The order's own refund total when the sheet has it, else the refunded lines' (their refund, else their payment).
    let refunded = orderRefund.present ? Math.abs(orderRefund.value) : refundFromLines;
    if (states.every((s) => s === 'unpaid_cancel')) refunded = 0;
    if (refunded > total) {
      throw new FieldError('실제 환불금액', `refunds of ${refunded} won are more than the order's payment of ${total}`);
    }
    const status = koreanOrderStatus(states, refunded, total);
    const memberId = platformId(cell(f, c.memberId));
    const mobile = krMobile(cell(f, c.mobile));
    const email = normaliseEmail(cell(f, c.email));
    const name = cell(f, c.name);
    const paidAt = optionalKrTimestamp(cell(f, c.paidAt), '결제일시(입금확인일)', ctx.timeZone);
    const customer: CustomerInput | undefined =
      memberId || mobile
        ? { externalId: memberId ?? mobile, email, phone: mobile, firstName: name || undefined }
        : email
          ? { email, firstName: name || undefined }
          : undefined;
    // A coupon's name may hold commas (`신규회원 1,000원 할인`): each row's name is kept whole.
    const codes = all.map((row) => cell(row.fields, c.coupon)).filter(Boolean);
    return {
      kind: 'order',
      line: head.line,
      order: {
        externalId: orderId,
        customer,
        email,
        placedAt: placed.epochMs,
        placedOffset: placed.offsetMinutes,
        currency: KRW,
        subtotalMinor: subtotal,
        shippingMinor,
        taxMinor: 0,
        discountMinor: Math.max(0, subtotal + shippingMinor - total),
        totalMinor: total,
        refundedMinor: refunded,
        status,
        discountCodes: [...new Set(codes)],
        country: 'KR',
        cancelledAt: status === 'cancelled' ? (paidAt?.epochMs ?? placed.epochMs) : undefined,
        acquisition: {
          paymentMethod: cell(f, c.payment) || undefined,
          channel: cell(f, c.channel) || undefined,
        },
        lines,
      },
    };
  }

  yield* orderRowGroups(header, rows, c.order, build);
}

async function* parseMembers(header: KrHeader, rows: AsyncIterable<SourceRow>, ctx: ParseContext) {
  const c = {
    id: header.requireOne('아이디', '회원아이디'),
    name: header.find('이름', '회원명'),
    mobile: header.find('휴대전화', '휴대폰번호', '휴대폰', '휴대전화번호'),
    email: header.find('이메일', 'E-mail'),
    birthday: header.find('생년월일', '생일'),
    sms: header.find('SMS 수신여부', 'SMS 수신동의', 'SMS수신동의여부', 'sms'),
    mail: header.find('이메일 수신여부', '뉴스메일 수신여부', '이메일 수신동의', '이메일수신동의여부', 'news_mail'),
    smsAt: header.find('SMS 수신동의일', 'SMS 수신동의 일시'),
    mailAt: header.find('이메일 수신동의일', '이메일 수신동의 일시'),
    joined: header.find('회원가입일', '가입일', '가입일시'),
  };
  for await (const row of rows) {
    try {
      const f = fit(header, row);
      const id = cell(f, c.id);
      if (id === '') throw new FieldError('아이디', 'is empty');
      const joined = optionalKrTimestamp(cell(f, c.joined), '회원가입일', ctx.timeZone);
      const emailText = cell(f, c.email);
      const email = normaliseEmail(emailText);
      if (emailText !== '' && !email) throw new FieldError('이메일', `"${emailText}" is not an e-mail address`);
      const consents: ConsentInput[] = [];
      // A consent is dated when the file says (its own date column, else the sign-up), so that an older
      // file never overrides a later opt-out recorded by the store; undated, it is the import's moment.
      const consent = (
        index: number | undefined,
        atIndex: number | undefined,
        channel: 'email' | 'sms',
        field: string,
      ) => {
        const text = cell(f, index);
        if (text === '') return;
        const granted = consentFlag(text, field);
        const at = optionalKrTimestamp(cell(f, atIndex), `${field}일`, ctx.timeZone) ?? joined;
        consents.push({ channel, granted, at: at?.epochMs ?? ctx.now, source: 'cafe24-members' });
      };
      consent(c.sms, c.smsAt, 'sms', 'SMS 수신여부');
      consent(c.mail, c.mailAt, 'email', '이메일 수신여부');
      yield {
        kind: 'customer',
        line: row.line,
        customer: {
          externalId: id,
          email,
          phone: krMobile(cell(f, c.mobile)),
          firstName: cell(f, c.name) || undefined,
          birthday: krDate(cell(f, c.birthday), '생년월일'),
          country: 'KR',
          consents,
        },
      } satisfies ParsedItem;
    } catch (error) {
      yield toReject(error, row.line, [row.fields]);
    }
  }
}

const YES = new Set(['t', 'y', 'yes', 'true', '1', '동의', '수신', '수신동의', '예']);
const NO = new Set(['f', 'n', 'no', 'false', '0', '거부', '미동의', '수신거부', '수신안함', '비동의', '아니오']);

/** A consent flag as Cafe24 writes it: `T`/`F` (API), `Y`/`N`, `수신`/`수신거부`, `동의`/`미동의`. */
function consentFlag(text: string, field: string): boolean {
  const key = text.replace(/\s+/g, '').toLowerCase();
  if (YES.has(key)) return true;
  if (NO.has(key)) return false;
  throw new FieldError(field, `"${text}" is neither a yes (T, Y, 수신, 동의) nor a no (F, N, 수신거부, 미동의)`);
}
