import { type KoreanLineStatus, koreanLineStatus, koreanOrderStatus } from '../order-status.js';
import type { CustomerInput, LineInput } from '../records.js';
import type { SourceRow } from '../source.js';
import { cell, FieldError, type Format, integer, type ParseContext, type ParsedItem } from './format.js';
import {
  atLine,
  KRW,
  type KrHeader,
  KST,
  krMobile,
  krTimestamp,
  lineTitle,
  orderRowGroups,
  platformId,
  readKoreanSheet,
  won,
} from './korean.js';

/**
 * Naver SmartStore's seller-centre order spreadsheet (주문통합검색, 발주발송관리, 구매확정내역): one row per
 * product order (상품주문번호), usually a password-protected .xlsx (`--password`), notice rows above
 * the header. Amounts KRW, times KST unless `--tz` says otherwise. A line's total is 최종 상품별 총
 * 주문금액 (older layouts: 상품별 총 주문금액); shipping is per 배송비 묶음번호 and taken once per bundle.
 * The buyer is the Naver id (구매자ID) unless masked, else the mobile number in E.164. Recipient
 * (수취인) and address columns are never read.
 */
export const smartstore: Format = {
  name: 'smartstore',
  layout: 'csv',
  description: 'Naver SmartStore seller-centre order spreadsheet (.xlsx, often password-protected, or .csv)',
  timeZone: KST,
  encoding: 'utf8-or-cp949',
  async *parse(rows: AsyncIterable<SourceRow>, ctx: ParseContext): AsyncGenerator<ParsedItem> {
    yield* readKoreanSheet(rows, ctx, [{ marks: ['상품주문번호', '주문번호'], read: parseOrders }]);
  },
};

