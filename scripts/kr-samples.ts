/**
 * Writes the Korean sample exports in samples/kr/ (and the malformed fixtures in test/fixtures/kr/)
 * from the layouts documented for Cafe24 and Naver SmartStore, with invented buyers. Deterministic:
 * a seeded generator, fixed dates; only the encrypted workbook differs between runs (its salt is random).
 *
 *   node --import tsx scripts/kr-samples.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import officeCrypto from 'officecrypto-tool';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLES = join(ROOT, 'samples', 'kr');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'kr');
/** The SmartStore sample's password (stated in samples/kr/README.md). */
export const SMARTSTORE_PASSWORD = 'comeback-kr-2025';

/** mulberry32: a small seeded generator, so the samples are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = rng(20_250_301);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const p2 = (n: number) => String(n).padStart(2, '0');

const FAMILY = ['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임', '한', '오', '서', '신', '권', '황'];
const GIVEN = [
  '민준',
  '서연',
  '지우',
  '하은',
  '도윤',
  '서준',
  '지민',
  '수아',
  '예준',
  '하린',
  '시우',
  '지아',
  '은우',
  '채원',
  '유진',
  '현우',
  '소율',
  '준서',
  '다인',
  '건우',
];
const ROMAN = [
  'minjun',
  'seoyeon',
  'jiwoo',
  'haeun',
  'doyun',
  'seojun',
  'jimin',
  'sua',
  'yejun',
  'harin',
  'siwoo',
  'jia',
  'eunwoo',
  'chaewon',
  'yujin',
  'hyunwoo',
  'soyul',
  'junseo',
  'dain',
  'gunwoo',
];
const CITIES = [
  '서울특별시 마포구 월드컵북로 12',
  '부산광역시 해운대구 센텀중앙로 48',
  '경기도 성남시 분당구 판교역로 166',
  '대구광역시 수성구 달구벌대로 2450',
  '인천광역시 연수구 컨벤시아대로 81',
];

interface Product {
  no: string;
  code: string;
  own: string;
  name: string;
  options: string[];
  price: number;
}
const PRODUCTS: Product[] = [
  {
    no: '101',
    code: 'P00000DA',
    own: 'TEA-GREEN',
    name: '제주 유기농 녹차 티백',
    options: ['20개입', '50개입'],
    price: 12_900,
  },
  { no: '102', code: 'P00000DB', own: 'TEA-BARLEY', name: '볶은 보리차', options: ['1kg'], price: 9_900 },
  {
    no: '103',
    code: 'P00000DC',
    own: 'CUP-CELADON',
    name: '청자 찻잔 세트',
    options: ['2인용', '4인용'],
    price: 38_000,
  },
  { no: '104', code: 'P00000DD', own: 'HONEY-ACACIA', name: '아카시아 꿀', options: ['500g'], price: 24_500 },
  { no: '105', code: 'P00000DE', own: 'JUJUBE-TEA', name: '대추차 선물세트', options: ['6병', '12병'], price: 31_000 },
  { no: '106', code: 'P00000DF', own: 'YUJA-TEA', name: '고흥 유자차', options: ['1kg', '2kg'], price: 15_800 },
];

function mobile(): string {
  return `010-${int(2000, 9999)}-${p2(int(0, 99))}${p2(int(0, 99))}`;
}
function kst(y: number, m: number, d: number, h: number, mi: number, s: number): string {
  return `${y}-${p2(m)}-${p2(d)} ${p2(h)}:${p2(mi)}:${p2(s)}`;
}
/** A random instant in 2024-01-01 … 2025-06-30 (KST wall clock), as parts. */
function when(): [number, number, number, number, number, number] {
  const day = int(0, 546);
  const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000);
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), int(0, 23), int(0, 59), int(0, 59)];
}

interface Member {
  id: string;
  name: string;
  mobile: string;
  email: string;
  birthday: string;
  sms: 'T' | 'F';
  mail: 'T' | 'F';
  joined: string;
}

