import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  dayEndInZone,
  dayInZone,
  formatWithOffset,
  isMidnightInZone,
  localDate,
  parseDateArgument,
  parseEndDateArgument,
  parseTimestamp,
  zoneOffsetAt,
} from './dates.js';

describe('timestamps', () => {
  test("keeps the offset Shopify writes, '2025-12-06 10:37:33 -0500'", () => {
    const t = parseTimestamp('2025-12-06 10:37:33 -0500');
    assert.deepEqual(t, { epochMs: Date.UTC(2025, 11, 6, 15, 37, 33), offsetMinutes: -300 });
    assert.equal(formatWithOffset(t!.epochMs, t!.offsetMinutes), '2025-12-06T10:37:33-05:00');
    assert.equal(localDate(t!.epochMs, t!.offsetMinutes), '2025-12-06');
  });

  test('reads ISO 8601 with Z, offsets and fractions', () => {
    assert.equal(parseTimestamp('2024-02-29T23:30:00Z')?.epochMs, Date.UTC(2024, 1, 29, 23, 30));
    assert.equal(parseTimestamp('2024-02-29T23:30:00.250+09:00')?.epochMs, Date.UTC(2024, 1, 29, 14, 30, 0, 250));
    assert.equal(parseTimestamp('19970101')?.epochMs, Date.UTC(1997, 0, 1));
    assert.equal(parseTimestamp('12/1/2010 8:26')?.epochMs, Date.UTC(2010, 11, 1, 8, 26));
  });

  test('reads wall time in a named zone, across daylight saving', () => {
    const winter = parseTimestamp('2011-01-15 09:00:00', 'Europe/London');
    const summer = parseTimestamp('2011-07-15 09:00:00', 'Europe/London');
    assert.deepEqual(winter, { epochMs: Date.UTC(2011, 0, 15, 9), offsetMinutes: 0 });
    assert.deepEqual(summer, { epochMs: Date.UTC(2011, 6, 15, 8), offsetMinutes: 60 });
    const seoul = parseTimestamp('2024-03-01 00:30', 'Asia/Seoul');
    assert.equal(seoul?.offsetMinutes, 540);
    assert.equal(localDate(seoul!.epochMs, seoul!.offsetMinutes), '2024-03-01');
    assert.equal(zoneOffsetAt(Date.UTC(2024, 6, 1), 'America/New_York'), -240);
  });

  test('rejects impossible dates', () => {
    for (const bad of ['2011-02-30', '2011-13-01', 'yesterday', '2011-01-01 25:00', '']) {
      assert.equal(parseTimestamp(bad), undefined, bad);
    }
  });
});

describe("days a person types, in the store's zone", () => {
  test('--as-of / --to D ends at the local midnight after D; --from D starts at the local midnight of D', () => {
    // Seoul is +09:00 all year: the 26th ends at 15:00 UTC on the 26th.
    assert.equal(parseEndDateArgument('2025-06-26', 'Asia/Seoul'), Date.UTC(2025, 5, 26, 15));
    assert.equal(parseDateArgument('2025-06-26', 'Asia/Seoul'), Date.UTC(2025, 5, 25, 15));
    // New York: EDT (−04:00) in June, so the 26th ends at 04:00 UTC on the 27th.
    assert.equal(parseEndDateArgument('2025-06-26', 'America/New_York'), Date.UTC(2025, 5, 27, 4));
    // Across the spring change (9 March 2025, 02:00 EST → 03:00 EDT): the 8th ends at 05:00 UTC (EST),
    // the 9th, a 23-hour day, ends at 04:00 UTC on the 10th (EDT).
    assert.equal(parseEndDateArgument('2025-03-08', 'America/New_York'), Date.UTC(2025, 2, 9, 5));
    assert.equal(parseEndDateArgument('2025-03-09', 'America/New_York'), Date.UTC(2025, 2, 10, 4));
    // UTC, the default, as before; an instant with an offset is taken as it is in any zone.
    assert.equal(parseEndDateArgument('2025-06-26'), Date.UTC(2025, 5, 27));
    assert.equal(parseEndDateArgument('2025-06-26T12:00:00Z', 'Asia/Seoul'), Date.UTC(2025, 5, 26, 12));
    assert.equal(parseEndDateArgument('2025-02-30', 'Asia/Seoul'), undefined);
  });

  test('the local day of an instant, its end, and whether it is a local midnight', () => {
    const seoulOrder = Date.UTC(2025, 5, 26, 15, 42); // 00:42 on the 27th in Seoul
    assert.equal(dayInZone(seoulOrder, 'Asia/Seoul'), '2025-06-27');
    assert.equal(dayInZone(seoulOrder), '2025-06-26');
    assert.equal(dayEndInZone(seoulOrder, 'Asia/Seoul'), Date.UTC(2025, 5, 27, 15));
    assert.equal(dayEndInZone(seoulOrder), Date.UTC(2025, 5, 27));
    assert.equal(dayEndInZone(Date.UTC(2025, 2, 9, 12), 'America/New_York'), Date.UTC(2025, 2, 10, 4));
    assert.equal(isMidnightInZone(Date.UTC(2025, 5, 27, 15), 'Asia/Seoul'), true);
    assert.equal(isMidnightInZone(Date.UTC(2025, 5, 27), 'Asia/Seoul'), false);
    assert.equal(isMidnightInZone(Date.UTC(2025, 5, 27)), true);
    assert.equal(isMidnightInZone(Date.UTC(2025, 5, 27, 0, 0, 0, 1)), false);
  });
});