async function* parseOrders(header: KrHeader, rows: AsyncIterable<SourceRow>, ctx: ParseContext) {
  const c = {
    item: header.require('상품주문번호'),
    order: header.require('주문번호'),
    name: header.find('구매자명'),
    buyerId: header.find('구매자ID', '구매자 아이디'),
    phone: header.find('구매자연락처', '구매자 연락처'),
    orderedAt: header.require('주문일시'),
    paidAt: header.find('결제일', '결제일시'),
    status: header.require('주문상태'),
    detail: header.find('주문세부상태'),
    channel: header.find('판매채널'),
    device: header.find('결제위치'),
    payment: header.find('결제수단'),
    productNo: header.find('상품번호'),
    title: header.find('상품명'),
    option: header.find('옵션정보'),
    optionCode: header.find('옵션관리코드'),
    sellerCode: header.find('판매자 상품코드'),
    quantity: header.require('수량'),
    price: header.require('상품가격'),
    optionPrice: header.find('옵션가격'),
    discount: header.find('최종 상품별 할인액', '상품별 할인액'),
    total: header.requireOne('최종 상품별 총 주문금액', '상품별 총 주문금액'),
    bundle: header.find('배송비 묶음번호'),
    shipping: header.find('배송비 합계'),
    shippingDiscount: header.find('배송비 할인액'),
  };
  const bundles = new Set<string>();
  const lineIds = new Set<string>();

  function build(orderId: string, all: SourceRow[]): ParsedItem {
    const head = all[0]!;
    const f = head.fields;
    const placed = krTimestamp(cell(f, c.orderedAt), '주문일시', ctx.timeZone);
    const states: KoreanLineStatus[] = [];
    let shipping = 0;
    let refunded = 0;
    const items = all.map((row) =>
      atLine(row.line, () => {
        const r = row.fields;
        const itemId = cell(r, c.item);
        if (itemId === '') throw new FieldError('상품주문번호', 'is empty');
        if (lineIds.has(itemId)) throw new FieldError('상품주문번호', `${itemId} appears twice`);
        lineIds.add(itemId);
        const state = lineState(cell(r, c.status), cell(r, c.detail));
        states.push(state);
        const quantity = integer(cell(r, c.quantity), '수량');
        if (quantity <= 0) throw new FieldError('수량', `${quantity} is not a positive quantity`);
        const price = won(cell(r, c.price), '상품가격') + won(cell(r, c.optionPrice), '옵션가격', 0);
        if (price < 0) throw new FieldError('상품가격', 'is negative');
        const total = won(cell(r, c.total), '최종 상품별 총 주문금액');
        if (total < 0) throw new FieldError('최종 상품별 총 주문금액', 'is negative');
        const discountText = cell(r, c.discount);
        const discount =
          discountText === '' ? price * quantity - total : Math.abs(won(discountText, '최종 상품별 할인액'));
        // Shipping is stated per bundle on each of its lines: taken once, on the bundle's first line.
        const bundle = cell(r, c.bundle) || `order:${orderId}`;
        if (!bundles.has(bundle)) {
          bundles.add(bundle);
          const fee =
            won(cell(r, c.shipping), '배송비 합계', 0) - Math.abs(won(cell(r, c.shippingDiscount), '배송비 할인액', 0));
          if (fee < 0) throw new FieldError('배송비 할인액', 'is more than 배송비 합계');
          if (state !== 'unpaid_cancel') shipping += fee;
        }
        if (state === 'refunded') refunded += total;
        const line: LineInput = {
          lineNo: 0,
          sku: cell(r, c.optionCode) || cell(r, c.sellerCode) || cell(r, c.productNo) || undefined,
          title: lineTitle(cell(r, c.title), cell(r, c.option)),
          quantity,
          unitPriceMinor: price,
          discountMinor: discount,
          totalMinor: total,
          kind: 'product',
        };
        return { itemId, line, state };
      }),
    );
    // Line numbers follow the product order numbers, so a sheet sorted differently stores the same lines.
    items.sort((a, b) => a.itemId.length - b.itemId.length || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
    const lines = items.map((it, i) => ({ ...it.line, lineNo: i + 1 }));
    const total =
      items.filter((it) => it.state !== 'unpaid_cancel').reduce((s, it) => s + it.line.totalMinor, 0) + shipping;
    const status = koreanOrderStatus(states, refunded, total);
    const buyerId = platformId(cell(f, c.buyerId));
    const mobile = krMobile(cell(f, c.phone));
    const name = cell(f, c.name);
    const customer: CustomerInput | undefined =
      buyerId || mobile ? { externalId: buyerId ?? mobile, phone: mobile, firstName: name || undefined } : undefined;
    const subtotal = lines.reduce((s, l) => s + l.unitPriceMinor * l.quantity, 0);
    const device = cell(f, c.device);
    const channel = cell(f, c.channel);
    return {
      kind: 'order',
      line: head.line,
      order: {
        externalId: orderId,
        customer,
        placedAt: placed.epochMs,
        placedOffset: placed.offsetMinutes,
        currency: KRW,
        subtotalMinor: subtotal,
        shippingMinor: shipping,
        taxMinor: 0,
        discountMinor: Math.max(0, subtotal + shipping - total),
        totalMinor: total,
        refundedMinor: refunded,
        status,
        discountCodes: [],
        country: 'KR',
        cancelledAt: status === 'cancelled' ? placed.epochMs : undefined,
        acquisition: {
          paymentMethod: cell(f, c.payment) || undefined,
          channel: [channel, device].filter(Boolean).join(' / ') || undefined,
        },
        lines,
      },
    };
  }

  yield* orderRowGroups(header, rows, c.order, build);
}

/**
 * A SmartStore line's status: 주문상태 (`배송완료`, `취소`, `반품` …); a cancellation or return whose
 * 주문세부상태 says it is only requested or under way (`취소요청`, `반품요청`, `…중`) is still paid.
 */
function lineState(status: string, detail: string): KoreanLineStatus {
  const state = koreanLineStatus(status);
  if (!state) throw new FieldError('주문상태', `"${status}" is not a SmartStore order status`);
  const d = detail.replace(/\s+/g, '');
  if (state === 'refunded' && d !== '' && !/완료$/.test(d) && /(요청|신청|접수|중|보류)$/.test(d)) return 'paid';
  return state;
}