function members(count: number): Member[] {
  const out: Member[] = [];
  const ids = new Set<string>();
  while (out.length < count) {
    const g = int(0, GIVEN.length - 1);
    const id = `${ROMAN[g]}${int(70, 99)}`;
    if (ids.has(id)) continue;
    ids.add(id);
    const year = int(1965, 2003);
    out.push({
      id,
      name: `${pick(FAMILY)}${GIVEN[g]}`,
      mobile: mobile(),
      email: `${id}@example.kr`,
      birthday: random() < 0.85 ? `${year}-${p2(int(1, 12))}-${p2(int(1, 28))}` : '',
      sms: random() < 0.6 ? 'T' : 'F',
      mail: random() < 0.5 ? 'T' : 'F',
      joined: kst(2023, int(1, 12), int(1, 28), int(9, 22), int(0, 59), int(0, 59)),
    });
  }
  return out;
}

const CAFE24_COLUMNS = [
  '주문번호',
  '품목별 주문번호',
  '주문일시',
  '결제일시(입금확인일)',
  '주문자명',
  '주문자ID',
  '주문자 휴대전화',
  '주문 시 회원등급',
  '주문경로',
  '결제수단',
  '주문 상태',
  '상품번호',
  '상품코드',
  '상품자체코드',
  '상품품목코드',
  '주문상품명',
  '상품옵션',
  '수량',
  '판매가',
  '상품구매금액(KRW)',
  '상품별 추가할인금액',
  '품목별 결제금액',
  '총 상품구매금액(KRW)',
  '총주문금액(KRW)',
  '총배송비(KRW)',
  '총결제금액(KRW)',
  '사용한 적립금액(최종)',
  '사용한 쿠폰명',
  '실제 환불금액',
  '총 실제 환불금액',
  '수령인',
  '수령인 휴대전화',
  '수령인 주소',
  '우편번호',
  '배송메시지',
] as const;
type Cafe24Row = Record<(typeof CAFE24_COLUMNS)[number], string | number>;

/** Cafe24 orders: one row per line item, order amounts repeated on each line. */
function cafe24Orders(people: Member[], count: number, seq0: number): Cafe24Row[] {
  const rows: Cafe24Row[] = [];
  for (let n = 0; n < count; n++) {
    const [y, m, d, h, mi, s] = when();
    const orderId = `${y}${p2(m)}${p2(d)}-${String(seq0 + n).padStart(7, '0')}`;
    const guest = random() < 0.25;
    const member = guest ? undefined : pick(people);
    const guestName = `${pick(FAMILY)}${pick(GIVEN)}`;
    const guestMobile = mobile();
    const lineCount = random() < 0.6 ? 1 : int(2, 3);
    const roll = random();
    const kind =
      roll < 0.07
        ? 'cancel'
        : roll < 0.12
          ? 'unpaid'
          : roll < 0.15
            ? 'pending'
            : roll < 0.22 && lineCount > 1
              ? 'return'
              : 'ok';
    const chosen = new Set<number>();
    while (chosen.size < lineCount) chosen.add(int(0, PRODUCTS.length - 1));
    const lines = [...chosen].map((i, k) => {
      const product = PRODUCTS[i]!;
      const quantity = int(1, 3);
      const gross = product.price * quantity;
      const discount = random() < 0.2 ? 1_000 * quantity : 0;
      return { product, option: pick(product.options), quantity, gross, discount, paid: gross - discount, k };
    });
    const subtotal = lines.reduce((sum, l) => sum + l.gross, 0);
    const linePaid = lines.reduce((sum, l) => sum + l.paid, 0);
    const shipping = subtotal >= 50_000 ? 0 : 3_000;
    const points = linePaid >= 30_000 && random() < 0.3 ? 2_000 : 0;
    const total = linePaid + shipping - points;
    const coupon = lines.some((l) => l.discount > 0) ? '신규회원 1,000원 할인' : '';
    const paidAt = kind === 'unpaid' || kind === 'pending' ? '' : kst(y, m, d, h, Math.min(59, mi + 1), s);
    const orderRefund = kind === 'cancel' ? total : kind === 'return' ? lines[lineCount - 1]!.paid : 0;
    for (const l of lines) {
      const returned = kind === 'return' && l.k === lineCount - 1;
      const status =
        kind === 'cancel'
          ? '취소 완료'
          : kind === 'unpaid'
            ? '입금전 취소 - 관리자'
            : kind === 'pending'
              ? '입금전'
              : returned
                ? '반품 완료'
                : pick(['배송 완료', '배송 완료', '구매확정', '배송중']);
      const lineRefund = kind === 'cancel' ? (l.k === 0 ? l.paid - points + shipping : l.paid) : returned ? l.paid : '';
      rows.push({
        주문번호: orderId,
        '품목별 주문번호': `${orderId}-${p2(l.k + 1)}`,
        주문일시: kst(y, m, d, h, mi, s),
        '결제일시(입금확인일)': paidAt,
        주문자명: member?.name ?? guestName,
        주문자ID: member?.id ?? '',
        '주문자 휴대전화': member?.mobile ?? guestMobile,
        '주문 시 회원등급': member ? pick(['일반회원', '실버', '골드']) : '비회원',
        주문경로: pick(['PC쇼핑몰', '모바일웹', '모바일웹', '네이버 페이']),
        결제수단: pick(['신용카드', '무통장입금', '카카오페이', '네이버페이']),
        '주문 상태': status,
        상품번호: l.product.no,
        상품코드: l.product.code,
        상품자체코드: l.product.own,
        상품품목코드: `${l.product.code}${String(l.product.options.indexOf(l.option) + 1).padStart(3, '0')}`,
        주문상품명: l.product.name,
        상품옵션: `용량=${l.option}`,
        수량: l.quantity,
        판매가: l.product.price,
        '상품구매금액(KRW)': l.gross,
        '상품별 추가할인금액': l.discount,
        '품목별 결제금액': l.paid,
        '총 상품구매금액(KRW)': subtotal,
        '총주문금액(KRW)': subtotal + shipping,
        '총배송비(KRW)': shipping,
        '총결제금액(KRW)': total,
        '사용한 적립금액(최종)': points,
        '사용한 쿠폰명': l.discount > 0 ? coupon : '',
        '실제 환불금액': lineRefund,
        '총 실제 환불금액': kind === 'cancel' || kind === 'return' ? orderRefund : '',
        수령인: member?.name ?? guestName,
        '수령인 휴대전화': mobile(),
        '수령인 주소': pick(CITIES),
        우편번호: String(int(10_000, 63_999)).padStart(5, '0'),
        배송메시지: pick(['부재 시 문 앞에 놓아주세요', '경비실에 맡겨주세요', '']),
      });
    }
  }
  return rows;
}

