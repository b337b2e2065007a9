import type { OrderStatus } from '../store/schema.js';

/**
 * The one map from the order statuses shops write to ours, for every importer and webhook: Shopify's
 * `financial_status`, WooCommerce's `status` (without its `wc-` prefix) and the words a generic CSV
 * uses. New importers add their shop's words here (one line each) rather than keeping a map of their
 * own. Keys are lower case; a status not listed is refused by the caller (or read as pending where
 * the shop's format says so).
 */
export const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  // paid
  paid: 'paid',
  completed: 'paid',
  complete: 'paid',
  fulfilled: 'paid',
  processing: 'paid',
  // not paid yet
  pending: 'pending',
  authorized: 'pending',
  partially_paid: 'pending',
  'on-hold': 'pending',
  'checkout-draft': 'pending',
  // refunds
  refunded: 'refunded',
  partially_refunded: 'partially_refunded',
  'partially refunded': 'partially_refunded',
  'partially-refunded': 'partially_refunded',
  // never paid or called off
  cancelled: 'cancelled',
  canceled: 'cancelled',
  voided: 'cancelled',
  expired: 'cancelled',
  failed: 'cancelled',
};

/** The status a shop's word stands for (case and spaces ignored, a `wc-` prefix dropped), or undefined. */
export function orderStatus(text: string): OrderStatus | undefined {
  const key = text.trim().toLowerCase().replace(/^wc-/, '');
  return Object.hasOwn(ORDER_STATUS, key) ? ORDER_STATUS[key] : undefined;
}

/**
 * What one line of a Korean export says happened to it: awaiting payment, paid (preparing, shipping,
 * delivered, confirmed, exchanged, or a cancel/return only requested), called off before payment, or
 * cancelled/returned after payment (a refund of the line's amount).
 */
export type KoreanLineStatus = 'pending' | 'paid' | 'unpaid_cancel' | 'refunded';

/**
 * Per-line status words of Cafe24 (`주문 상태`) and SmartStore (`주문상태`), spaces removed. Words not
 * listed are refused by the caller, so a platform that adds one gives a clear error, not a guess.
 */
export const KOREAN_LINE_STATUS: Readonly<Record<string, KoreanLineStatus>> = {
  입금전: 'pending',
  입금대기: 'pending',
  결제대기: 'pending',
  신규주문: 'paid',
  결제완료: 'paid',
  발주확인: 'paid',
  상품준비중: 'paid',
  배송준비: 'paid',
  배송준비중: 'paid',
  배송대기: 'paid',
  발송대기: 'paid',
  배송보류: 'paid',
  배송중: 'paid',
  배송완료: 'paid',
  구매확정: 'paid',
  교환: 'paid',
  교환신청: 'paid',
  교환요청: 'paid',
  교환접수: 'paid',
  교환처리중: 'paid',
  교환완료: 'paid',
  취소신청: 'paid',
  취소요청: 'paid',
  취소접수: 'paid',
  반품신청: 'paid',
  반품요청: 'paid',
  반품접수: 'paid',
  반품처리중: 'paid',
  환불신청: 'paid',
  환불전: 'paid',
  미결제취소: 'unpaid_cancel',
  자동취소: 'unpaid_cancel',
  입금전취소: 'unpaid_cancel',
  취소: 'refunded',
  취소완료: 'refunded',
  부분취소완료: 'refunded',
  반품: 'refunded',
  반품완료: 'refunded',
  환불완료: 'refunded',
};

/**
 * The status of a Korean export's line from its status word (`배송 완료`, `입금전 취소 - 관리자`) or a
 * Cafe24 API code (`N40`; C and R codes from 40 on are completed cancellations and returns, below 40
 * requests; E codes are exchanges, kept), or undefined for a word not known.
 */
export function koreanLineStatus(text: string): KoreanLineStatus | undefined {
  const key = text.replace(/\s+/g, '');
  const code = /^([NCRE])(\d{2})$/i.exec(key);
  if (code) {
    const letter = code[1]!.toUpperCase();
    const n = Number(code[2]);
    if (letter === 'N') return n === 0 ? 'pending' : 'paid';
    if (letter === 'E') return 'paid';
    return n >= 40 ? 'refunded' : 'paid';
  }
  // `입금전 취소 - 관리자`, `입금전 취소 - 구매자`, `입금전 취소 - 자동취소`: called off before payment.
  if (key.startsWith('입금전취소')) return 'unpaid_cancel';
  return Object.hasOwn(KOREAN_LINE_STATUS, key) ? KOREAN_LINE_STATUS[key] : undefined;
}

/**
 * An order's status from its lines' and the refunded amount: every line called off before payment is
 * `cancelled`; only lines awaiting payment (or called off) is `pending`; otherwise by refund.
 */
export function koreanOrderStatus(
  lines: readonly KoreanLineStatus[],
  refundedMinor: number,
  totalMinor: number,
): OrderStatus {
  if (lines.every((s) => s === 'unpaid_cancel')) return 'cancelled';
  if (lines.every((s) => s === 'pending' || s === 'unpaid_cancel')) return 'pending';
  if (refundedMinor > 0 && refundedMinor >= totalMinor) return 'refunded';
  if (refundedMinor > 0) return 'partially_refunded';
  return 'paid';
}
