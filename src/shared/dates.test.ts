import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatWithOffset, localDate, parseTimestamp, zoneOffsetAt } from './dates.js';

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