const SMARTSTORE_COLUMNS = [
  '상품주문번호',
  '주문번호',
  '배송방법',
  '구매자명',
  '구매자ID',
  '구매자연락처',
  '수취인명',
  '수취인연락처1',
  '배송지',
  '우편번호',
  '배송메세지',
  '개인통관고유부호',
  '주문일시',
  '결제일',
  '주문상태',
  '주문세부상태',
  '판매채널',
  '결제위치',
  '결제수단',
  '상품번호',
  '상품명',
  '옵션정보',
  '옵션관리코드',
  '수량',
  '상품가격',
  '옵션가격',
  '최종 상품별 할인액',
  '최종 상품별 총 주문금액',
  '배송비 묶음번호',
  '배송비 합계',
  '배송비 할인액',
  '구매확정일',
] as const;
type SmartRow = Record<(typeof SMARTSTORE_COLUMNS)[number], string | number | Date>;

/** A KST wall-clock time as the Date exceljs writes as that serial (its UTC fields are the wall clock). */
function excelDate(y: number, m: number, d: number, h: number, mi: number, s: number): Date {
  return new Date(Date.UTC(y, m - 1, d, h, mi, s));
}

function smartstoreOrders(count: number): SmartRow[] {
  const buyers = Array.from({ length: 45 }, () => {
    const g = int(0, GIVEN.length - 1);
    const masked = random() < 0.15;
    const id = `${ROMAN[g]}${int(100, 999)}`;
    return { id: masked ? `${id.slice(0, 3)}****` : id, name: `${pick(FAMILY)}${GIVEN[g]}`, phone: mobile() };
  });
  const rows: SmartRow[] = [];
  let item = 2025030100000000 - count * 3;
  for (let n = 0; n < count; n++) {
    const [y, m, d, h, mi, s] = when();
    const orderId = `${y}${p2(m)}${p2(d)}${String(10_000 + n * 7).padStart(8, '0')}`;
    const buyer = pick(buyers);
    const lineCount = random() < 0.7 ? 1 : 2;
    const roll = random();
    const kind =
      roll < 0.08 ? 'cancel' : roll < 0.12 ? 'unpaid' : roll < 0.15 ? 'requested' : roll < 0.2 ? 'return' : 'ok';
    const bundle = `${orderId.slice(0, 8)}${String(50_000 + n).padStart(8, '0')}`;
    const chosen = new Set<number>();
    while (chosen.size < lineCount) chosen.add(int(0, PRODUCTS.length - 1));
    const sum = [...chosen].reduce((t, i) => t + PRODUCTS[i]!.price, 0);
    const shipping = sum >= 30_000 ? 0 : 3_000;
    let k = 0;
    for (const i of chosen) {
      const product = PRODUCTS[i]!;
      const quantity = int(1, 2);
      const optionPrice = product.options.length > 1 && random() < 0.5 ? 2_000 : 0;
      const discount = random() < 0.25 ? 500 * quantity : 0;
      const status =
        kind === 'cancel'
          ? ['취소', '취소완료']
          : kind === 'unpaid'
            ? ['미결제취소', '미결제취소']
            : kind === 'requested'
              ? ['취소', '취소요청']
              : kind === 'return' && k === 0
                ? ['반품', '반품완료']
                : pick([
                    ['구매확정', '구매확정'],
                    ['배송완료', '배송완료'],
                    ['배송중', '배송중'],
                  ]);
      item += int(1, 3);
      rows.push({
        상품주문번호: String(item),
        주문번호: orderId,
        배송방법: '택배,등기,소포',
        구매자명: buyer.name,
        구매자ID: buyer.id,
        구매자연락처: buyer.phone,
        수취인명: buyer.name,
        수취인연락처1: mobile(),
        배송지: pick(CITIES),
        우편번호: String(int(10_000, 63_999)).padStart(5, '0'),
        배송메세지: pick(['문 앞', '', '배송 전 연락 바랍니다']),
        개인통관고유부호: '',
        주문일시: excelDate(y, m, d, h, mi, s),
        결제일: kind === 'unpaid' ? '' : excelDate(y, m, d, h, Math.min(59, mi + 2), s),
        주문상태: status[0]!,
        주문세부상태: status[1]!,
        판매채널: '스마트스토어',
        결제위치: pick(['PC', '모바일', '모바일']),
        결제수단: pick(['신용카드', '네이버페이 포인트', '계좌이체']),
        상품번호: `8${product.no}00${product.no}`,
        상품명: product.name,
        옵션정보: product.options.length > 1 ? `용량: ${pick(product.options)}` : '',
        옵션관리코드: product.own,
        수량: quantity,
        상품가격: product.price,
        옵션가격: optionPrice,
        '최종 상품별 할인액': discount,
        '최종 상품별 총 주문금액': (product.price + optionPrice) * quantity - discount,
        '배송비 묶음번호': bundle,
        '배송비 합계': shipping,
        '배송비 할인액': 0,
        구매확정일: status[0] === '구매확정' ? excelDate(y, m, Math.min(28, d + 7), 0, 0, 0) : '',
      });
      k++;
    }
  }
  return rows;
}

