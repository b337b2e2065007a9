import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComebackError } from '../../errors.js';
import {
  amount,
  currencyOf,
  DecimalMarks,
  FieldError,
  Header,
  integer,
  nonNegative,
  present,
  splitName,
} from './format.js';
import { headerKey, KrHeader, krDate, krMobile, krTimestamp, lineTitle, platformId, won } from './korean.js';

/** The FieldError `run` throws, as `[field, message]`. */
function fieldError(run: () => unknown): [string, string] {
  try {
    run();
  } catch (error) {
    if (error instanceof FieldError) return [error.field, error.message];
    throw error;
  }
  throw new Error('no error');
}

describe('the Korean exports’ values', () => {
  test('won: 30000, 30,000, 30,000원, ₩30,000, -5,000; empty is the fallback; fractions and words refused', () => {
    assert.equal(won('30000', 'f'), 30_000);
    assert.equal(won('30,000', 'f'), 30_000);
    assert.equal(won('30,000원', 'f'), 30_000);
    assert.equal(won('₩30,000', 'f'), 30_000);
    assert.equal(won('\\30,000', 'f'), 30_000);
    assert.equal(won('-5,000', 'f'), -5000);
    assert.equal(won('12.00', 'f'), 12);
    assert.equal(won('', 'f', 7), 7);
    assert.equal(won('원', 'f', 0), 0);
    assert.deepEqual(
      fieldError(() => won('', '판매가')),
      ['판매가', 'is empty'],
    );
    assert.deepEqual(
      fieldError(() => won('12.50', '판매가')),
      ['판매가', '"12.50" is not a whole number of won'],
    );
    assert.deepEqual(
      fieldError(() => won('3만원', '판매가')),
      ['판매가', '"3만원" is not an amount in won (write 30000, 30,000 or 30,000원)'],
    );
  });

  test('krTimestamp: ISO, dotted, slashed and compact dates, Excel serials, in the zone given', () => {
    const kst = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h - 9, min);
    const at = (text: string) => krTimestamp(text, 'f', 'Asia/Seoul');
    assert.deepEqual(at('2025-01-02 10:00:00'), { epochMs: kst(2025, 1, 2, 10), offsetMinutes: 540 });
    assert.equal(at('2025.1.2 10:30').epochMs, kst(2025, 1, 2, 10, 30));
    assert.equal(at('2025/01/02').epochMs, kst(2025, 1, 2));
    assert.equal(at('2025.01.02.').epochMs, kst(2025, 1, 2));
    // 45658 days after 1899-12-30 is 2025-01-01; .75 is 18:00.
    assert.equal(at('45658.75').epochMs, kst(2025, 1, 1, 18));
    // Serial 61 is 1900-03-01, the first read as one (read in UTC: Seoul's 1900 offset was not +09:00).
    assert.equal(krTimestamp('61', 'f', 'UTC').epochMs, Date.UTC(1900, 2, 1));
    // In UTC the same digits are nine hours later.
    assert.deepEqual(krTimestamp('2025-01-02 10:00:00', 'f', 'UTC'), {
      epochMs: Date.UTC(2025, 0, 2, 10),
      offsetMinutes: 0,
    });
    assert.deepEqual(
      fieldError(() => at('')),
      ['f', 'is empty'],
    );
    assert.deepEqual(
      fieldError(() => at('2025-13-01')),
      ['f', '"2025-13-01" is not a date'],
    );
    // Below 61 a number is no serial (Lotus's leap-year bug): read as text, it is no date.
    assert.deepEqual(
      fieldError(() => at('60')),
      ['f', '"60" is not a date'],
    );
  });

  test('krDate, krMobile, lineTitle, platformId, headerKey', () => {
    assert.equal(krDate('1990-04-17', 'f'), '1990-04-17');
    assert.equal(krDate('19900417', 'f'), '1990-04-17');
    assert.equal(krDate('1990.4.7', 'f'), '1990-04-07');
    assert.equal(krDate('0000-00-00', 'f'), undefined);
    assert.equal(krDate('00000000', 'f'), undefined);
    assert.equal(krDate('', 'f'), undefined);
    assert.equal(krMobile('010-1234-5678'), '+821012345678');
    assert.equal(krMobile('01012345678'), '+821012345678');
    assert.equal(krMobile('010-****-5678'), undefined);
    // Masked elsewhere, the digits left would still parse as a wrong number (+8212345678, +82105678).
    assert.equal(krMobile('****-1234-5678'), undefined);
    assert.equal(krMobile('+82 10-****-5678'), undefined);
    assert.equal(krMobile(''), undefined);
    assert.equal(krMobile('12'), undefined);
    assert.equal(lineTitle('티셔츠', '블랙 / L'), '티셔츠 (블랙 / L)');
    assert.equal(lineTitle('티셔츠', ''), '티셔츠');
    assert.equal(lineTitle('', '블랙'), undefined);
    assert.equal(platformId('kim1'), 'kim1');
    assert.equal(platformId('kim****'), undefined);
    assert.equal(platformId(''), undefined);
    assert.equal(headerKey('\uFEFF품목별 주문\u3000번호\u00a0(KRW)'), '품목별주문번호(krw)');
    const header = new KrHeader(['주문 번호', '주문번호', 'E-mail'], 'f.csv', 3);
    assert.equal(header.find('주문번호'), 0);
    assert.equal(header.find('e-mail'), 2);
    assert.equal(header.width, 3);
  });
});

