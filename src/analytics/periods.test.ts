import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComebackError } from '../errors.js';
import {
  defaultPeriod,
  isoWeekLabel,
  monthLabel,
  monthStart,
  parseDurationDays,
  previousPeriod,
  weekOfEpochDay,
} from './periods.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

describe('periods', () => {
  test('durations: 365d, 52w, 12m, 1y, bare days; anything else is a usage error naming the flag', () => {
    assert.equal(parseDurationDays('365d'), 365);
    assert.equal(parseDurationDays('52w'), 364);
    assert.equal(parseDurationDays('12m'), 360);
    assert.equal(parseDurationDays('1y'), 365);
    assert.equal(parseDurationDays('90'), 90);
    assert.throws(
      () => parseDurationDays('soon', '--active-window'),
      (e: unknown) => e instanceof ComebackError && e.kind === 'usage' && /--active-window soon/.test(e.message),
    );
    assert.throws(() => parseDurationDays('0d'), ComebackError);
  });

  test('the default period is the last full month before asOf; the previous period is the month before', () => {
    const p = defaultPeriod(Date.UTC(2011, 11, 10));
    assert.deepEqual(p, { from: Date.UTC(2011, 10, 1), to: Date.UTC(2011, 11, 1) });
    assert.deepEqual(previousPeriod(p), { from: Date.UTC(2011, 9, 1), to: Date.UTC(2011, 10, 1) });
    assert.deepEqual(defaultPeriod(Date.UTC(2011, 0, 5)), { from: Date.UTC(2010, 11, 1), to: Date.UTC(2011, 0, 1) });
    assert.deepEqual(defaultPeriod(Date.UTC(2011, 11, 1)), p, 'an asOf at a month start keeps that month out');
    // Month-aligned periods go back by calendar months, others by their length.
    assert.deepEqual(previousPeriod({ from: Date.UTC(2011, 5, 1), to: Date.UTC(2011, 11, 1) }), {
      from: Date.UTC(2010, 11, 1),
      to: Date.UTC(2011, 5, 1),
    });
    assert.deepEqual(previousPeriod({ from: Date.UTC(2011, 0, 10), to: Date.UTC(2011, 0, 20) }), {
      from: Date.UTC(2010, 11, 31),
      to: Date.UTC(2011, 0, 10),
    });
  });

  test('ISO weeks start on Monday and take the year of their Thursday', () => {
    assert.equal(isoWeekLabel(weekOfEpochDay(day('2011-01-03'))), '2011-W01');
    assert.equal(isoWeekLabel(weekOfEpochDay(day('2011-01-02'))), '2010-W52', 'a Sunday belongs to the week before');
    assert.equal(isoWeekLabel(weekOfEpochDay(day('2010-12-01'))), '2010-W48');
    assert.equal(isoWeekLabel(weekOfEpochDay(day('2020-12-31'))), '2020-W53');
    assert.equal(isoWeekLabel(weekOfEpochDay(day('2019-12-30'))), '2020-W01');
    assert.equal(weekOfEpochDay(day('2011-01-03')), weekOfEpochDay(day('2011-01-09')));
    assert.notEqual(weekOfEpochDay(day('2011-01-09')), weekOfEpochDay(day('2011-01-10')));
    assert.equal(monthLabel(2011 * 12), '2011-01');
    assert.equal(monthLabel(2011 * 12 + 11), '2011-12');
  });

  test("a Seoul store's months start at its local midnight: March 2024 is [02-29T15:00Z, 03-31T15:00Z)", () => {
    const seoulMarch = Date.parse('2024-02-29T15:00:00Z');
    const seoulApril = Date.parse('2024-03-31T15:00:00Z');
    // 2024-03-01 08:00+09:00 is 2024-02-29T23:00Z: in March in Seoul, in February in UTC.
    const order = Date.parse('2024-03-01T08:00:00+09:00');
    assert.equal(monthStart(order, 0, 'Asia/Seoul'), seoulMarch);
    assert.equal(monthStart(order), Date.parse('2024-02-01T00:00:00Z'));
    // One millisecond before the local midnight is still February.
    assert.equal(monthStart(seoulMarch - 1, 0, 'Asia/Seoul'), Date.parse('2024-01-31T15:00:00Z'));
    const period = defaultPeriod(seoulApril, 'Asia/Seoul');
    assert.deepEqual(period, { from: seoulMarch, to: seoulApril, timeZone: 'Asia/Seoul' });
    assert.deepEqual(previousPeriod(period), {
      from: Date.parse('2024-01-31T15:00:00Z'),
      to: seoulMarch,
      timeZone: 'Asia/Seoul',
    });
    // London: BST starts 2024-03-31, so April starts at 23:00Z the day before.
    assert.equal(
      monthStart(Date.parse('2024-04-15T12:00:00Z'), 0, 'Europe/London'),
      Date.parse('2024-03-31T23:00:00Z'),
    );
    assert.equal(
      monthStart(Date.parse('2024-04-15T12:00:00Z'), -1, 'Europe/London'),
      Date.parse('2024-03-01T00:00:00Z'),
    );
  });
});