async function workbook(
  columns: readonly string[],
  rows: Array<Record<string, string | number | Date>>,
  notices: string[] = [],
): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Comeback sample generator';
  book.created = new Date(Date.UTC(2025, 6, 1));
  book.modified = book.created;
  const sheet = book.addWorksheet('Sheet1');
  for (const notice of notices) sheet.addRow([notice]);
  sheet.addRow([...columns]);
  for (const row of rows) {
    const added = sheet.addRow(columns.map((c) => row[c] ?? ''));
    added.eachCell((cell) => {
      if (cell.value instanceof Date) cell.numFmt = 'yyyy-mm-dd hh:mm:ss';
    });
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

function csv(columns: readonly string[], rows: Array<Record<string, string | number>>): string {
  const quote = (v: string | number) => {
    const text = String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `${[columns.map(quote).join(','), ...rows.map((r) => columns.map((c) => quote(r[c] ?? '')).join(','))].join('\r\n')}\r\n`;
}

const won = (n: string | number) => (typeof n === 'number' ? `${n.toLocaleString('en-US')}원` : n);

async function main(): Promise<void> {
  mkdirSync(SAMPLES, { recursive: true });
  mkdirSync(FIXTURES, { recursive: true });
  const people = members(60);

  const memberColumns = [
    '아이디',
    '이름',
    '휴대전화',
    '이메일',
    '생년월일',
    'SMS 수신여부',
    '이메일 수신여부',
    '회원가입일',
    '회원등급',
    '주소',
  ];
  writeFileSync(
    join(SAMPLES, 'cafe24-members.xlsx'),
    await workbook(
      memberColumns,
      people.map((p) => ({
        아이디: p.id,
        이름: p.name,
        휴대전화: p.mobile,
        이메일: p.email,
        생년월일: p.birthday,
        'SMS 수신여부': p.sms,
        '이메일 수신여부': p.mail,
        회원가입일: p.joined,
        회원등급: pick(['일반회원', '실버', '골드']),
        주소: pick(CITIES),
      })),
    ),
  );

  writeFileSync(join(SAMPLES, 'cafe24-orders.xlsx'), await workbook(CAFE24_COLUMNS, cafe24Orders(people, 160, 100)));

  // The same layout as an admin may choose it another day: columns moved, headers spaced otherwise,
  // amounts written as text with 원, dates with dots; UTF-8 with a BOM, as Excel saves "CSV UTF-8".
  const moved: Array<[string, (typeof CAFE24_COLUMNS)[number]]> = [
    ['주문상태', '주문 상태'],
    ['품목별주문번호', '품목별 주문번호'],
    ['주문 번호', '주문번호'],
    ['주문자 ID', '주문자ID'],
    ['주문자휴대전화', '주문자 휴대전화'],
    ['주문자 명', '주문자명'],
    ['주문 일시', '주문일시'],
    ['상품 품목코드', '상품품목코드'],
    ['주문상품명', '주문상품명'],
    ['수량', '수량'],
    ['판매가', '판매가'],
    ['품목별결제금액', '품목별 결제금액'],
    ['총 결제금액(KRW)', '총결제금액(KRW)'],
    ['총 배송비(KRW)', '총배송비(KRW)'],
    ['총실제환불금액', '총 실제 환불금액'],
    ['수령인 주소', '수령인 주소'],
    ['결제 수단', '결제수단'],
  ];
  const movedRows = cafe24Orders(people, 40, 900_000).map((row) => {
    const out: Record<string, string | number> = {};
    for (const [name, from] of moved) {
      const value = row[from];
      out[name] =
        typeof value === 'number' && name !== '수량'
          ? won(value)
          : name === '주문 일시'
            ? String(value).replace(/^(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2}):\d{2}$/, '$1.$2.$3 $4')
            : value;
    }
    return out;
  });
  writeFileSync(
    join(SAMPLES, 'cafe24-orders-moved.csv'),
    `\uFEFF${csv(
      moved.map(([name]) => name),
      movedRows,
    )}`,
  );

  const smart = await workbook(SMARTSTORE_COLUMNS, smartstoreOrders(120), [
    '※ 고객 개인정보는 배송 목적 외 사용을 금합니다.',
    '※ 다운로드 일시: 2025-07-01 10:00:00',
  ]);
  writeFileSync(
    join(SAMPLES, 'smartstore-orders.xlsx'),
    officeCrypto.encrypt(smart, { password: SMARTSTORE_PASSWORD }),
  );

  // Fixtures for the tests: a SmartStore CSV in CP949 (as Korean Excel saves "CSV"), and malformed files.
  const small = smartstoreOrders(6).map((r) => {
    const out: Record<string, string | number> = {};
    for (const c of SMARTSTORE_COLUMNS) {
      const v = r[c];
      out[c] = v instanceof Date ? v.toISOString().slice(0, 19).replace('T', ' ') : v;
    }
    return out;
  });
  writeFileSync(join(FIXTURES, 'smartstore-cp949.csv'), iconv.encode(csv(SMARTSTORE_COLUMNS, small), 'cp949'));
  const broken = cafe24Orders(people, 6, 700_000).map((r) => ({ ...r }));
  broken[3]!['총결제금액(KRW)'] = '3만원';
  writeFileSync(join(FIXTURES, 'cafe24-bad-amount.csv'), csv(CAFE24_COLUMNS, broken));
  const unknown = cafe24Orders(people, 4, 800_000).map((r) => ({ ...r }));
  unknown[2]!['주문 상태'] = '배송 분실';
  writeFileSync(join(FIXTURES, 'cafe24-unknown-status.xlsx'), await workbook(CAFE24_COLUMNS, unknown));
}

await main();