describe('the formats’ shared readers', () => {
  test('integer: thousands groups, a whole 12.0, refusals by text', () => {
    assert.equal(integer('1,234', 'q'), 1234);
    assert.equal(integer('12.0', 'q'), 12);
    assert.equal(integer('-3', 'q'), -3);
    assert.equal(integer('', 'q', 1), 1);
    assert.deepEqual(
      fieldError(() => integer('', 'q')),
      ['q', 'is empty'],
    );
    assert.deepEqual(
      fieldError(() => integer('1.000', 'q')),
      ['q', '"1.000" is ambiguous: a thousands separator or a decimal point'],
    );
    assert.deepEqual(
      fieldError(() => integer('1.5', 'q')),
      ['q', '"1.5" is not a whole number'],
    );
  });

  test('amount, nonNegative, currencyOf, present, splitName', () => {
    assert.equal(amount('1,234.56', 'a', 'EUR'), 123_456);
    assert.equal(amount('-2.5', 'a', 'EUR'), -250);
    assert.equal(amount('1200', 'a', 'JPY'), 1200);
    assert.equal(amount('', 'a', 'EUR', -1), -1);
    assert.deepEqual(
      fieldError(() => amount('', 'a', 'EUR')),
      ['a', 'is empty'],
    );
    // Amounts are read with a decimal point: text that reads only with a comma is refused saying so.
    assert.deepEqual(
      fieldError(() => amount('12,50', 'a', 'EUR')),
      ['a', '"12,50" reads only with a decimal comma, but the decimal mark is a point'],
    );
    assert.equal(nonNegative(0, 'n'), 0);
    assert.deepEqual(
      fieldError(() => nonNegative(-1, 'n')),
      ['n', 'is negative (-1 minor units)'],
    );
    assert.equal(currencyOf(' eur ', undefined, 'c'), 'EUR');
    assert.equal(currencyOf('', 'USD', 'c'), 'USD');
    assert.deepEqual(
      fieldError(() => currencyOf('EURO', 'USD', 'c')),
      ['c', '"EURO" is not an ISO 4217 currency code'],
    );
    assert.deepEqual(
      fieldError(() => currencyOf('', undefined, 'c')),
      ['c', 'is empty and no --currency was given'],
    );
    assert.equal(present(''), undefined);
    assert.equal(present('x'), 'x');
    assert.deepEqual(splitName('  '), {});
    assert.deepEqual(splitName('Ada'), { firstName: 'Ada' });
    assert.deepEqual(splitName(' Ada  King Lovelace '), { firstName: 'Ada King', lastName: 'Lovelace' });
  });

  test('Header: names compared without case, spaces, _ or -; the first of duplicates; refusals at the header', () => {
    const header = new Header(['\uFEFFOrder_ID', 'placed-at', 'Total', 'total'], 'f.csv', 1);
    assert.equal(header.find('order id'), 0);
    assert.equal(header.find('Placed At'), 1);
    assert.equal(header.find('nothing', 'TOTAL'), 2);
    assert.equal(header.has('nothing'), false);
    assert.equal(header.require('order-id'), 0);
    // A separator is a word break, not nothing: 'OrderID' is another name than 'Order ID', so each finds its
    // own column (dropped separators would make both 'orderid' and find the first, 0, for both).
    const joined = new Header(['OrderID', 'Order ID'], 'f.csv', 1);
    assert.equal(joined.find('orderid'), 0);
    assert.equal(joined.find('order_id'), 1);
    assert.throws(
      () => header.require('currency', 'curr'),
      (error: unknown) =>
        error instanceof ComebackError &&
        error.message === 'missing column "currency"' &&
        error.location?.file === 'f.csv' &&
        error.location?.line === 1 &&
        error.location?.field === 'header',
    );
    assert.throws(
      () => header.requireOne('currency', 'curr'),
      (error: unknown) =>
        error instanceof ComebackError && error.message === 'missing column: one of "currency", "curr"',
    );
  });

  test('DecimalMarks: the first amount that reads one way proves the mark for the file', () => {
    const marks = new DecimalMarks('auto');
    // 1.234 reads two ways before anything is proved: refused as ambiguous by readAmount.
    assert.equal(marks.read('12,50', 'a', 'EUR', 2), 1250);
    assert.equal(marks.read('1.234,5', 'a', 'EUR', 3), 123_450);
    assert.deepEqual(
      fieldError(() => marks.read('1,234.50', 'a', 'EUR', 4)),
      ['a', `${fieldError(() => new DecimalMarks('comma').read('1,234.50', 'a', 'EUR', 4))[1]} (proved by line 2)`],
    );
    assert.equal(new DecimalMarks('point').read('1,234.50', 'a', 'EUR', 1), 123_450);
    assert.equal(marks.read('', 'a', 'EUR', 5, 0), 0);
  });
});
