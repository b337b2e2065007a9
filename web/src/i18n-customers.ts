/** Messages of the customer pages and shared table hints (kept apart from i18n.ts so merges stay easy). */
export const CUSTOMERS_EN = {
  noMatchTitle: 'No customer matches “{q}”',
  noMatchHint: 'Try an e-mail, a name, or the customer’s id in your store.',
  customersFoundOne: '{n} customer',
  customersFoundOther: '{n} customers',
  storeId: 'Store id',
  netRevenue: 'Net revenue',
  customerWithId: 'Customer {id}',
  orderGross: 'gross {amount}',
  orderNet: 'net {amount}',
  netTotal: 'Net total',
  netTotalHint: 'Net total: what the customer paid less refunds',
  scrollHint: 'Scroll sideways to see every column',
};

export const CUSTOMERS_KO: Record<keyof typeof CUSTOMERS_EN, string> = {
  noMatchTitle: '“{q}”에 맞는 고객이 없습니다',
  noMatchHint: '이메일이나 이름, 또는 스토어의 고객 ID로 찾아보세요.',
  customersFoundOne: '고객 {n}명',
  customersFoundOther: '고객 {n}명',
  storeId: '스토어 ID',
  netRevenue: '순매출',
  customerWithId: '고객 {id}',
  orderGross: '결제 금액 {amount}',
  orderNet: '환불 후 {amount}',
  netTotal: '환불 후 금액',
  netTotalHint: '환불 후 금액: 고객이 결제한 금액에서 환불액을 뺀 금액',
  scrollHint: '옆으로 밀면 모든 열이 보입니다',
};
